"""The :class:`Client`: the onlineocr REST API over httpx, with retries and typed results."""

from __future__ import annotations

import base64
import contextlib
import json as jsonlib
import mimetypes
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

from onlineocr_client import __version__
from onlineocr_client.errors import (
    ApiConnectionError,
    JobFailedError,
    OnlineOcrError,
    WaitTimeout,
    error_class,
)
from onlineocr_client.models import ApiKey, Batch, Engine, Job, JobPage

T = TypeVar("T")

#: Export formats of ``GET /api/ocr/{id}/export/?format=``.
EXPORT_FORMATS = ("txt", "json", "pdf", "hocr", "alto", "tsv")

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Transport errors raised before any byte of the request reached the server: always
# safe to retry, whatever the method.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRY_STATUSES = frozenset({429, 503})
_MAX_SERVER_WAIT = 30  # the service's limit for ``?wait=``
_ANY = {"Accept": "*/*"}  # downloads: the file's own type (errors still come as JSON)

PathLike = str | os.PathLike[str]
#: What ``submit``, ``ocr`` and ``batch`` take as a document: a file path (str or
#: Path), an ``http(s)://`` URL (str), the file's bytes, or a binary file object.
DocumentSource = PathLike | bytes | bytearray | memoryview | IO[bytes]


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value[:8].lower().startswith(("http://", "https://"))


def _languages(value: str | Iterable[str] | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return "+".join(str(code) for code in value)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list):
        return jsonlib.dumps(value)
    return str(value)


def _content_type(name: str) -> str:
    # The service decides the type by content; this is only a courtesy.
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class _Upload:
    """A file part of a multipart request, opened afresh for every attempt."""

    field: str
    name: str
    path: Path | None = None
    fileobj: IO[bytes] | None = None
    start: int = 0

    def open(self) -> tuple[tuple[str, IO[bytes], str], IO[bytes] | None]:
        if self.path is not None:
            handle = self.path.open("rb")
            return (self.name, handle, _content_type(self.name)), handle
        assert self.fileobj is not None
        seekable = getattr(self.fileobj, "seekable", None)
        if seekable is not None and seekable():
            self.fileobj.seek(self.start)
        return (self.name, self.fileobj, _content_type(self.name)), None


def _source_kind(document: Any) -> str:
    """``url``, ``path``, ``bytes`` or ``file`` for a document source."""
    if _is_url(document):
        return "url"
    if isinstance(document, str | os.PathLike):
        return "path"
    if isinstance(document, bytes | bytearray | memoryview):
        return "bytes"
    if hasattr(document, "read"):
        return "file"
    raise TypeError(
        "a document is a file path (str or Path), an http(s):// URL, bytes or a binary "
        f"file object, not {type(document).__name__}"
    )


def _file_upload(document: Any, field: str, filename: str | None) -> _Upload:
    if isinstance(document, str | os.PathLike):
        path = Path(document)
        if not path.is_file():
            raise FileNotFoundError(f"No such file: {path}")
        return _Upload(field, filename or path.name, path=path)
    name = filename or Path(str(getattr(document, "name", "") or "document")).name
    seekable = getattr(document, "seekable", None)
    start = document.tell() if seekable is not None and seekable() else 0
    return _Upload(field, name, fileobj=document, start=start)


class Client:
    """A client of one onlineocr service.

    Args:
        base_url: the service's root URL, e.g. ``"https://ocr.example.com"`` (a path
            prefix is kept; a trailing ``/api`` is dropped). Default: ``$ONLINEOCR_URL``.
        api_key: an API key, sent as ``X-API-Key``. Default: ``$ONLINEOCR_API_KEY``.
        token: a JWT access token instead (``Authorization: Bearer``).
        timeout: seconds for connecting and for each read or write (requests that ask
            the service to hold the answer get that much longer to read).
        max_attempts: tries per request, the first included. Answers 429 and 503 are
            retried after ``Retry-After`` (or an exponential backoff); connection errors
            are retried when the request was not sent, or is idempotent (GET, DELETE, and
            submissions, which carry an ``Idempotency-Key``).
        max_retry_wait: the longest ``Retry-After`` (seconds) worth waiting for; a longer
            one (a daily quota resetting at midnight) raises
            :class:`~onlineocr_client.errors.RateLimitError` at once.
        backoff: the first backoff delay in seconds, doubled at each retry (with jitter).
        poll_interval: the first delay between polls of :meth:`wait` (grows to 2 s).
        headers, transport, event_hooks, verify: passed to :class:`httpx.Client`.

    Use it as a context manager, or call :meth:`close`, to free its connections. One
    client may be shared by threads.

    Raises (from every method): :class:`~onlineocr_client.errors.OnlineOcrError` or
    one of its subclasses, with the service's error ``code``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_retry_wait: float = 60.0,
        backoff: float = 0.5,
        poll_interval: float = 0.25,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        verify: bool | str = True,
    ) -> None:
        base_url = base_url or os.environ.get("ONLINEOCR_URL")
        if not base_url:
            raise ValueError("give base_url (or set ONLINEOCR_URL), e.g. http://127.0.0.1:8000")
        if api_key is None and token is None:
            api_key = os.environ.get("ONLINEOCR_API_KEY") or None
        root = base_url.rstrip("/")
        if root.endswith("/api"):
            root = root[: -len("/api")]
        self.base_url = root
        self.timeout = timeout
        self.max_attempts = max(1, int(max_attempts))
        self.max_retry_wait = max_retry_wait
        self.backoff = backoff
        self.poll_interval = poll_interval
        self.authenticated = bool(api_key or token)
        all_headers = {
            "User-Agent": f"onlineocr-client/{__version__} httpx/{httpx.__version__}",
            "Accept": "application/json",
        }
        if api_key:
            all_headers["X-API-Key"] = api_key
        elif token:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        self._http = httpx.Client(
            base_url=root + "/",
            headers=all_headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            event_hooks=dict(event_hooks or {}),
            verify=verify,
            follow_redirects=False,
        )

    # -- lifecycle -----------------------------------------------------------------

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    # -- transport -----------------------------------------------------------------

    def _sleep_for(self, attempt: int) -> float:
        delay = self.backoff * (2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not crypto)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        uploads: list[_Upload] | None = None,
        headers: Mapping[str, str] | None = None,
        read_timeout: float | None = None,
        stream: bool = False,
        safe_to_resend: bool = False,
    ) -> httpx.Response:
        """Send a request with bounded retries; return a 2xx/3xx answer or raise.

        ``safe_to_resend``: a connection error after sending may be retried (the request
        carries an ``Idempotency-Key``). With ``stream`` the caller reads and closes.
        """
        timeout = (
            httpx.Timeout(self.timeout, read=read_timeout)
            if read_timeout is not None
            else httpx.USE_CLIENT_DEFAULT
        )
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            attempt += 1
            handles: list[IO[bytes]] = []
            try:
                files = None
                if uploads:
                    files = []
                    for upload in uploads:
                        part, handle = upload.open()
                        if handle is not None:
                            handles.append(handle)
                        files.append((upload.field, part))
                request = self._http.build_request(
                    method,
                    path,
                    params=clean_params or None,
                    json=json,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=timeout,
                )
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                retry = (
                    isinstance(exc, _NOT_SENT_ERRORS)
                    or method in _IDEMPOTENT_METHODS
                    or safe_to_resend
                )
                if retry and attempt < self.max_attempts:
                    time.sleep(self._sleep_for(attempt))
                    continue
                raise ApiConnectionError(
                    "connection_error",
                    f"{method} {self.base_url}/{path}: {type(exc).__name__}: {exc}",
                ) from exc
            finally:
                for handle in handles:
                    handle.close()
            if response.status_code in _RETRY_STATUSES and attempt < self.max_attempts:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                delay = self._sleep_for(attempt) if retry_after is None else retry_after
                if delay <= self.max_retry_wait:
                    response.close()
                    time.sleep(delay)
                    continue
            if response.status_code >= 400:
                if stream:
                    response.read()
                    response.close()
                raise self._error(response)
            return response

    @staticmethod
    def _error(response: httpx.Response) -> OnlineOcrError:
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        body: Any = None
        with contextlib.suppress(ValueError):
            body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            code = error["code"]
            cls = error_class(code, status)
            return cls(
                code,
                str(error.get("message") or ""),
                status,
                error.get("field") if isinstance(error.get("field"), str) else None,
                details=error.get("details"),
                retry_after=retry_after,
            )
        text = response.text[:200].strip() if response.content else ""
        code = f"http_{status}"
        message = f"HTTP {status} {response.reason_phrase}" + (f": {text}" if text else "")
        return error_class(code, status)(code, message, status, retry_after=retry_after)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise OnlineOcrError(
                "invalid_response",
                f"{method} {path}: the answer is not JSON ({response.headers.get('content-type')})",
                response.status_code,
            ) from None

    def _paginate(
        self, path: str, params: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], T]
    ) -> Iterator[T]:
        """Yield every item of a paginated list (``{"count","next","previous","results"}``),
        fetching a page only when the previous one is used up. An item seen on an earlier
        page (moved down by newer items) is not yielded twice."""
        query: dict[str, Any] = {k: v for k, v in params.items() if v is not None}
        seen: set[str] = set()
        while True:
            data = self._json("GET", path, params=query)
            if isinstance(data, list):  # an unpaginated list
                items, next_url = data, None
            elif isinstance(data, dict):
                items, next_url = data.get("results") or [], data.get("next")
            else:
                raise OnlineOcrError("invalid_response", f"GET {path}: not a list of results")
            for item in items:
                if not isinstance(item, Mapping):
                    continue
                key = str(item.get("id", ""))
                if key and key in seen:
                    continue
                seen.add(key)
                yield parse(item)
            if not next_url:
                return
            # The next page's query, sent to our own base URL: a service behind a proxy
            # may build ``next`` with a host or scheme the client cannot reach.
            query = dict(httpx.URL(next_url).params.multi_items())

    # -- submitting --------------------------------------------------------------------

    @staticmethod
    def _options(
        languages: str | Iterable[str] | None, options: Mapping[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        langs = _languages(languages)
        if langs is not None:
            out["languages"] = langs
        for name, value in options.items():
            if value is None:
                continue
            if name == "languages":
                out[name] = _languages(value)
            elif name == "pages" and isinstance(value, int):
                out[name] = str(value)
            else:
                out[name] = value
        return out

    def _idempotency_headers(self, key: str | None) -> dict[str, str]:
        if key is None and self.authenticated:
            key = str(uuid.uuid4())
        return {"Idempotency-Key": key} if key else {}

    def submit(
        self,
        document: DocumentSource,
        *,
        languages: str | Iterable[str] | None = None,
        engine: str | None = None,
        psm: int | None = None,
        oem: int | None = None,
        pages: str | None = None,
        rotate: str | None = None,
        deskew: bool | None = None,
        clean: bool | None = None,
        dpi: int | None = None,
        pdf_text: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        filename: str | None = None,
        idempotency_key: str | None = None,
        server_wait: int | None = None,
        **options: Any,
    ) -> Job:
        """Submit a document for OCR; return the job as accepted (``POST /api/ocr/``).

        Args:
            document: a file path (str or Path; sent as the multipart field ``image``),
                an ``http://``/``https://`` URL (the service downloads it,
                ``image_url``), the file's bytes (``image_base64``), or a binary file
                object (multipart).
            languages: Tesseract codes, ``"eng+deu"`` or ``["eng", "deu"]``; default: the
                service's (``eng`` out of the box).
            engine, psm, oem, pages, rotate, deskew, clean, dpi, pdf_text: job options
                (``pages`` like ``"1-3,7"``; ``rotate`` ``"auto"``/``"off"``;
                ``pdf_text`` ``"ocr"``/``"use"``). ``None`` leaves the service's default.
            metadata: a JSON object stored with the job and returned as given.
            filename: the name to record (default: the file's own name).
            idempotency_key: sent as ``Idempotency-Key`` (1-255 printable ASCII). By
                default a fresh UUID per call (when authenticated), so the client's own
                retries never make a second job. The same key with the same request
                within 24 h answers the first job (``job.replayed`` is true).
            server_wait: seconds (0-30) the service may hold the answer until the job is
                done.
            **options: other options the service takes (e.g. ``service`` for UltraOCR).

        Returns:
            The :class:`Job`: ``pending`` or ``processing`` (HTTP 202), or finished
            when ``server_wait`` sufficed.

        Raises:
            FileNotFoundError: a path that is not a file.
            InvalidDocumentError: e.g. ``unsupported_format`` (415), ``invalid_image``.
            InvalidRequestError: bad options (``unknown_language``, ``invalid_option``...).
            ConflictError: ``idempotency_conflict`` (the key was used for another request).
            RateLimitError: ``quota_exceeded`` after the retries.
        """
        fields = self._options(
            languages,
            {
                "engine": engine,
                "psm": psm,
                "oem": oem,
                "pages": pages,
                "rotate": rotate,
                "deskew": deskew,
                "clean": clean,
                "dpi": dpi,
                "pdf_text": pdf_text,
                "filename": filename,
                **options,
            },
        )
        if metadata is not None:
            fields["metadata"] = dict(metadata)
        params: dict[str, Any] = {}
        read_timeout = None
        if server_wait:
            wait = max(0, min(_MAX_SERVER_WAIT, int(server_wait)))
            params["wait"] = wait
            read_timeout = self.timeout + wait
        headers = self._idempotency_headers(idempotency_key)
        kind = _source_kind(document)
        if kind in ("path", "file"):
            upload = _file_upload(document, "image", None)
            request: dict[str, Any] = {
                "data": {k: _form_value(v) for k, v in fields.items()},
                "uploads": [upload],
            }
        elif kind == "url":
            request = {"json": {"image_url": document, **fields}}
        else:
            encoded = base64.b64encode(bytes(document)).decode("ascii")  # type: ignore[arg-type]
            request = {"json": {"image_base64": encoded, **fields}}
        response = self._request(
            "POST",
            "api/ocr/",
            params=params,
            headers=headers,
            read_timeout=read_timeout,
            safe_to_resend=bool(headers),
            **request,
        )
        return Job.from_dict(
            response.json(),
            replayed=response.headers.get("Idempotent-Replayed", "").lower() == "true",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    def ocr(
        self,
        document: DocumentSource,
        languages: str | Iterable[str] | None = None,
        wait: bool = True,
        *,
        timeout: float = 600.0,
        on_progress: Callable[[Job], Any] | None = None,
        **options: Any,
    ) -> Job:
        """OCR a document and (by default) wait for the result.

        Takes everything :meth:`submit` takes. With ``wait`` (the default) it waits up
        to ``timeout`` seconds (letting the service hold the first answer for up to 10 s,
        then polling) and returns the ``done`` job, with ``text`` and ``result`` (a
        :class:`~onlineocr_client.models.Document`). ``on_progress(job)`` is called on
        each poll.

        Raises:
            JobFailedError: the job failed (``code`` is the job's error code, e.g.
                ``too_many_pixels``) or was canceled (``code`` ``canceled``).
            WaitTimeout: not finished within ``timeout`` (the job goes on).
            and whatever :meth:`submit` raises.
        """
        started = time.monotonic()
        server_wait = options.pop("server_wait", None)
        if server_wait is None and wait and on_progress is None:
            server_wait = int(min(10, timeout))
        job = self.submit(document, languages=languages, server_wait=server_wait, **options)
        if not wait:
            return job
        if not job.is_finished:
            remaining = max(0.0, timeout - (time.monotonic() - started))
            job = self.wait(job, timeout=remaining, on_progress=on_progress)
        if job.status != "done":
            raise JobFailedError(job)
        return job

    # -- jobs ----------------------------------------------------------------------------

    def _get_job(self, job_id: str) -> Job:
        response = self._request("GET", f"api/ocr/{job_id}/")
        return Job.from_dict(
            response.json(), retry_after=parse_retry_after(response.headers.get("Retry-After"))
        )

    def get(self, job_id: str) -> Job:
        """The job's status, progress (``pages_done``/``page_count``), ``text`` and
        ``result``. A failed job is returned (``job.error``), not raised.

        Raises: NotFoundError (no such job, or another user's).
        """
        return self._get_job(str(job_id))

    def wait(
        self,
        job: str | Job,
        *,
        timeout: float = 600.0,
        on_progress: Callable[[Job], Any] | None = None,
    ) -> Job:
        """Poll the job until it is ``done``, ``failed`` or ``canceled``; return it.

        ``job`` is an id, or a :class:`Job` (its ``retry_after`` then sets the first
        delay). Polls honour the service's ``Retry-After``; without one they start at
        ``poll_interval`` and grow to 2 s. ``on_progress(job)`` is called after each
        poll (e.g. to show ``pages_done``/``page_count``). A failed job is returned, not
        raised.

        Raises: WaitTimeout after ``timeout`` seconds (the job goes on on the server).
        """
        deadline = time.monotonic() + timeout
        delay = self.poll_interval
        if isinstance(job, Job):
            job_id, hint = job.id, job.retry_after
        else:
            job_id, hint = str(job), None
        while True:
            if hint is not None:
                remaining = deadline - time.monotonic()
                time.sleep(max(0.0, min(hint, remaining)))
            current = self._get_job(job_id)
            if on_progress is not None:
                on_progress(current)
            if current.is_finished:
                return current
            if time.monotonic() >= deadline:
                raise WaitTimeout(
                    f"job {job_id} is still {current.status} after {timeout:g} s", id=job_id
                )
            hint = current.retry_after if current.retry_after is not None else delay
            delay = min(delay * 1.5, 2.0)

    def pages(self, job_id: str) -> list[JobPage]:
        """Each page of the job with its status and result (available as soon as that
        page is done)."""
        data = self._json("GET", f"api/ocr/{job_id}/pages/")
        return [JobPage.from_dict(p) for p in data if isinstance(p, Mapping)]

    def page(self, job_id: str, number: int) -> JobPage:
        """Page ``number`` (1-based) of the job. Raises NotFoundError for no such page."""
        return JobPage.from_dict(self._json("GET", f"api/ocr/{job_id}/pages/{int(number)}/"))

    def cancel(self, job_id: str) -> Job:
        """Cancel an unfinished job; return it (``status`` ``canceled``). A pending job
        never runs; a running one stops at its next page, pages done stay readable.

        Raises: ConflictError ``already_finished`` for a job that had already ended.
        """
        return Job.from_dict(self._json("POST", f"api/ocr/{job_id}/cancel/"))

    def delete(self, job_id: str) -> None:
        """Delete the job, its pages and its stored file. Raises NotFoundError."""
        self._request("DELETE", f"api/ocr/{job_id}/")

    def export(
        self, job_id: str, format: str = "txt", path: PathLike | None = None
    ) -> bytes | Path:
        """A done job's result as ``txt``, ``json``, ``pdf`` (searchable), ``hocr``,
        ``alto`` or ``tsv``.

        Without ``path``, returns the bytes. With ``path``, streams them to that file
        (written under a temporary name and renamed when complete, so an interrupted
        download never leaves a partial file) and returns the :class:`~pathlib.Path`.

        Raises: ConflictError ``not_ready`` for a job that is not done;
        InvalidRequestError ``invalid_option`` for an unknown format.
        """
        api_path = f"api/ocr/{job_id}/export/"
        params = {"format": format}
        if path is None:
            return self._request("GET", api_path, params=params, headers=_ANY).content
        return self._download(api_path, params, Path(path))

    def _download(self, api_path: str, params: Mapping[str, Any], path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
        response = self._request("GET", api_path, params=params, headers=_ANY, stream=True)
        try:
            with part.open("wb") as out:
                for chunk in response.iter_bytes(chunk_size=64 * 1024):
                    out.write(chunk)
            os.replace(part, path)
        except httpx.TransportError as exc:
            raise ApiConnectionError(
                "connection_error", f"GET {api_path}: the download broke: {exc}"
            ) from exc
        finally:
            response.close()
            part.unlink(missing_ok=True)
        return path

    def history(
        self,
        *,
        search: str | None = None,
        status: str | None = None,
        engine: str | None = None,
        ordering: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        batch: str | None = None,
        page_size: int | None = None,
        **filters: Any,
    ) -> Iterator[Job]:
        """Iterate over ALL your jobs (``GET /api/history/``), newest first by default.

        Lazy: a page of ``page_size`` (1-100, default the service's 20) is fetched only
        when the previous one is used up, so ``itertools.islice(client.history(), 5)``
        costs one request. Jobs are listed without ``text``/``result``; use
        :meth:`get` for those.

        Args:
            search: in the file name and the recognised text.
            status: ``pending``, ``processing``, ``done``, ``failed`` or ``canceled``.
            ordering: ``created_at``, ``filename``, ``status``, ``duration``; ``-`` for
                descending.
            created_after, created_before: datetimes (aware) or ISO 8601 strings.
            batch: only the jobs of this batch.
            **filters: other query parameters the service takes.

        Raises (on iteration): InvalidRequestError for a bad filter or ``page_size``.
        """
        params = {
            "search": search,
            "status": status,
            "engine": engine,
            "ordering": ordering,
            "created_after": created_after,
            "created_before": created_before,
            "batch": batch,
            "page_size": page_size,
            **filters,
        }
        query = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in params.items()}
        return self._paginate("api/history/", query, Job.from_dict)

    # -- keys and engines --------------------------------------------------------------

    def keys(self) -> list[ApiKey]:
        """Your unrevoked API keys (never the keys themselves: ``prefix`` tells them
        apart). Works with an API key too."""
        return list(self._paginate("api/keys/", {"page_size": 100}, ApiKey.from_dict))

    def create_key(self, name: str, *, expires_at: datetime | None = None) -> ApiKey:
        """Make an API key; its ``key`` is in this answer only.

        Raises: PermissionDeniedError when this client uses an API key (keys are made
        with a sign-in: use ``Client(token=...)``).
        """
        body = {"name": name, "expires_at": expires_at.isoformat() if expires_at else None}
        return ApiKey.from_dict(self._json("POST", "api/keys/", json=body))

    def revoke_key(self, key_id: str) -> None:
        """Revoke an API key for good (a key may revoke itself). Raises NotFoundError."""
        self._request("DELETE", f"api/keys/{key_id}/")

    def engines(self) -> list[Engine]:
        """The engines the service offers, with availability, version and languages."""
        return [Engine.from_dict(e) for e in self._json("GET", "api/engines/")]

    # -- batches -----------------------------------------------------------------------

    def batch(
        self,
        items: Iterable[DocumentSource | Mapping[str, Any]],
        *,
        languages: str | Iterable[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        callback_url: str | None = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> Batch:
        """Submit several documents as one batch (``POST /api/batches/``); return it as
        accepted (HTTP 202).

        Args:
            items: documents as :meth:`submit` takes them (paths, URLs, bytes, files), or
                mappings ``{"document": ..., "filename": ..., "metadata": {...}}`` for a
                per-item name or metadata. Only paths and file objects: one multipart
                request (the field ``image`` repeated). Any bytes, URL, or per-item name
                or metadata: a JSON request (paths are then read and sent as base64).
            languages, **options: job options shared by every item (as in :meth:`submit`).
            metadata: a JSON object for the batch.
            callback_url: where the service posts the signed ``batch.done`` webhook
                (verify it with :func:`~onlineocr_client.verify_webhook`).
            idempotency_key: as in :meth:`submit` (a fresh UUID by default).

        Raises: as :meth:`submit`.
        """
        normalized: list[tuple[Any, str | None, Mapping[str, Any] | None]] = []
        for item in items:
            if isinstance(item, Mapping):
                normalized.append((item["document"], item.get("filename"), item.get("metadata")))
            else:
                normalized.append((item, None, None))
        if not normalized:
            raise ValueError("a batch needs at least one document")
        fields = self._options(languages, options)
        kinds = [_source_kind(doc) for doc, _, _ in normalized]
        multipart = all(k in ("path", "file") for k in kinds) and not any(
            name or meta for _, name, meta in normalized
        )
        headers = self._idempotency_headers(idempotency_key)
        if multipart:
            form = {k: _form_value(v) for k, v in fields.items()}
            if metadata is not None:
                form["metadata"] = _form_value(dict(metadata))
            if callback_url is not None:
                form["callback_url"] = callback_url
            request: dict[str, Any] = {
                "data": form,
                "uploads": [_file_upload(doc, "image", None) for doc, _, _ in normalized],
            }
        else:
            json_items = []
            for (doc, name, meta), kind in zip(normalized, kinds, strict=True):
                entry: dict[str, Any] = {}
                if kind == "url":
                    entry["image_url"] = doc
                elif kind == "bytes":
                    entry["image_base64"] = base64.b64encode(bytes(doc)).decode("ascii")
                else:
                    upload = _file_upload(doc, "image", name)
                    part, handle = upload.open()
                    try:
                        entry["image_base64"] = base64.b64encode(part[1].read()).decode("ascii")
                    finally:
                        if handle is not None:
                            handle.close()
                    name = name or upload.name
                if name:
                    entry["filename"] = name
                if meta is not None:
                    entry["metadata"] = dict(meta)
                json_items.append(entry)
            body: dict[str, Any] = {"items": json_items, **fields}
            if metadata is not None:
                body["metadata"] = dict(metadata)
            if callback_url is not None:
                body["callback_url"] = callback_url
            request = {"json": body}
        response = self._request(
            "POST", "api/batches/", headers=headers, safe_to_resend=bool(headers), **request
        )
        return Batch.from_dict(response.json())

    def get_batch(self, batch_id: str) -> Batch:
        """The batch with its counts and jobs. Raises NotFoundError."""
        return Batch.from_dict(self._json("GET", f"api/batches/{batch_id}/"))

    def wait_batch(
        self,
        batch_id: str,
        *,
        timeout: float = 3600.0,
        on_progress: Callable[[Batch], Any] | None = None,
    ) -> Batch:
        """Wait until the batch is ``done``, ``failed`` or ``canceled``; return it.

        Long-polls ``GET /api/batches/{id}/?wait=N`` (N at most 30 s) again and again;
        ``on_progress(batch)`` is called after each answer (``pages_done``,
        ``counts``, each job's progress).

        Raises: WaitTimeout after ``timeout`` seconds (the batch goes on).
        """
        deadline = time.monotonic() + timeout
        batch_id = str(batch_id)
        while True:
            remaining = deadline - time.monotonic()
            wait = int(max(0, min(_MAX_SERVER_WAIT, remaining)))
            data = self._json(
                "GET",
                f"api/batches/{batch_id}/",
                params={"wait": wait} if wait else None,
                read_timeout=self.timeout + wait,
            )
            batch = Batch.from_dict(data)
            if on_progress is not None:
                on_progress(batch)
            if batch.is_finished:
                return batch
            if time.monotonic() >= deadline:
                raise WaitTimeout(
                    f"batch {batch_id} is still {batch.status} after {timeout:g} s", id=batch_id
                )
            if wait < 1:
                time.sleep(min(self.poll_interval, max(0.0, deadline - time.monotonic())))

    def cancel_batch(self, batch_id: str) -> Batch:
        """Cancel the batch's unfinished jobs (done ones are kept); return the batch.

        Raises: ConflictError ``already_finished`` for a batch that had already ended.
        """
        return Batch.from_dict(self._json("POST", f"api/batches/{batch_id}/cancel/"))

    def delete_batch(self, batch_id: str) -> None:
        """Delete the batch and its jobs. Raises NotFoundError."""
        self._request("DELETE", f"api/batches/{batch_id}/")

    def export_batch(self, batch_id: str, format: str = "txt", path: PathLike = "") -> Path:
        """Stream a zip of the batch's exports to ``path``; return the path.

        The zip holds one file per ``done`` job, named after its upload with the format's
        extension (``scan.txt``; a repeated name becomes ``scan (2).txt``). It is written
        under a temporary name and renamed when complete, never held in memory.

        Raises: InvalidRequestError ``invalid_option`` for an unknown format.
        """
        if not path:
            raise ValueError("give the path of the zip file to write")
        return self._download(f"api/batches/{batch_id}/export/", {"format": format}, Path(path))

    def batches(
        self,
        *,
        search: str | None = None,
        status: str | None = None,
        ordering: str | None = None,
        page_size: int | None = None,
        **filters: Any,
    ) -> Iterator[Batch]:
        """Iterate lazily over all your batches (``GET /api/batches/``), newest first,
        fetching a page (``page_size``, 1-100) at a time. ``search`` looks in the jobs'
        file names; other filters (``created_after``...) pass through. Listed batches
        have no ``jobs``: :meth:`get_batch` has them."""
        params = {
            "search": search,
            "status": status,
            "ordering": ordering,
            "page_size": page_size,
            **filters,
        }
        query = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in params.items()}
        return self._paginate("api/batches/", query, Batch.from_dict)


__all__ = ["EXPORT_FORMATS", "Client", "DocumentSource", "parse_retry_after"]
