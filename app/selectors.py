"""Selectors: every read of jobs, pages, batches, API keys and webhooks goes through here."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import (
    Coalesce,
    Greatest,
    Length,
    Replace,
    StrIndex,
    Substr,
    Upper,
)
from django.utils.html import format_html
from django.utils.safestring import SafeString
from PIL import Image

from app.errors import OcrError
from app.models import (
    ApiKey,
    Batch,
    CompatNumber,
    Job,
    JobStatus,
    Page,
    UploadSlot,
    WebhookEndpoint,
)
from app.pipeline import inputs
from app.pipeline.preprocess import apply_geometry
from app.pipeline.schema import Document, PageResult


def jobs_visible_to(user: Any) -> QuerySet[Job]:
    """Jobs ``user`` may list: staff see all, users their own, anonymous callers none."""
    qs = Job.objects.select_related("owner")
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.is_staff:
        return qs
    return qs.filter(owner=user)


def _reachable_by(user: Any) -> QuerySet[Job]:
    """Jobs ``user`` may open by id: as listed, plus anonymous jobs for anonymous
    callers (when anonymous OCR is on, the unguessable job id is the capability)."""
    if user is None or not user.is_authenticated:
        return Job.objects.filter(owner__isnull=True)
    return jobs_visible_to(user)


def job_get(*, user: Any, job_id: Any) -> Job:
    """The job ``job_id`` if ``user`` may see it; else ``OcrError("not_found")`` (404).

    Another user's job answers exactly like a job that does not exist.
    """
    try:
        return _reachable_by(user).get(pk=job_id)
    except (Job.DoesNotExist, ValueError, TypeError, ValidationError):  # also a malformed id
        raise OcrError("not_found", "No such job.", http_status=404) from None


def job_wait(*, job: Job, seconds: float) -> Job:
    """``job`` reloaded once it has finished, or after ``seconds`` (wall clock).

    Polls the status column (every 20 ms, growing to 250 ms); returns the reloaded
    job whether or not it finished (check ``job.is_finished``). Used by ``?wait``
    and by the compatibility APIs that answer synchronously (CLOVA, computervision).
    """
    deadline = time.monotonic() + seconds
    delay = 0.02
    while time.monotonic() < deadline:
        job.refresh_from_db(fields=["status"])
        if job.is_finished:
            break
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.25)
    job.refresh_from_db()
    return job


def job_pages(*, job: Job) -> QuerySet[Page]:
    """The job's stored pages in order."""
    return job.pages.order_by("number")


def job_page_get(*, job: Job, number: int) -> Page:
    """Page ``number`` (1-based) of ``job``; ``OcrError("not_found")`` if not stored yet."""
    page = job.pages.filter(number=number).first()
    if page is None:
        raise OcrError("not_found", f"Page {number} has no result (yet).", http_status=404)
    return page


def job_document(*, job: Job) -> Document | None:
    """The job's whole result in the schema (pages assembled from their rows), or None."""
    if not job.result:
        return None
    summary = job.result
    pages = [
        PageResult.from_dict(result)
        for result in job.pages.filter(result__isnull=False)
        .order_by("number")
        .values_list("result", flat=True)
    ]
    return Document(
        engine=summary.get("engine", job.engine),
        engine_version=summary.get("engine_version", ""),
        languages=list(summary.get("languages", job.language_list)),
        pages=pages,
        fields=summary.get("fields"),
        mrz=summary.get("mrz"),
    )


def job_page_images(*, job: Job) -> Callable[[int], Image.Image]:
    """A loader ``page number -> image`` of ``job``'s pages as the engine saw them.

    The pages' geometry is fetched in one query now; the stored upload is read
    once, on the first page loaded, however many pages are then loaded (the
    searchable PDF export loads them all). Each page is rendered again and its
    recorded geometry (EXIF orientation, a photo's perspective warp, ``rotation``,
    ``skew``, size) applied,
    so nothing but the original file needs to be kept. The loader raises
    ``OcrError("not_found")`` for a page with no row, before reading any file.
    """
    from django.conf import settings

    geometry = {
        number: (rotation, skew, (width, height) if width and height else None, corners)
        for number, rotation, skew, width, height, corners in job.pages.values_list(
            # A photographed page's warp (app/pipeline/photo.py), read out of the JSON.
            "number",
            "rotation",
            "skew",
            "width",
            "height",
            "result__photo__corners",
        )
    }
    source: list[bytes] = []  # the upload, once read

    def load(number: int) -> Image.Image:
        if number not in geometry:
            raise OcrError("not_found", f"Page {number} has no result (yet).", http_status=404)
        if not source:
            with job.file.open("rb") as fh:
                source.append(fh.read())
        rotation, skew, size, corners = geometry[number]
        loaded = inputs.load_page(
            source[0],
            job.content_type,
            number,
            max_pixels=settings.OCR_MAX_PIXELS,
            pdf_dpi=settings.OCR_PDF_DPI,
        )
        return apply_geometry(
            loaded.image, rotation=rotation, skew=skew, size=size, corners=corners or None
        )

    return load


def job_page_image(*, job: Job, number: int) -> Image.Image:
    """Page ``number`` of ``job`` as the engine saw it (see :func:`job_page_images`).

    Raises ``OcrError("not_found")`` before reading any file when the page has no row.
    """
    return job_page_images(job=job)(number)


def keys_of(user: Any) -> QuerySet[ApiKey]:
    """``user``'s unrevoked API keys, newest first (staff manage others' in the admin)."""
    if user is None or not user.is_authenticated:
        return ApiKey.objects.none()
    return ApiKey.objects.filter(owner=user, revoked=False).order_by("-created")


def key_get(*, user: Any, key_id: Any) -> ApiKey:
    """One of ``user``'s unrevoked keys by its public id (``uid``); another user's, a
    revoked or an unknown one -> ``OcrError("not_found")`` (404)."""
    key = keys_of(user).filter(uid=key_id).first()
    if key is None:
        raise OcrError("not_found", "No such API key.")
    return key


def key_of_token(*, owner_id: Any, prefix: str) -> ApiKey | None:
    """The unrevoked key with public ``prefix`` of user ``owner_id``, its owner loaded;
    None when there is none (a compatibility API's token names its key this way).
    Expiry and the owner's ``is_active`` are the caller's to check."""
    return (
        ApiKey.objects.select_related("owner")
        .filter(prefix=prefix, owner_id=owner_id, revoked=False)
        .first()
    )


def active_user(pk: Any) -> Any:
    """The active user with primary key ``pk``, or None."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=pk, is_active=True).first()


def upload_slot_get(*, owner: Any, slot_id: Any) -> UploadSlot:
    """``owner``'s upload slot ``slot_id`` (``services.uploads``); another user's or an
    unknown one -> ``OcrError("not_found")`` (404)."""
    try:
        slot = UploadSlot.objects.filter(pk=slot_id, owner=owner).first()
    except (ValueError, TypeError, ValidationError):
        slot = None
    if slot is None:
        raise OcrError("not_found", "No such upload.", http_status=404)
    return slot


def compat_job_get(*, owner: Any, job_id: Any, source: str) -> Job:
    """``owner``'s own job ``job_id`` that came through compatibility API ``source``.

    A key sees only its own user's jobs, and a compatibility API only its own: staff
    included (``job_get`` lets staff open every job), another source's job, another
    user's or an unknown or malformed id -> ``OcrError("not_found")`` (docs/compat.md).
    """
    try:
        job = Job.objects.filter(pk=job_id, owner=owner, source=source).first()
    except (ValueError, TypeError, ValidationError):
        job = None
    if job is None:
        raise OcrError("not_found", "No such job.", http_status=404)
    return job


def job_id_by_number(number: int) -> Any:
    """The id of the job whose integer number (``services.numbers``) is ``number``,
    or None. Whose job it is, is the caller's to check (``job_get``)."""
    return CompatNumber.objects.filter(pk=number).values_list("job_id", flat=True).first()


def batches_visible_to(user: Any) -> QuerySet[Batch]:
    """Batches ``user`` may list (staff: all; users: their own; anonymous: none), each
    annotated with its jobs' counts by status (``n_<status>``) and pages
    (``n_pages``, ``n_pages_done``)."""
    if user is None or not user.is_authenticated:
        return Batch.objects.none()
    qs = Batch.objects.select_related("owner").annotate(
        **{
            f"n_{status}": Count("jobs", filter=Q(jobs__status=status))
            for status in JobStatus.values
        },
        n_pages=Coalesce(Sum("jobs__page_count"), 0),
        n_pages_done=Coalesce(Sum("jobs__pages_done"), 0),
    )
    return qs if user.is_staff else qs.filter(owner=user)


def batch_get(*, user: Any, batch_id: Any) -> Batch:
    """A batch ``user`` may see (annotated as :func:`batches_visible_to`); another
    user's or an unknown one -> ``OcrError("not_found")`` (404)."""
    batch = batches_visible_to(user).filter(pk=batch_id).first()
    if batch is None:
        raise OcrError("not_found", "No such batch (or not yours).")
    return batch


def batch_jobs(*, batch: Batch) -> QuerySet[Job]:
    """A batch's jobs in submission order, without their text and result."""
    return batch.jobs.order_by("created_at", "id").defer("text", "result", "options")


def webhooks_of(user: Any) -> QuerySet[WebhookEndpoint]:
    """``user``'s webhook endpoints, oldest first (the first enabled one signs callbacks)."""
    if user is None or not user.is_authenticated:
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(owner=user).order_by("created_at", "id")


def webhook_get(*, user: Any, endpoint_id: Any) -> WebhookEndpoint:
    """One of ``user``'s endpoints by its public id; otherwise ``not_found`` (404)."""
    endpoint = webhooks_of(user).filter(uid=endpoint_id).first()
    if endpoint is None:
        raise OcrError("not_found", "No such webhook endpoint.")
    return endpoint


@dataclass(frozen=True)
class SearchMatch:
    """Where a history search found one job.

    ``name_html``: the file name, HTML-escaped, the match in ``<mark>``;
    ``snippet_html``: about ``width`` characters of the text around its first match,
    escaped, the match in ``<mark>`` ("" when only the name matched); ``page``: the
    page that match is on (1 for a one-page job, None without a text match).
    """

    name_html: SafeString
    snippet_html: SafeString
    page: int | None


def job_search_matches(
    *, job_ids: Iterable[Any], query: str, width: int = 80
) -> dict[Any, SearchMatch]:
    """For each of ``job_ids`` (already found by history's search, which looks for
    ``query`` in the name and the text case-insensitively), where ``query`` is.

    The database finds the first match in the text and hands back only a window
    around it (``StrIndex`` on the upper-cased text, as ``icontains`` compares), so
    a long document is not loaded to show one line; the page is counted from the
    form feeds before the match. Keyed by job id.
    """
    query = query.strip()
    ids = list(job_ids)
    if not query or not ids:
        return {}
    margin = width + len(query)
    rows = (
        Job.objects.filter(pk__in=ids)
        .annotate(match_at=StrIndex(Upper("text"), Upper(Value(query))))
        .annotate(
            window_at=Greatest(F("match_at") - margin, Value(1)),
            text_length=Length("text"),
        )
        .annotate(
            window=Substr("text", F("window_at"), 2 * margin + len(query)),
            breaks=Length(Substr("text", 1, F("match_at")))
            - Length(Replace(Substr("text", 1, F("match_at")), Value("\f"), Value(""))),
        )
        .values_list("pk", "filename", "match_at", "window", "window_at", "text_length", "breaks")
    )
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    out = {}
    for pk, filename, match_at, window, window_at, text_length, breaks in rows:
        snippet, page = SafeString(""), None
        found = pattern.search(window or "") if match_at else None
        if found:
            snippet = _snippet(
                window,
                found,
                width=width,
                more_before=window_at > 1,
                more_after=window_at - 1 + len(window) < text_length,
            )
            page = (breaks or 0) + 1
        out[pk] = SearchMatch(_marked(filename or "Untitled", pattern), snippet, page)
    return out


def _marked(text: str, pattern: re.Pattern[str]) -> SafeString:
    """``text`` escaped, its first match of ``pattern`` in ``<mark>``."""
    found = pattern.search(text)
    if not found:
        return format_html("{}", text)
    return format_html(
        "{}<mark>{}</mark>{}", text[: found.start()], found.group(), text[found.end() :]
    )


def _snippet(
    window: str, found: re.Match[str], *, width: int, more_before: bool, more_after: bool
) -> SafeString:
    """About ``width`` characters of ``window`` around ``found``, of the match's page
    only, cut at spaces, line breaks shown as spaces, an ellipsis where the page's
    text goes on (``more_before``/``more_after``: the text goes on past the window)."""
    page_at = window.rfind("\f", 0, found.start()) + 1
    page_end = window.find("\f", found.end())
    if page_end >= 0:
        window, more_after = window[:page_end], False
    if page_at:
        more_before = False
    room = max(width - len(found.group()), 0)
    start = max(found.start() - max(room // 2, room - (len(window) - found.end())), page_at)
    before = window[start : found.start()]
    after = window[found.end() : found.end() + room - len(before)]
    more_before = more_before or start > page_at
    more_after = more_after or found.end() + len(after) < len(window)
    if more_before and len(before.split(None, 1)) > 1:
        before = before.split(None, 1)[1]  # a cut first word
    if more_after and len(after.rsplit(None, 1)) > 1:
        after = after.rsplit(None, 1)[0]  # a cut last word
    before, after = before.lstrip(), after.rstrip()

    def flat(part: str) -> str:
        return re.sub(r"\s+", " ", part)

    return format_html(
        "{}{}<mark>{}</mark>{}{}",
        "\u2026" if more_before else "",
        flat(before),
        flat(found.group()),
        flat(after),
        "\u2026" if more_after else "",
    )
