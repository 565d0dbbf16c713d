"""Routes of computervision.com.vn's document OCR, mounted at ``/compat/computervision/``.

The provider's clients send ``{base}/api/v2/ocr/document/general`` with no trailing
slash (docs.computervision.com.vn, every v2 example); one with a slash is taken too.
Every other path answers the provider's shape with 404, so CommonMiddleware never
redirects a path with a slash added.
"""

from django.urls import re_path

from app.compat.computervision import views

urlpatterns = [
    re_path(r"^api/v2/ocr/document/general/?$", views.general, name="computervision-general"),
    re_path(r"", views.unknown, name="computervision-unknown"),
]
