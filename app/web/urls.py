"""Routes of the browser pages (mounted at the site root)."""

from django.urls import path

from app.web import batches, keys, views, webhooks

urlpatterns = [
    path("", views.upload, name="web-upload"),
    path("history/", views.history, name="web-history"),
    path("history/delete/", views.history_delete, name="web-history-delete"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="web-job"),
    path("jobs/<uuid:job_id>/delete/", views.job_delete, name="web-job-delete"),
    path("jobs/<uuid:job_id>/cancel/", views.job_cancel, name="web-job-cancel"),
    path("jobs/<uuid:job_id>/rerun/", views.job_rerun, name="web-job-rerun"),
    path("batches/", batches.batches_index, name="web-batches"),
    path("batches/<uuid:batch_id>/", batches.batch_detail, name="web-batch"),
    path("batches/<uuid:batch_id>/cancel/", batches.batch_cancel, name="web-batch-cancel"),
    path("batches/<uuid:batch_id>/delete/", batches.batch_delete, name="web-batch-delete"),
    path("keys/", keys.keys, name="web-keys"),
    path("keys/<uuid:key_id>/revoke/", keys.key_revoke, name="web-key-revoke"),
    path("webhooks/", webhooks.webhooks, name="web-webhooks"),
    path("webhooks/<uuid:endpoint_id>/", webhooks.webhook_detail, name="web-webhook"),
    path("webhooks/<uuid:endpoint_id>/test/", webhooks.webhook_test, name="web-webhook-test"),
    path("webhooks/<uuid:endpoint_id>/secret/", webhooks.webhook_secret, name="web-webhook-secret"),
    path("webhooks/<uuid:endpoint_id>/delete/", webhooks.webhook_delete, name="web-webhook-delete"),
]
