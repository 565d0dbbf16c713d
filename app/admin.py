"""Admin console: review every job with its image and boxes, re-run, cancel, delete; API keys.

Reads go through the ORM as the admin needs them; the writes that matter
(re-run, cancel, delete with the stored file) call :mod:`app.services`, so the
admin, the web pages and the API behave the same.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from app import services
from app.errors import OcrError
from app.models import ApiKey, Job, JobStatus, Page, WebhookDelivery, WebhookEndpoint
from app.web import display

admin.site.site_header = "onlineocr administration"
admin.site.site_title = "onlineocr admin"
admin.site.index_title = "Jobs, pages and accounts"
admin.site.enable_nav_sidebar = False

User = get_user_model()


#: The preview's page links: every page up to this many, else a window around the current one.
PAGER_ALL = 15


def _page_window(numbers: list[int], current: int) -> list[int | None]:
    """Page numbers to link from the preview, ``None`` for an elided run (``1 … 7 8 9 … 40``)."""
    if len(numbers) <= PAGER_ALL:
        return list(numbers)
    index = numbers.index(current)
    keep = {0, len(numbers) - 1, *range(max(0, index - 2), min(len(numbers), index + 3))}
    window: list[int | None] = []
    for i, number in enumerate(numbers):
        if i in keep:
            window.append(number)
        elif window and window[-1] is not None:
            window.append(None)
    return window


def _requested_page(request: HttpRequest, numbers: list[int]) -> int | None:
    """The page the preview shows: ``?page=N`` when the job has it, else the first page."""
    if not numbers:
        return None
    try:
        wanted = int(request.GET.get("page", ""))
    except ValueError:
        return numbers[0]
    return wanted if wanted in numbers else numbers[0]


def _excerpt(text: str, limit: int = 110) -> str:
    """The text on one line, cut at ``limit`` characters (the summary of a page's text)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + "\u2026"


def _page_texts(job: Job, pages: list[Page]) -> list[dict[str, Any]]:
    """One entry per page for the collapsed "Text by page" list.

    From the page rows; a job stored without page rows (older results) has its text
    split at the form feeds that separate pages, which are never shown as such.
    """
    if not pages and job.text:
        pages = [
            Page(number=i, text=part, status=JobStatus.DONE)
            for i, part in enumerate(job.text.split("\f"), start=1)
        ]
    rows = []
    for page in pages:
        text = page.text.replace("\f", "\n").strip("\n")
        rows.append(
            {
                "number": page.number,
                "status": page.status,
                "status_label": page.get_status_display(),
                "text": text,
                "excerpt": _excerpt(text),
                "words": len(text.split()),
                "confidence": page.confidence,
                "duration": display.human_duration(page.duration),
                "size": f"{page.width} \u00d7 {page.height} px" if page.width else "",
                "rotation": page.rotation,
                "skew": round(page.skew, 1) if page.skew else 0,
                "error": page.error_message or display.error_text(page.error_code),
            }
        )
    return rows


def _page_tasks(job: Job) -> list[dict[str, Any]]:
    """The job's page tasks with their run time in words (the collapsed "Page tasks" table)."""
    rows = []
    for task in job.page_tasks.order_by("number"):
        took = None
        if task.started_at and task.finished_at:
            took = (task.finished_at - task.started_at).total_seconds()
        rows.append({"task": task, "duration": display.human_duration(took)})
    return rows


def _pretty_json(value: Any, limit: int = 20_000) -> str:
    """``value`` as indented JSON, cut at ``limit`` characters (a stored result can be large)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "\n\u2026 (cut; the API has all of it)"


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Jobs: list, filters, search (name, text, id); a read-only review page; actions.

    The list keeps Django's changelist (filters, search, date drill-down, bulk re-run
    and delete). A job's own page is a review page, not a form
    (``templates/admin/ocr/job/change_form.html``): the page image with its word
    boxes, the job's facts, the text of each page collapsed, and the actions
    (re-run, cancel, delete) that call the same :mod:`app.services` functions as the
    web pages and the API. Nothing on it is edited, so it has no Save button: the
    object-level change permission is refused (Django then shows a view-only page
    and answers 403 to a POST), while the model-level one still grants the actions.
    """

    list_display = (
        "thumbnail",
        "display_name",
        "owner",
        "status_badge",
        "engine",
        "languages",
        "pages",
        "duration_display",
        "created_at",
    )
    # The name only: a linked thumbnail (alt="") would be a second, nameless tab stop
    # to the same page on every row.
    list_display_links = ("display_name",)
    list_filter = (
        "status",
        "engine",
        "source",
        ("owner", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    search_fields = ("filename", "text")
    search_help_text = "Search the file name, the recognised text, or paste a job id."
    date_hierarchy = "created_at"
    list_per_page = 50
    list_select_related = ("owner",)
    actions = ("rerun_jobs",)
    change_form_template = "admin/ocr/job/change_form.html"
    # The review page lays the job out itself; the form Django builds is never shown.
    fields = ("filename",)

    class Media:
        css = {"all": ("css/admin.css",)}

    # ---- permissions: jobs are made by uploads and changed by services only
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Model level: may use the actions (re-run, cancel). A job itself: never a form."""
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def may_act(self, request: HttpRequest) -> bool:
        """Whether ``request``'s user may re-run and cancel jobs (the model's change permission)."""
        return super().has_change_permission(request)

    # ---- list columns
    @admin.display(description="")
    def thumbnail(self, job: Job) -> SafeString:
        if not job.pages_done:
            label = "PDF" if job.content_type == "application/pdf" else "IMG"
            return format_html('<span class="ocr-thumb ocr-thumb-empty">{}</span>', label)
        return format_html(
            '<img class="ocr-thumb" src="{}" alt="" loading="lazy" width="40" height="52">',
            display.page_image_url(job.id, 1, max_width=120),
        )

    @admin.display(description="original name", ordering="filename")
    def display_name(self, job: Job) -> str:
        return job.filename or str(job.id)

    @admin.display(description="status", ordering="status")
    def status_badge(self, job: Job) -> SafeString:
        return format_html(
            '<span class="ocr-badge ocr-{}">{}</span>', job.status, job.get_status_display()
        )

    @admin.display(description="pages", ordering="page_count")
    def pages(self, job: Job) -> str:
        if job.status == "processing":
            return f"{job.pages_done}/{job.page_count}"
        return str(job.page_count)

    @admin.display(description="duration", ordering="duration")
    def duration_display(self, job: Job) -> str:
        return display.human_duration(job.duration) or "\u2013"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Django's list, titled "Jobs" (a job opens as a review page, not a form to change)."""
        return super().changelist_view(request, {"title": "Jobs", **(extra_context or {})})

    # ---- the review page
    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """Django's (view-only) change view with the review page's context added."""
        job = self.get_object(request, unquote(object_id))
        if job is not None and request.method == "GET":
            extra_context = {**(extra_context or {}), **self.review_context(request, job)}
        return super().change_view(request, object_id, form_url, extra_context)

    def review_context(self, request: HttpRequest, job: Job) -> dict[str, Any]:
        """What the review page shows of ``job``: preview, facts, texts, tasks, actions."""
        pages = list(job.pages.order_by("number").defer("result", "raw_response"))
        viewable = [p.number for p in pages if p.width and p.height]
        current = _requested_page(request, viewable)
        preview = None
        if current is not None:
            page = job.pages.get(number=current)
            preview = {
                "page": page,
                "words": display.word_boxes(page.result),
                "image_url": display.page_image_url(job.id, page.number),
                "duration": display.human_duration(page.duration),
                "window": _page_window(viewable, current),
                "previous": next((n for n in reversed(viewable) if n < current), None),
                "next": next((n for n in viewable if n > current), None),
                "count": len(viewable),
            }
        owner_jobs = ""
        if job.owner_id is not None:
            owner_jobs = reverse("admin:ocr_job_changelist") + f"?owner__id__exact={job.owner_id}"
        return {
            "title": "Review job",
            "preview": preview,
            "page_texts": _page_texts(job, pages),
            "page_tasks": _page_tasks(job),
            "duration": display.human_duration(job.duration),
            "language_labels": [display.language_label(code) for code in job.language_list],
            "error_meaning": display.error_text(job.error_code),
            "owner_jobs_url": owner_jobs,
            "exports": display.export_links(job.id) if job.status == JobStatus.DONE else [],
            "may_act": self.may_act(request),
            "may_delete": self.has_delete_permission(request, job),
            "options_json": _pretty_json(job.options or {}),
            "metadata_json": _pretty_json(job.metadata or {}),
            "result_json": _pretty_json(job.result) if job.result else "",
        }

    # ---- search by job id as well
    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Job], search_term: str
    ) -> tuple[QuerySet[Job], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            job_id = uuid.UUID(search_term.strip())
        except ValueError:
            return results, may_have_duplicates
        return results | queryset.filter(pk=job_id), may_have_duplicates

    # ---- writes through services
    @admin.action(description="Re-run selected jobs", permissions=["change"])
    def rerun_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        count = 0
        for job in queryset:
            services.job_rerun(job=job)
            count += 1
        self.message_user(
            request, f"Queued {count} job{'s' if count != 1 else ''} again.", messages.SUCCESS
        )

    def delete_model(self, request: HttpRequest, obj: Job) -> None:
        services.job_delete(job=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        for job in queryset:
            services.job_delete(job=job)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            func, name, _ = actions["delete_selected"]
            actions["delete_selected"] = (func, name, "Delete selected jobs and their stored files")
        return actions

    def get_urls(self) -> list[Any]:
        rerun = self.admin_site.admin_view(require_POST(self.rerun_view))
        cancel = self.admin_site.admin_view(require_POST(self.cancel_view))
        return [
            path("<uuid:job_id>/rerun/", rerun, name="ocr_job_rerun"),
            path("<uuid:job_id>/cancel/", cancel, name="ocr_job_cancel"),
            *super().get_urls(),
        ]

    def rerun_view(self, request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
        """POST from the review page's "Re-run OCR": :func:`app.services.job_rerun`.

        Any job runs again, also one that has not ended (a job stuck after a lost
        worker); the page tasks still running from before store nothing.
        """
        job = get_object_or_404(Job, pk=job_id)
        if not self.may_act(request):
            raise PermissionDenied
        services.job_rerun(job=job)
        self.message_user(request, f"“{job.filename or job.id}” is queued again.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:ocr_job_change", args=[job.pk]))

    def cancel_view(self, request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
        """POST from the review page's "Cancel job": :func:`app.services.job_cancel`."""
        job = get_object_or_404(Job, pk=job_id)
        if not self.may_act(request):
            raise PermissionDenied
        try:
            services.job_cancel(job=job)
        except OcrError as exc:
            self.message_user(request, exc.message, messages.WARNING)
        else:
            name = job.filename or job.id
            self.message_user(request, f"Canceled “{name}”.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:ocr_job_change", args=[job.pk]))


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users with how many jobs each has and a link to them."""

    list_display = (*BaseUserAdmin.list_display, "job_count")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(_job_count=Count("ocr_jobs"))

    @admin.display(description="jobs", ordering="_job_count")
    def job_count(self, user: Any) -> SafeString:
        url = reverse("admin:ocr_job_changelist") + f"?owner__id__exact={user.pk}"
        return format_html(
            '<a href="{}">{} job{}</a>', url, user._job_count, "" if user._job_count == 1 else "s"
        )


# The library's own APIKey model is not used (app.models.ApiKey has an owner).
admin.site.unregister(APIKey)


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    """Everyone's API keys: owner, name, prefix, dates; staff revoke them here.

    A key made here is shown once, in the message after saving (the library's
    ``APIKeyModelAdmin``); the key itself is never stored, only its hash.
    """

    list_display = (
        "prefix",
        "name",
        "owner",
        "created",
        "last_used_at",
        "expiry_date",
        "_has_expired",
        "revoked",
    )
    list_filter = ("revoked", "created", "expiry_date")
    search_fields = ("name", "prefix", "owner__username")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    actions = ("revoke",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = (*super().get_readonly_fields(request, obj), "last_used_at")
        return (*fields, "owner") if obj is not None else fields

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for key in queryset.filter(revoked=False):
            services.key_revoke(key=key)
            count += 1
        self.message_user(
            request, f"{count} API key{'' if count == 1 else 's'} revoked.", messages.SUCCESS
        )


class WebhookDeliveryInline(admin.TabularInline):
    """The endpoint's latest deliveries (read-only)."""

    model = WebhookDelivery
    extra = 0
    can_delete = False
    max_num = 0
    fields = (
        "created_at",
        "event",
        "url",
        "status",
        "attempts",
        "last_status_code",
        "last_latency_ms",
        "last_response",
    )
    readonly_fields = fields
    ordering = ("-created_at",)
    show_change_link = False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Everyone's webhook endpoints with their delivery logs; send a test event."""

    list_display = ("url", "owner", "enabled", "event_list", "created_at")
    list_filter = ("enabled",)
    search_fields = ("url", "owner__username")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("uid", "created_at")
    exclude = ("secret",)
    inlines = (WebhookDeliveryInline,)
    actions = ("send_test",)

    @admin.display(description="events")
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    @admin.action(description="Send a test event")
    def send_test(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        from app.services.webhooks import endpoint_send_test

        count = 0
        for endpoint in queryset:
            endpoint_send_test(endpoint=endpoint)
            count += 1
        self.message_user(request, f"Sent {count} test event{'' if count == 1 else 's'}.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Every delivery (read-only): what was sent where, and how it went."""

    list_display = ("created_at", "event", "url", "status", "attempts", "last_status_code")
    list_filter = ("status", "event")
    search_fields = ("url", "message_id", "endpoint__owner__username")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
