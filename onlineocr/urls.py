from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from app.api.metrics import metrics_view
from app.api.negotiation import schema_view
from app.throttles import AdminLoginForm, answer_429_when_throttled
from app.web.signout import SignOutView
from app.web.views import RegisterView, login_view

# The admin's sign-in has the same limits as the web and API sign-in (app/throttles.py).
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("admin/login/", answer_429_when_throttled(admin.site.login), name="admin-login"),
    path("admin/", admin.site.urls),
    path("accounts/register/", RegisterView.as_view(), name="register"),
    path("accounts/login/", login_view, name="login"),
    # Django's sign-out plus a "You have been signed out." message (same URL and name).
    path("accounts/logout/", SignOutView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("app.api.urls")),
    # Azure's SDKs join the endpoint and their path with a slash of their own, so an
    # endpoint ending in "/" sends "/compat/azure//documentintelligence/...": "/+".
    re_path(r"^compat/azure/+", include("app.compat.azure.urls")),
    path("compat/ultraocr/", include("app.compat.ultraocr.urls")),
    # Likewise a CLOVA invoke URL given with a trailing slash: ".../compat/clova//general".
    re_path(r"^compat/clova/+", include("app.compat.clova.urls")),
    path("compat/computervision/", include("app.compat.computervision.urls")),
    path("compat/chekin/", include("app.compat.chekin.urls")),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema/", schema_view(), name="schema"),
    # Swagger UI's start-up script is a file of its own (?script), not inline: the CSP
    # runs no inline script without the nonce.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    # ReDoc's styled-components inserts <style> elements without a nonce and its search
    # runs in a worker made from a blob: URL, so this page alone allows both (its
    # scripts still need the nonce). Its hard-coded logo from cdn.redoc.ly stays
    # blocked, as every third-party request (the docs work offline).
    path(
        "redoc/",
        csp_replace({"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
            SpectacularRedocView.as_view(url_name="schema")
        ),
        name="redoc",
    ),
    path("", include("app.web.urls")),
]

# Under /api/ a 404 or 500 answers in the API's JSON error shape (app/api/errors.py);
# elsewhere Django renders templates/404.html, 500.html (no context, no database) and,
# with its default handler403, 403.html, in the site's layout.
handler404 = "app.api.errors.page_not_found"
handler500 = "app.api.errors.server_error"
