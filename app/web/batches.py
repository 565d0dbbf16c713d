"""Batches in the browser: the list (``/history/?view=batches``), a batch's page
(``/batches/<id>/``) with its jobs, progress, zip downloads, Cancel and Delete.

Batches need a signed-in owner (the API takes them from signed-in callers only), so
every view here asks for a sign-in. Reads go through ``selectors.batch_get`` /
``batches_visible_to`` (another user's batch is a 404) and writes through
``services.batches``; the page's script polls ``GET /api/batches/{id}/`` while the
batch runs.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from app import selectors
from app.errors import OcrError
from app.models import Batch, Job, JobStatus
from app.services import batches as batch_services
from app.web import display
from app.web.forms import BatchFilterForm

BATCH_LIST_PAGE_SIZE = 20
#: Jobs shown per page of a batch's page (a batch holds up to ``OCR_MAX_BATCH_ITEMS``).
BATCH_JOBS_PAGE_SIZE = 100


def _batch_or_404(request: HttpRequest, batch_id: Any) -> Batch:
    try:
        return selectors.batch_get(user=request.user, batch_id=batch_id)
    except OcrError:
        raise Http404("No such batch.") from None


def batch_title(batch: Batch) -> str:
    """``"Batch of 3 documents"``."""
    n = batch.job_count
    return f"Batch of {n} document{'' if n == 1 else 's'}"


def _counts(batch: Batch) -> list[dict[str, Any]]:
    """The batch's jobs by status (from the selector's ``n_<status>`` annotations)."""
    return [
        {"status": value, "label": label, "count": getattr(batch, f"n_{value}", 0)}
        for value, label in JobStatus.choices
    ]


def _percent(done: int, total: int) -> int:
    return round(100 * done / total) if total else 0


def batch_list(request: HttpRequest) -> HttpResponse:
    """The signed-in user's batches (history's "Batches" tab), newest first, filtered.

    Called by ``views.history`` for ``?view=batches`` (which has checked the sign-in),
    so the main navigation keeps "History" marked.
    """
    form = BatchFilterForm(request.GET or None)
    first_name = Subquery(
        Job.objects.filter(batch=OuterRef("pk")).order_by("created_at", "id").values("filename")[:1]
    )
    batches = (
        selectors.batches_visible_to(request.user)
        .filter(owner=request.user)
        .annotate(first_name=first_name)
        .order_by("-created_at")
    )
    filtered = False
    if form.is_bound:
        batches = form.apply(batches)
        filtered = form.is_filtered
    page_obj = Paginator(batches, BATCH_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [
        {
            "batch": batch,
            "title": batch_title(batch),
            "finished": batch.n_done + batch.n_failed + batch.n_canceled,
            "percent": _percent(batch.n_pages_done, batch.n_pages),
            "others": max(0, batch.job_count - 1),
            "engine_label": display.engine_label(batch.engine),
            "languages": ", ".join(
                display.language_label(c) for c in batch.languages.split("+") if c
            ),
        }
        for batch in page_obj
    ]
    return render(
        request,
        "web/batches.html",
        {
            "form": form,
            "rows": rows,
            "page_obj": page_obj,
            "query": query.urlencode(),
            "filtered": filtered,
            "tab": "batches",
        },
    )


@login_required
def batches_index(request: HttpRequest) -> HttpResponse:
    """``/batches/``: the list lives in history's "Batches" tab."""
    return redirect(reverse("web-history") + "?view=batches")


@login_required
def batch_detail(request: HttpRequest, batch_id: Any) -> HttpResponse:
    """A batch: status, counts by status, pages, live progress, its jobs, zip downloads."""
    batch = _batch_or_404(request, batch_id)
    page_obj = Paginator(selectors.batch_jobs(batch=batch), BATCH_JOBS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "job": job,
            "number": page_obj.start_index() + i,
            "duration": display.human_duration(job.duration),
            "error_text": display.error_text(job.error_code) if job.error_code else "",
        }
        for i, job in enumerate(page_obj)
    ]
    finished = batch.n_done + batch.n_failed + batch.n_canceled
    took = (
        display.human_duration((batch.finished_at - batch.created_at).total_seconds())
        if batch.finished_at
        else ""
    )
    return render(
        request,
        "web/batch.html",
        {
            "batch": batch,
            "title": batch_title(batch),
            "counts": _counts(batch),
            "finished": finished,
            "percent": _percent(batch.n_pages_done, batch.n_pages),
            "rows": rows,
            "page_obj": page_obj,
            "languages": [display.language_label(c) for c in batch.languages.split("+") if c],
            "engine_label": display.engine_label(batch.engine),
            "took": took,
            "exports": display.batch_export_links(batch.id) if batch.n_done else [],
            "can_cancel": not batch.is_finished,
        },
    )


@login_required
@require_POST
def batch_cancel(request: HttpRequest, batch_id: Any) -> HttpResponse:
    """POST cancels an unfinished batch (its unfinished jobs; done ones stay done)."""
    batch = _batch_or_404(request, batch_id)
    try:
        batch_services.batch_cancel(batch=batch)
    except OcrError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(request, f"Canceled the {batch_title(batch).lower()}.")
    return redirect(reverse("web-batch", args=[batch.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def batch_delete(request: HttpRequest, batch_id: Any) -> HttpResponse:
    """GET asks for confirmation; POST deletes the batch, its jobs and their files."""
    batch = _batch_or_404(request, batch_id)
    if request.method == "POST":
        title = batch_title(batch).lower()
        batch_services.batch_delete(batch=batch)
        messages.success(request, f"Deleted the {title} and its results.")
        return redirect(reverse("web-history") + "?view=batches")
    return render(request, "web/batch_delete.html", {"batch": batch, "title": batch_title(batch)})
