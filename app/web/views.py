"""Browser pages: upload, job result, history, registration.

Views are thin: they check who is asking, call a selector or service and
render a template. The pages talk to the REST API from JavaScript (upload,
progress, delete) with the session cookie and CSRF token; everything they show
on first load is rendered here from the same selectors the API uses.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import FormView

from app import selectors, services
from app.api.serializers import JobRerunSerializer
from app.engines import registry
from app.errors import OcrError
from app.models import Job
from app.pipeline import langdetect
from app.throttles import LoginForm, answer_429_when_throttled
from app.web import batches, display
from app.web.forms import HistoryFilterForm, RegisterForm, rerun_request

HISTORY_PAGE_SIZE = 20


def _may_use_anonymously(request: HttpRequest) -> bool:
    """Signed in, or anonymous OCR is allowed (``OCR_ALLOW_ANONYMOUS``, as for the API)."""
    return request.user.is_authenticated or settings.OCR_ALLOW_ANONYMOUS


def _job_or_404(request: HttpRequest, job_id: Any) -> Job:
    try:
        return selectors.job_get(user=request.user, job_id=job_id)
    except OcrError:
        raise Http404("No such job.") from None


def _engines() -> list[dict[str, Any]]:
    """The engines as ``/api/engines/`` reports them, with labelled languages."""
    out = []
    for info in registry.all_engine_info():
        out.append(
            {
                "name": info.name,
                "title": info.title,
                "kind": info.kind,
                "available": info.available,
                "version": info.version,
                "default": info.name == settings.OCR_DEFAULT_ENGINE,
                "languages": _detect_choice(info)
                + sorted(
                    (
                        {"code": code, "name": display.language_label(code)}
                        for code in info.languages
                        if code not in display.HIDDEN_LANGUAGES
                    ),
                    key=lambda lang: lang["name"],
                ),
            }
        )
    return out


def _detect_choice(info: Any) -> list[dict[str, str]]:
    """``languages=auto`` as the first language chip of a local engine that reads
    languages (docs/languages-auto.md); it excludes the other chips (static/js/upload.js)."""
    if info.kind != "local" or not info.languages:
        return []
    return [{"code": langdetect.AUTO, "name": "Detect automatically"}]


def upload(request: HttpRequest) -> HttpResponse:
    """The upload page (site root): drop files, pick languages and engine, watch them run."""
    if not _may_use_anonymously(request):
        return redirect_to_login(request.get_full_path())
    return render(
        request,
        "web/upload.html",
        {
            "engines": _engines(),
            "default_engine": settings.OCR_DEFAULT_ENGINE,
            "default_languages": settings.OCR_DEFAULT_LANGUAGES.split("+"),
            "max_upload_bytes": settings.OCR_MAX_UPLOAD_BYTES,
            # Two or more files go as one batch, which needs a signed-in owner.
            "batch_limits": {
                "items": settings.OCR_MAX_BATCH_ITEMS,
                "bytes": settings.OCR_MAX_BATCH_BYTES,
            }
            if request.user.is_authenticated
            else None,
            "error_messages": display.ERROR_MESSAGES,
        },
    )


def job_detail(request: HttpRequest, job_id: Any) -> HttpResponse:
    """A job's result: page image with word boxes, text, page navigation, downloads."""
    if not _may_use_anonymously(request):
        return redirect_to_login(request.get_full_path())
    job = _job_or_404(request, job_id)
    pages = list(selectors.job_pages(job=job))
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    page = next((p for p in pages if p.number == number), pages[0] if pages else None)
    return render(
        request,
        "web/job.html",
        {
            "job": job,
            "pages": pages,
            "page": page,
            "prev_page": _neighbour(pages, page, -1),
            "next_page": _neighbour(pages, page, +1),
            "words": display.word_boxes(page.result if page else None),
            "image_url": display.page_image_url(job.id, page.number) if page else "",
            "exports": display.export_links(job.id) if job.status == "done" else [],
            "languages": [display.language_label(c) for c in job.language_list],
            "duration": display.human_duration(job.duration),
            "error_text": display.error_text(job.error_code),
            "can_delete": request.user.is_authenticated,
            "can_cancel": not job.is_finished,
            "rerun": _rerun_choices(job) if job.is_finished else None,
            "batch": job.batch if job.batch_id and request.user.is_authenticated else None,
        },
    )


#: Page segmentation modes offered by "Run again" (``""``: the engine's default).
PSM_CHOICES = [
    ("", "Default (automatic)"),
    ("1", "1 · automatic, with orientation"),
    ("4", "4 · one column"),
    ("6", "6 · one block of text"),
    ("7", "7 · one line"),
    ("8", "8 · one word"),
    ("11", "11 · sparse text"),
    ("13", "13 · raw line"),
]


def _rerun_choices(job: Job) -> dict[str, Any]:
    """What the "Run again" form offers: engines, the job's engine's languages, modes."""
    engines = _engines()
    current = next((e for e in engines if e["name"] == job.engine), None)
    options = job.options or {}
    psm = options.get("psm")
    return {
        "engines": engines,
        "languages": current["languages"] if current else [],
        "chosen": set(job.language_list),
        "psm_choices": PSM_CHOICES,
        "psm": "" if psm is None else str(psm),
        "pages": options.get("pages") or "",
    }


def _neighbour(pages: list[Any], page: Any, step: int) -> Any:
    if page is None:
        return None
    index = pages.index(page) + step
    return pages[index] if 0 <= index < len(pages) else None


@login_required
def history(request: HttpRequest) -> HttpResponse:
    """The signed-in user's jobs: search, filters by status and date, pagination.

    ``?view=batches`` shows the user's batches instead (``batches.batch_list``); a job
    that belongs to a batch links to it.
    """
    if request.GET.get("view") == "batches":
        return batches.batch_list(request)
    form = HistoryFilterForm(request.GET or None)
    jobs = selectors.jobs_visible_to(request.user).filter(owner=request.user)
    jobs = form.apply(jobs) if form.is_bound else jobs
    jobs = jobs.select_related("batch").defer("text", "result", "options", "metadata")
    paginator = Paginator(jobs, HISTORY_PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [
        {
            "job": job,
            "thumb": display.page_image_url(job.id, 1, max_width=160) if job.pages_done else "",
            "languages": ", ".join(display.language_label(c) for c in job.language_list),
            "duration": display.human_duration(job.duration),
        }
        for job in page_obj
    ]
    return render(
        request,
        "web/history.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page_obj,
            "query": query.urlencode(),
            "filtered": form.is_bound and form.is_filtered,
            "tab": "jobs",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def job_delete(request: HttpRequest, job_id: Any) -> HttpResponse:
    """GET asks for confirmation; POST deletes the job, its pages and its stored file."""
    job = _job_or_404(request, job_id)
    if request.method == "POST":
        name = job.filename or str(job.id)
        services.job_delete(job=job)
        messages.success(request, f"Deleted \u201c{name}\u201d.")
        return redirect(reverse("web-history"))
    return render(request, "web/job_delete.html", {"job": job})


@require_POST
def job_cancel(request: HttpRequest, job_id: Any) -> HttpResponse:
    """POST cancels an unfinished job (``services.job_cancel``), then shows the job."""
    if not _may_use_anonymously(request):
        return redirect_to_login(reverse("web-job", args=[job_id]))
    job = _job_or_404(request, job_id)
    try:
        services.job_cancel(job=job)
    except OcrError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(request, f"Canceled \u201c{job.filename or job.id}\u201d.")
    return redirect(reverse("web-job", args=[job.pk]))


@require_POST
def job_rerun(request: HttpRequest, job_id: Any) -> HttpResponse:
    """POST runs a finished job again with the form's options (``services.job_rerun``).

    The options are checked by the API's submission serializer and the submission's
    service checks; a refused option is shown as a message and nothing changes.
    """
    if not _may_use_anonymously(request):
        return redirect_to_login(reverse("web-job", args=[job_id]))
    job = _job_or_404(request, job_id)
    data = rerun_request(request.POST)
    serializer = JobRerunSerializer(data=data)
    if not serializer.is_valid():
        field, problems = next(iter(serializer.errors.items()))
        messages.error(request, f"Not run again: {field}: {' '.join(map(str, problems))}")
        return redirect(reverse("web-job", args=[job.pk]))
    given = {k: v for k, v in serializer.validated_data.items() if k in data}
    languages = given.pop("languages", None)
    try:
        services.job_rerun(
            job=job,
            engine=given.pop("engine", None),
            languages=tuple(languages.split("+")) if languages else None,
            option_changes=given,
            only_finished=True,
        )
    except OcrError as exc:
        messages.error(request, f"Not run again: {exc.message}")
    else:
        messages.success(request, f"\u201c{job.filename or job.id}\u201d is running again.")
    return redirect(reverse("web-job", args=[job.pk]))


class RegisterView(FormView):
    """Create an account (same accounts as the API), then sign in and go to the upload page."""

    template_name = "registration/register.html"
    form_class = RegisterForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect(settings.LOGIN_REDIRECT_URL)
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: RegisterForm) -> HttpResponse:
        user = form.save()
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(self.request, f"Welcome, {user.get_username()}.")
        return redirect(settings.LOGIN_REDIRECT_URL)


#: ``/accounts/login/``: Django's LoginView with the sign-in limits (app/throttles.py);
#: a refused attempt shows the form with the reason and answers 429 with Retry-After.
login_view = answer_429_when_throttled(LoginView.as_view(authentication_form=LoginForm))
