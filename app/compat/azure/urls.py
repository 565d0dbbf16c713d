"""Routes of the Azure Document Intelligence API, mounted at ``/compat/azure/``.

The SDKs join the endpoint and ``/documentintelligence`` with a slash of their own,
so an endpoint given with a trailing slash (``http://host/compat/azure/``) sends
``/compat/azure//documentintelligence/...``: the mount (onlineocr/urls.py) takes any
number of slashes after ``compat/azure``. ``formrecognizer/`` is the older API
(2022-08-31, 2023-07-31): the same analysis, no PDF output. Anything else answers the
gateway's JSON 404.
"""

from django.urls import re_path

from app.compat.azure import views

_MODEL = r"^(?P<prefix>documentintelligence|formrecognizer)/documentModels/(?P<model_id>[^/:]+)"
_RESULT_ID = r"(?P<result_id>[^/]+)"

urlpatterns = [
    re_path(_MODEL + r":analyze$", views.analyze, name="azure-analyze"),
    re_path(
        _MODEL + r"/analyzeResults/" + _RESULT_ID + r"$",
        views.result,
        name="azure-analyze-result",
    ),
    re_path(
        r"^documentintelligence/documentModels/(?P<model_id>[^/:]+)/analyzeResults/"
        + _RESULT_ID
        + r"/pdf$",
        views.result_pdf,
        name="azure-analyze-result-pdf",
    ),
    # Every path resolves, so CommonMiddleware never redirects one with a slash added.
    re_path(r"", views.unknown, name="azure-unknown"),
]
