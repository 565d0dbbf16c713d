"""Handing stored files to a client without making media/ public.

:func:`file_response` is what a view returns after it has checked that the
caller may see the file (ownership is the view's job, this module only ships
bytes). Three ways, by deployment:

* local storage behind nginx (``OCR_X_ACCEL_REDIRECT=true``): an empty response
  with ``X-Accel-Redirect: /protected-media/<name>``; nginx serves the file
  from its ``internal`` location, so uwsgi's threads are not tied up;
* S3-compatible storage: a 302 to a short-lived presigned URL when
  ``OCR_S3_REDIRECT=true`` (clients can reach the bucket), else streamed;
* otherwise (``make run``, tests): a streamed :class:`FileResponse`.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header


def _is_local(storage: Storage) -> bool:
    # isinstance() sees through Django's lazy default_storage (it proxies __class__).
    return isinstance(storage, FileSystemStorage)


def file_response(
    storage_name: str,
    filename: str,
    content_type: str,
    *,
    as_attachment: bool = True,
    storage: Storage | None = None,
) -> HttpResponse:
    """A response delivering the stored file ``storage_name`` as ``filename``.

    ``storage`` defaults to Django's default storage (the one ``Job.file``
    uses). The caller must have checked access first. Raises
    ``FileNotFoundError`` when a locally stored file is missing (not with
    X-Accel-Redirect, where nginx answers 404 itself).
    """
    storage = storage or default_storage
    disposition = content_disposition_header(as_attachment, filename) or "attachment"
    if _is_local(storage):
        if settings.OCR_X_ACCEL_REDIRECT:
            response = HttpResponse(content_type=content_type)
            response["X-Accel-Redirect"] = settings.OCR_X_ACCEL_PREFIX + quote(storage_name)
            response["Content-Disposition"] = disposition
            return response
    elif settings.OCR_S3_REDIRECT:
        url = storage.url(
            storage_name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
            },
        )
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "private, no-store"
        return response
    response = FileResponse(
        storage.open(storage_name, "rb"),
        content_type=content_type,
        as_attachment=as_attachment,
        filename=filename,
    )
    response["Cache-Control"] = "private, no-store"
    return response
