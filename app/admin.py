"""Admin console: review every job with its image and boxes, re-run, delete; API keys.

Reads go through the ORM as the admin needs them; the writes that matter
(re-run, delete with the stored file) call :mod:`app.services`, so the admin
and the API behave the same.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from app import services
from app.models import ApiKey, Job, Page, PageTask, WebhookDelivery, WebhookEndpoint
from app.web import display

admin.site.site_header = "onlineocr administration"
admin.site.site_title = "onlineocr admin"
admin.site.index_title = "Jobs, pages and accounts"
admin.site.enable_nav_sidebar = False

User = get_user_model()


class PageInline(admin.TabularInline):
    """The job's pages, read-only: size, orientation, confidence, time and text."""

    model = Page
    extra = 0
    can_delete = False
    show_change_link = False
    fields = ("number", "status", "size", "rotation", "skew", "confidence", "duration", "excerpt")
    readonly_fields = fields
    ordering = ("number",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="size (px)")
    def size(self, page: Page) -> str:
        return f"{page.width} × {page.height}"

    @admin.display(description="text")
    def excerpt(self, page: Page) -> str:
        text = " ".join(page.text.split())
        return text[:140] + ("…" if len(text) > 140 else "") or page.error_message


class PageTaskInline(admin.TabularInline):
    """The job's page tasks, read-only: which worker read each page, when, how often."""

    model = PageTask
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = "page tasks (page fan-out)"
    fields = ("number", "state", "attempts", "worker", "started_at", "finished_at")
    readonly_fields = fields
    ordering = ("number",)
    classes = ("collapse",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Jobs: list, filters, search (name, text, id), detail with image and boxes, actions."""

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
    list_display_links = ("thumbnail", "display_name")
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
    inlines = (PageInline, PageTaskInline)
    change_form_template = "admin/ocr/job/change_form.html"
    fieldsets = (
        (None, {"fields": ("page_preview",)}),
        (
            "Job",
            {
                "fields": (
                    "id",
                    "owner",
                    "filename",
                    "original_file",
                    "status_badge",
                    ("engine", "languages"),
                    ("page_count", "pages_done", "attempts"),
                    ("created_at", "started_at", "finished_at", "duration_display"),
                    ("error_code", "error_text"),
                    "error_message",
                )
            },
        ),
        (
            "File",
            {"fields": ("content_type", "size", "sha256"), "classes": ("collapse",)},
        ),
        ("Text", {"fields": ("text",)}),
        (
            "Options and result",
            {"fields": ("options", "metadata", "result"), "classes": ("collapse",)},
        ),
    )
    readonly_fields = (
        "page_preview",
        "id",
        "owner",
        "filename",
        "original_file",
        "status_badge",
        "engine",
        "languages",
        "page_count",
        "pages_done",
        "attempts",
        "created_at",
        "started_at",
        "finished_at",
        "duration_display",
        "error_code",
        "error_text",
        "error_message",
        "content_type",
        "size",
        "sha256",
        "text",
        "options",
        "metadata",
        "result",
    )

    class Media:
        css = {"all": ("css/admin.css",)}

    # ---- permissions: jobs are made by uploads and changed by services only
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

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
        return display.human_duration(job.duration) or "–"

    @admin.display(description="error meaning")
    def error_text(self, job: Job) -> str:
        """The error code's message for people, from the one table in ``app.errors``."""
        return display.error_text(job.error_code) or "–"

    # ---- detail fields
    @admin.display(description="Page image and word boxes")
    def page_preview(self, job: Job) -> SafeString:
        page = job.pages.order_by("number").first()
        if page is None:
            return format_html('<p class="help">{}</p>', "No page has a result yet.")
        return render_to_string(
            "admin/ocr/job/page_preview.html",
            {
                "job": job,
                "page": page,
                "words": display.word_boxes(page.result),
                "image_url": display.page_image_url(job.id, page.number),
                "more_pages": job.pages.count() - 1,
            },
        )

    @admin.display(description="original file")
    def original_file(self, job: Job) -> SafeString:
        if not job.file:
            return format_html("–")
        return format_html(
            '<a href="/api/ocr/{}/file/">{}</a> ({})', job.id, job.filename, job.content_type
        )

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
        return [path("<uuid:job_id>/rerun/", rerun, name="ocr_job_rerun"), *super().get_urls()]

    def rerun_view(self, request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
        """POST from the detail page's "Re-run" button."""
        job = get_object_or_404(Job, pk=job_id)
        if not self.has_change_permission(request, job):
            return HttpResponseRedirect(reverse("admin:index"))
        services.job_rerun(job=job)
        self.message_user(request, f"“{job.filename or job.id}” is queued again.", messages.SUCCESS)
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
