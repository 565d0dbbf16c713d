"""Routes of CLOVA OCR General, mounted at ``/compat/clova/``.

A client's invoke URL becomes ``http://<host>/compat/clova``, so it posts to
``/compat/clova/general`` (``/general`` is the General OCR path under an invoke URL:
https://api.ncloud-docs.com/docs/ai-application-service-ocr-ocr). A trailing slash, or
the doubled slash of an invoke URL given with one (``.../compat/clova/`` +
``/general``), reaches the same view (the mount in onlineocr/urls.py takes any number of
slashes after ``compat/clova``). Anything else (Template OCR's ``/infer``
included) answers CLOVA's 404 ``0001``: every path resolves, so CommonMiddleware never
redirects a POST to add a slash.
"""

from django.urls import re_path

from app.compat.clova import views

urlpatterns = [
    re_path(r"^general/?$", views.general, name="clova-general"),
    re_path(r"", views.unknown, name="clova-unknown"),
]
