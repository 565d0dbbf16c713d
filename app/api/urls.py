from django.urls import path
from rest_framework_simplejwt.views import (
    TokenObtainPairView,
    TokenRefreshView,
    TokenVerifyView,
)

from app.api import views

urlpatterns = [
    path("ocr/", views.OcrCreateView.as_view(), name="api-ocr-create"),
    path("ocr/<uuid:job_id>/", views.OcrDetailView.as_view(), name="api-ocr-detail"),
    path("ocr/<uuid:job_id>/pages/", views.OcrPagesView.as_view(), name="api-ocr-pages"),
    path(
        "ocr/<uuid:job_id>/pages/<int:number>/",
        views.OcrPageDetailView.as_view(),
        name="api-ocr-page-detail",
    ),
    path("history/", views.HistoryView.as_view(), name="api-history"),
    path("engines/", views.EnginesView.as_view(), name="api-engines"),
    path("health/", views.HealthView.as_view(), name="api-health"),
    path("register/", views.RegisterView.as_view(), name="api-register"),
    path("logout/", views.LogoutView.as_view(), name="api-logout"),
    path("token_obtain_pair/", TokenObtainPairView.as_view(), name="api-token-obtain-pair"),
    path("token_refresh/", TokenRefreshView.as_view(), name="api-token-refresh"),
    path("token_verify/", TokenVerifyView.as_view(), name="api-token-verify"),
]
