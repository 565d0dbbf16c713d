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
from django.core.exceptions import BadRequest
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
from app.web.forms import BulkDeleteForm, HistoryFilterForm, RegisterForm, rerun_request

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
    """The upload page (site root): drop files, pick languages and engine, watch them run.

    The engine menu offers only the engines that can run now (an unconfigured cloud
    engine is left out); the default is ``OCR_DEFAULT_ENGINE`` when it is one of them.
    """
    if not _may_use_anonymously(request):
        return redirect_to_login(request.get_full_path())
    usable = [engine for engine in _engines() if engine["available"]]
    names = [engine["name"] for engine in usable]
    default_engine = settings.OCR_DEFAULT_ENGINE
    if default_engine not in names:
        default_engine = names[0] if names else ""
    return render(
        request,
        "web/upload.html",
        {
            "engines": usable,
            "default_engine": default_engine,
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
    """A job's result: the page viewer (image, word boxes, linked text), thumbnails,
    key-value fields, downloads; a failed job says what failed and on which page."""
    if not _may_use_anonymously(request):
        return redirect_to_login(request.get_full_path())
    job = _job_or_404(request, job_id)
    stored = list(selectors.job_pages(job=job))
    pages = [p for p in stored if p.status == "done" and p.result]
    failed = [p for p in stored if p.status == "failed"]
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    page = next((p for p in pages if p.number == number), pages[0] if pages else None)
    result = page.result if page else None
    return render(
        request,
        "web/job.html",
        {
            "job": job,
            "pages": pages,
            "page": page,
            "prev_page": _neighbour(pages, page, -1),
            "next_page": _neighbour(pages, page, +1),
            "words": display.word_boxes(result),
            "text_blocks": display.text_blocks(result),
            "page_texts": [{"number": p.number, "text": p.text} for p in pages],
            "mrz": (result or {}).get("mrz"),
            "mrz_rows": display.mrz_rows((result or {}).get("mrz")),
            "mrz_box": display.mrz_box((result or {}).get("mrz")),
            "field_rows": display.field_rows((result or {}).get("fields")),
            "thumbs": _thumbs(job, pages, failed, page),
            "failure": _failure(job, pages, failed),
            "image_url": display.page_image_url(job.id, page.number) if page else "",
            "exports": display.export_links(job.id) if job.status == "done" else [],
            "languages": display.job_languages(job.language_list, [p.result for p in pages]),
            "engine_label": display.engine_label(job.engine),
            "duration": display.human_duration(job.duration),
            "error_text": display.error_text(job.error_code),
            "can_delete": request.user.is_authenticated,
            "can_cancel": not job.is_finished,
            "rerun": _rerun_choices(job) if job.is_finished else None,
            "batch": job.batch if job.batch_id and request.user.is_authenticated else None,
        },
    )


def _thumbs(job: Job, pages: list[Any], failed: list[Any], current: Any) -> list[dict[str, Any]]:
    """One tile per page of a multi-page job: done (a thumbnail), failed or waiting."""
    if job.page_count <= 1 and len(pages) <= 1:
        return []
    done = {p.number: p for p in pages}
    failed_numbers = {p.number for p in failed}
    count = max([job.page_count, *done, *failed_numbers])
    return [
        {
            "number": n,
            "state": "done"
            if n in done
            else "failed"
            if n in failed_numbers
            else "skipped"
            if job.is_finished
            else "waiting",
            "url": display.page_image_url(job.id, n, max_width=160) if n in done else "",
            "current": current is not None and current.number == n,
        }
        for n in range(1, count + 1)
    ]


def _failure(job: Job, pages: list[Any], failed: list[Any]) -> dict[str, Any] | None:
    """What a failed job's card says: the page(s), the reason in words, what was kept."""
    if job.status != "failed":
        return None
    detail = display.plain_message(job.error_message)
    message = display.error_text(job.error_code)
    return {
        "message": message or "The document could not be read.",
        "detail": "" if detail.rstrip(".") in message else detail,
        "pages": display.page_list([p.number for p in failed]),
        "kept": display.page_list([p.number for p in pages]),
        # Uploading again helps when the file itself is the trouble, not a time limit
        # or a provider's answer.
        "file_problem": job.error_code in FILE_PROBLEM_CODES or not job.error_code,
    }


#: Error codes (docs/errors.md) that point at the uploaded file itself.
FILE_PROBLEM_CODES = frozenset(
    {"invalid_image", "invalid_pdf", "unsupported_format", "encrypted_pdf", "engine_crash"}
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
        "rotate": options.get("rotate") or "",
        "deskew": options.get("deskew"),
        "clean": options.get("clean"),
    }


def _neighbour(pages: list[Any], page: Any, step: int) -> Any:
    if page is None:
        return None
    index = pages.index(page) + step
    return pages[index] if 0 <= index < len(pages) else None


@login_required
def history(request: HttpRequest) -> HttpResponse:
    """The signed-in user's jobs: search (with where it matched), filters by status,
    engine and date, sorting by column, pagination, bulk delete.

    ``?view=batches`` shows the user's batches instead (``batches.batch_list``); a job
    that belongs to a batch links to it.
    """
    if request.GET.get("view") == "batches":
        return batches.batch_list(request)
    own = selectors.jobs_visible_to(request.user).filter(owner=request.user)
    titles = {engine["name"]: engine["title"] for engine in _engines()}
    used = own.order_by().values_list("engine", flat=True).distinct()
    engines = sorted(((name, titles.get(name, name)) for name in used), key=lambda e: e[1])
    form = HistoryFilterForm(request.GET or None, engines=engines)
    jobs = form.apply(own).select_related("batch")
    jobs = jobs.defer("text", "result", "options", "metadata")
    paginator = Paginator(jobs, HISTORY_PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    searched = form.cleaned_data.get("q", "") if form.is_bound else ""
    matches = selectors.job_search_matches(job_ids=[j.id for j in page_obj], query=searched)
    rows = [
        {
            "job": job,
            "thumb": display.page_image_url(job.id, 1, max_width=160) if job.pages_done else "",
            "languages": ", ".join(display.language_label(c) for c in job.language_list),
            "duration": display.human_duration(job.duration),
            "engine": titles.get(job.engine, job.engine),
            "match": matches.get(job.id),
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
            "sorts": form.sort_links(query),
            "tab": "jobs",
        },
    )


@login_required
@require_POST
def history_delete(request: HttpRequest) -> HttpResponse:
    """POST "Delete selected" from history: the signed-in user's own jobs among ``ids``.

    Without ``confirm=yes`` (the page's dialog sends it) it asks first, on a page of
    its own. Ids that are stale, malformed or another user's are not deleted and are
    counted as not found (never a 500); then back to the list as it was filtered.
    """
    form = BulkDeleteForm(request.POST)
    if not form.is_valid():
        raise BadRequest(" ".join(form.non_field_errors()) or "Bad request.")
    back = reverse("web-history") + (f"?{form.back_query}" if form.back_query else "")
    own = selectors.jobs_visible_to(request.user).filter(owner=request.user)
    jobs = list(own.filter(pk__in=form.ids).defer("text", "result", "options", "metadata"))
    gone = len(form.ids) - len(jobs)
    if not form.ids:
        messages.info(request, "Select the jobs to delete first.")
        return redirect(back)
    if not form.confirmed:
        return render(
            request,
            "web/history_delete.html",
            {"jobs": jobs, "gone": gone, "back": back, "next": form.back_query},
        )
    for job in jobs:
        services.job_delete(job=job)
    if len(jobs) == 1:
        messages.success(request, f"Deleted \u201c{jobs[0].filename or jobs[0].id}\u201d.")
    elif jobs:
        messages.success(request, f"Deleted {len(jobs)} jobs.")
    if gone:
        messages.info(
            request,
            f"{gone} of the selected jobs {'was' if gone == 1 else 'were'} not found "
            "(already deleted?).",
        )
    return redirect(back)


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


#: Preprocessing options of the "Run again" form (``null`` resets one to the default).
RERUN_PREPROCESSING = ("rotate", "deskew", "clean")


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
    for name in RERUN_PREPROCESSING:  # the form's preprocessing choices ("": keep the job's)
        if request.POST.get(name):
            data[name] = request.POST[name]
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
