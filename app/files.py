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

import unicodedata
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

#: Characters refused in a recorded file name besides Unicode controls and surrogates:
#: path separators, and the bidirectional embedding/override/isolate controls that can
#: make ``invoice\u202egnp.exe`` display as ``invoiceexe.png``.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_UNSAFE_IN_FILENAME = frozenset("/\\") | _BIDI_CONTROLS


def control_character(text: str) -> str | None:
    """The first character of ``text`` that no name shown to people may hold, or None:
    control characters (Unicode Cc), lone surrogates (Cs), line and paragraph
    separators (Zl, Zp) and bidirectional override/isolate controls."""
    for char in text:
        if char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
            return char
    return None


def filename_problem(name: str) -> str | None:
    """Why ``name`` cannot be recorded as a job's file name, or None if it can.

    Refused: control characters (Unicode category Cc: C0 including CR, LF and
    NUL, DEL, C1), lone surrogates (Cs; not encodable as UTF-8), line and
    paragraph separators (Zl, Zp), bidirectional override/isolate controls,
    the path separators ``/`` and ``\\``, and the names ``.`` and ``..``. Any
    other character is kept as given, quotes, ``;`` and non-Latin-1 letters
    included: downloads carry the name through
    :func:`django.utils.http.content_disposition_header` (RFC 6266, with
    RFC 5987 ``filename*`` encoding where needed).
    """
    if name in {".", ".."}:
        return "A file name cannot be '.' or '..'."
    for char in name:
        if char in _UNSAFE_IN_FILENAME:
            return f"A file name cannot contain {char!r} (path separators and bidi controls)."
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
            return f"A file name cannot contain control characters ({char!r})."
    return None


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
