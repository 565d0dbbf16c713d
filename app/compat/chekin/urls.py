"""Routes of Chekin's OCR Web API, mounted at ``/compat/chekin/``.

Chekin's paths (API reference, "OCR Web") end in a slash:
``api/v{1,2}/tools/ocr/picture/`` and ``api/v{1,2}/tools/ocr/data/<id>/``; each is
taken with or without it (a client that drops the slash is not redirected, which
would turn its POST into a GET). ``.../data/<id>/picture/`` serves the uploaded
picture (the scan's ``picture_file``). Anything else answers DRF's JSON 404.
"""

from django.urls import re_path

from app.compat.chekin import views

_BASE = r"^api/v(?P<version>[12])/tools/ocr/"
_SCAN = _BASE + r"data/(?P<raw_id>[^/]+)"

urlpatterns = [
    re_path(_BASE + r"picture/$", views.picture, name="chekin-picture"),
    re_path(_BASE + r"picture$", views.picture),
    re_path(_SCAN + r"/$", views.data, name="chekin-data"),
    re_path(_SCAN + r"$", views.data),
    re_path(_SCAN + r"/picture/$", views.picture_file, name="chekin-picture-file"),
    re_path(_SCAN + r"/picture$", views.picture_file),
    # Every path resolves, so CommonMiddleware never redirects one with a slash added.
    re_path(r"", views.unknown, name="chekin-unknown"),
]
