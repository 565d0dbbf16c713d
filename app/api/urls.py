from django.urls import path
from rest_framework_simplejwt.views import TokenRefreshView, TokenVerifyView

from app.api import batches, downloads, keys, views, webhooks
from app.throttles import LoginTokenObtainPairView

urlpatterns = [
    path("ocr/", views.OcrCreateView.as_view(), name="api-ocr-create"),
    path("ocr/<uuid:job_id>/", views.OcrDetailView.as_view(), name="api-ocr-detail"),
    path("ocr/<uuid:job_id>/cancel/", views.OcrCancelView.as_view(), name="api-ocr-cancel"),
    path("ocr/<uuid:job_id>/pages/", views.OcrPagesView.as_view(), name="api-ocr-pages"),
    path(
        "ocr/<uuid:job_id>/pages/<int:number>/",
        views.OcrPageDetailView.as_view(),
        name="api-ocr-page-detail",
    ),
    path(
        "ocr/<uuid:job_id>/pages/<int:number>/image/",
        downloads.PageImageView.as_view(),
        name="api-ocr-page-image",
    ),
    path("ocr/<uuid:job_id>/export/", downloads.ExportView.as_view(), name="api-ocr-export"),
    path("ocr/<uuid:job_id>/file/", downloads.OriginalFileView.as_view(), name="api-ocr-file"),
    path("history/", views.HistoryView.as_view(), name="api-history"),
    path("batches/", batches.BatchListView.as_view(), name="api-batches"),
    path("batches/<uuid:batch_id>/", batches.BatchDetailView.as_view(), name="api-batch-detail"),
    path(
        "batches/<uuid:batch_id>/cancel/",
        batches.BatchCancelView.as_view(),
        name="api-batch-cancel",
    ),
    path(
        "batches/<uuid:batch_id>/export/",
        batches.BatchExportView.as_view(),
        name="api-batch-export",
    ),
    path("webhooks/", webhooks.WebhookListView.as_view(), name="api-webhooks"),
    path(
        "webhooks/<uuid:endpoint_id>/",
        webhooks.WebhookDetailView.as_view(),
        name="api-webhook-detail",
    ),
    path(
        "webhooks/<uuid:endpoint_id>/deliveries/",
        webhooks.WebhookDeliveriesView.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "webhooks/<uuid:endpoint_id>/test/",
        webhooks.WebhookTestView.as_view(),
        name="api-webhook-test",
    ),
    path("keys/", keys.KeyListView.as_view(), name="api-keys"),
    path("keys/<uuid:key_id>/", keys.KeyDetailView.as_view(), name="api-key-detail"),
    path("engines/", views.EnginesView.as_view(), name="api-engines"),
    path("health/", views.HealthView.as_view(), name="api-health"),
    path("health/live/", views.HealthView.as_view(live=True), name="api-health-live"),
    path("register/", views.RegisterView.as_view(), name="api-register"),
    path("logout/", views.LogoutView.as_view(), name="api-logout"),
    path("token_obtain_pair/", LoginTokenObtainPairView.as_view(), name="api-token-obtain-pair"),
    path("token_refresh/", TokenRefreshView.as_view(), name="api-token-refresh"),
    path("token_verify/", TokenVerifyView.as_view(), name="api-token-verify"),
]
