"""Routes of the browser pages (mounted at the site root)."""

from django.urls import path

from app.web import keys, views

urlpatterns = [
    path("", views.upload, name="web-upload"),
    path("history/", views.history, name="web-history"),
    path("jobs/<uuid:job_id>/", views.job_detail, name="web-job"),
    path("jobs/<uuid:job_id>/delete/", views.job_delete, name="web-job-delete"),
    path("jobs/<uuid:job_id>/cancel/", views.job_cancel, name="web-job-cancel"),
    path("jobs/<uuid:job_id>/rerun/", views.job_rerun, name="web-job-rerun"),
    path("keys/", keys.keys, name="web-keys"),
    path("keys/<uuid:key_id>/revoke/", keys.key_revoke, name="web-key-revoke"),
]
