"""Download a document from a user-given URL, safely (SSRF-aware).

Pure code with ``requests``, no Django. :func:`fetch_url`:

* accepts only ``http``/``https`` URLs (``url_forbidden`` otherwise);
* resolves the host once, refuses it when ANY resolved address is loopback,
  private, link-local, multicast, reserved, unspecified, shared/CGNAT
  (100.64.0.0/10), documentation/benchmark space or a cloud metadata address
  (169.254.169.254, fd00:ec2::254), including such IPv4 addresses embedded in
  IPv6 (``::ffff:a.b.c.d``, NAT64, 6to4) - unless ``allow_private``;
* then connects to the very address it checked (the connection is pinned to
  the IP while TLS SNI, certificate checks and the ``Host`` header keep the
  host name), so a DNS answer that changes between check and connect (DNS
  rebinding) cannot redirect the request to an internal address;
* follows at most ``max_redirects`` redirects itself, checking every hop the
  same way;
* streams the body with a byte cap (``file_too_large``) and an overall
  deadline (``timeout``);
* ignores proxy environment variables (``trust_env=False``): going through a
  proxy would defeat the address check, which would then have to live in the
  proxy.

Residual risks: an allowed public host may itself proxy to internal
services (nothing a client can see); pinning swaps urllib3's ``_dns_host``
connection attribute during ``_new_conn`` (the same in urllib3 1.26 and 2.x;
the tests check the dialled address, ``Host`` header and TLS name checks).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from app.errors import OcrError

USER_AGENT = "onlineocr/0.1 (+https://github.com/; document fetcher)"
CHUNK_BYTES = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Refused even when Python's flags miss them (cloud metadata, CGNAT, benchmarks...).
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
        "fd00:ec2::254/128",
        "2001::/32",  # Teredo: tunnels to arbitrary IPv4
        "2001:db8::/32",
    )
)
_METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class Fetched:
    """A downloaded body: ``data`` bytes, ``content_type`` (lower-case media
    type without parameters, or None), a safe base ``filename`` and the
    ``final_url`` after redirects."""

    data: bytes
    content_type: str | None
    filename: str
    final_url: str


def forbidden_reason(ip: IPAddress | str) -> str | None:
    """Why ``ip`` must not be fetched from (``"loopback"``...), or None if it is public."""
    addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = addr.ipv4_mapped or addr.sixtofour
        if embedded is None and addr in _NAT64:
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None:
            inner = forbidden_reason(embedded)
            return f"{inner} (embedded in IPv6)" if inner else None
        if addr.scope_id:
            return "scoped (link-local)"
    if addr in _METADATA:
        return "cloud metadata"
    for flag in (
        "is_loopback",
        "is_unspecified",
        "is_link_local",
        "is_multicast",
        "is_private",
        "is_reserved",
    ):
        if getattr(addr, flag):
            return flag[3:].replace("_", "-")
    if any(addr in net for net in _BLOCKED_NETWORKS):
        return "non-public"
    if not addr.is_global:
        return "non-public"
    return None


def _forbidden(message: str) -> OcrError:
    return OcrError("url_forbidden", message, field="url")


def _unreachable(message: str) -> OcrError:
    return OcrError("url_unreachable", message, field="url")


def _check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL, or ``url_forbidden``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _forbidden(f"Not a valid URL: {exc}.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _forbidden(
            f"Only http and https URLs can be fetched, not {scheme or 'a relative URL'!r}."
        )
    host = parts.hostname
    if not host:
        raise _forbidden("The URL has no host.")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Every address ``host`` resolves to, all checked; ``url_forbidden`` if any is internal."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise _unreachable(f"Cannot resolve the host {host!r}: {exc}.") from exc
    addresses: list[str] = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = str(sockaddr[0]).split("%", 1)[0]
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise _unreachable(f"The host {host!r} has no IP address.")
    if not allow_private:
        for ip in addresses:
            reason = forbidden_reason(ip)
            if reason:
                raise _forbidden(
                    f"The host {host!r} resolves to {ip}, a {reason} address; "
                    "only public addresses can be fetched."
                )
    return addresses


# -- pinned connections -----------------------------------------------------------


def _pinned_pool_classes(ip: str) -> dict[str, type]:
    """urllib3 pool classes whose connections dial ``ip`` but keep the URL's host name."""

    def new_conn(conn: HTTPConnection, parent: type) -> Any:
        # urllib3 dials ``_dns_host`` in ``_new_conn`` and uses ``host`` (which
        # reads the same attribute) for SNI, certificate checks and ``Host``:
        # swap in the IP for the dial only.
        name = conn._dns_host
        conn._dns_host = ip
        try:
            return parent._new_conn(conn)
        finally:
            conn._dns_host = name

    class PinnedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> Any:
            return new_conn(self, HTTPConnection)

    class PinnedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> Any:
            return new_conn(self, HTTPSConnection)

    class PinnedHTTPPool(HTTPConnectionPool):
        ConnectionCls = PinnedHTTPConnection

    class PinnedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPSConnection

    return {"http": PinnedHTTPPool, "https": PinnedHTTPSPool}


class PinnedAdapter(HTTPAdapter):
    """A requests adapter that connects every request to one IP address."""

    def __init__(self, ip: str) -> None:
        self.ip = ip
        super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pinned_pool_classes(self.ip)


def pinned_session(ip: str) -> requests.Session:
    """A session (no proxies, no env) whose connections all go to ``ip``."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = {}
    adapter = PinnedAdapter(ip)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


# -- filename -------------------------------------------------------------------------

#: Replaced in a downloaded file's name, as app/files.py refuses them in names given by
#: users: C0 and C1 controls, DEL, path separators and ``:``, line and paragraph
#: separators, bidirectional embedding/override/isolate controls (``invoice\u202egnp.exe``
#: shows as ``invoiceexe.png``), lone surrogates.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f/\\\\:\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]+"
)


def _safe_filename(name: str | None) -> str:
    if not name:
        return ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip().strip(".")
    return name[:255]


def filename_from(content_disposition: str | None, url: str) -> str:
    """A safe base filename: ``Content-Disposition`` (``filename*``/``filename``),
    else the last URL path segment, else ``"download"``."""
    if content_disposition:
        msg = Message()
        msg["content-disposition"] = content_disposition
        try:
            name = _safe_filename(msg.get_filename())
        except (ValueError, LookupError):
            name = ""
        if name:
            return name
    path = urlsplit(url).path
    name = _safe_filename(unquote(path.rsplit("/", 1)[-1])) if path else ""
    return name or "download"


# -- fetch ---------------------------------------------------------------------------


def _set_read_timeout(response: requests.Response, seconds: float) -> None:
    """Bound the next socket read by the time left (best effort)."""
    try:
        conn = response.raw.connection
        if conn is not None and conn.sock is not None:
            conn.sock.settimeout(max(seconds, 0.01))
    except (AttributeError, OSError):
        pass


def fetch_url(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    max_redirects: int = 3,
    allow_private: bool = False,
    connect_timeout: float = 10.0,
    verify: bool | str = True,
    user_agent: str = USER_AGENT,
) -> Fetched:
    """GET ``url`` and return its body.

    ``max_bytes``: largest accepted body in bytes (after content decoding).
    ``timeout``: overall deadline in seconds for the whole fetch, redirects
    included; ``connect_timeout`` (seconds) bounds each connection attempt.
    ``max_redirects``: redirects followed (``max_redirects + 1`` hops refused).
    ``allow_private``: skip the address check (tests, trusted intranets).
    ``verify``: TLS verification, as in requests (True or a CA bundle path).

    Raises :class:`OcrError` with ``field="url"``:

    * ``url_forbidden``: not http(s), no host, or a non-public address;
    * ``url_unreachable``: DNS failure, connection refused/failed, TLS error,
      HTTP 4xx/5xx, a redirect without ``Location``, too many redirects;
    * ``file_too_large``: body larger than ``max_bytes``;
    * ``timeout``: the deadline passed while waiting for or reading the body.
    """
    deadline = time.monotonic() + timeout
    current = url
    for hop in range(max_redirects + 1):
        response = _open(
            current,
            deadline=deadline,
            timeout=timeout,
            connect_timeout=connect_timeout,
            allow_private=allow_private,
            verify=verify,
            user_agent=user_agent,
        )
        try:
            status = response.status_code
            if status in REDIRECT_STATUSES or 300 <= status < 400:
                location = response.headers.get("Location")
                if not location:
                    raise _unreachable(f"{current} answered {status} without a Location.")
                if hop == max_redirects:
                    raise _unreachable(
                        f"Too many redirects: more than {max_redirects} starting at {url}."
                    )
                current = urljoin(current, location)
                continue
            if status >= 400:
                reason = response.reason or ""
                raise _unreachable(f"{current} answered HTTP {status} {reason}".strip() + ".")
            data = _read_body(response, max_bytes=max_bytes, deadline=deadline, timeout=timeout)
            content_type = response.headers.get("Content-Type")
            media = content_type.split(";", 1)[0].strip().lower() if content_type else ""
            return Fetched(
                data=data,
                content_type=media or None,
                filename=filename_from(response.headers.get("Content-Disposition"), current),
                final_url=current,
            )
        finally:
            response.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _open(
    url: str,
    *,
    deadline: float,
    timeout: float,
    connect_timeout: float,
    allow_private: bool,
    verify: bool | str,
    user_agent: str,
) -> requests.Response:
    """Check ``url``'s host, then GET it (headers only) from the checked addresses in turn."""
    _, host, port = _check_url(url)
    addresses = _resolve(host, port, allow_private=allow_private)
    last: Exception | None = None
    for ip in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        session = pinned_session(ip)
        try:
            return session.get(
                url,
                stream=True,
                allow_redirects=False,
                timeout=(min(connect_timeout, remaining), remaining),
                verify=verify,
                headers={"User-Agent": user_agent, "Accept": "*/*"},
            )
        except requests.exceptions.SSLError as exc:
            raise _unreachable(f"TLS error talking to {host}: {exc}.") from exc
        except requests.exceptions.ReadTimeout as exc:
            raise OcrError(
                "timeout", f"{url} did not answer within {timeout:g} s.", field="url"
            ) from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.ConnectTimeout) as exc:
            last = exc  # try the next address of the host
        except requests.exceptions.RequestException as exc:
            raise _unreachable(f"Cannot fetch {url}: {exc}.") from exc
        finally:
            session.close()
    if last is None:
        raise OcrError("timeout", f"{url} did not answer within {timeout:g} s.", field="url")
    raise _unreachable(f"Cannot connect to {host} port {port}: {_short(last)}.") from last


def _short(exc: Exception) -> str:
    text = str(exc)
    match = re.search(r"\[Errno [^\]]+\] [^'\")]+", text)
    return match.group(0) if match else text[:200]


def _read_body(
    response: requests.Response, *, max_bytes: int, deadline: float, timeout: float
) -> bytes:
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise OcrError(
            "file_too_large",
            f"The document is {int(length)} bytes; the limit is {max_bytes} bytes.",
            field="url",
        )
    chunks: list[bytes] = []
    total = 0
    raw = response.raw
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OcrError(
                    "timeout",
                    f"Downloading {response.url} took more than {timeout:g} s.",
                    field="url",
                )
            _set_read_timeout(response, remaining)
            chunk = raw.read1(CHUNK_BYTES, decode_content=True)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise OcrError(
                    "file_too_large",
                    f"The document is larger than the limit of {max_bytes} bytes.",
                    field="url",
                )
            chunks.append(chunk)
    except (TimeoutError, urllib3.exceptions.ReadTimeoutError) as exc:
        raise OcrError(
            "timeout", f"Downloading {response.url} took more than {timeout:g} s.", field="url"
        ) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise _unreachable(f"The download of {response.url} broke off: {exc}.") from exc
    return b"".join(chunks)


# -- outbound POST (webhooks) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Posted:
    """The answer to :func:`post_json`: HTTP ``status``, ``latency`` in seconds (to the
    answer's headers and the first ``max_answer_bytes`` of its body, ``answer``, as
    text)."""

    status: int
    latency: float
    answer: str


def check_target(url: str, *, allow_private: bool = False) -> None:
    """Refuse ``url`` as a place to send to before any DNS lookup: not http(s), no host,
    or (unless ``allow_private``) a host that is an IP literal of a non-public address.
    Raises ``url_forbidden``. (Host names are resolved and checked at every sending,
    :func:`post_json`.)"""
    _, host, _ = _check_url(url)
    if allow_private:
        return
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    reason = forbidden_reason(literal)
    if reason:
        raise _forbidden(f"{host} is a {reason} address; only public addresses are allowed.")


def post_json(
    url: str,
    body: bytes,
    *,
    headers: dict[str, str],
    timeout: float,
    allow_private: bool = False,
    connect_timeout: float = 5.0,
    max_answer_bytes: int = 2048,
    verify: bool | str = True,
    user_agent: str = USER_AGENT,
) -> Posted:
    """POST ``body`` (JSON) to ``url`` with the same guard as :func:`fetch_url`.

    The host is resolved and every address checked (``allow_private`` skips that),
    the connection pinned to the checked address, proxies ignored, redirects NOT
    followed (a 3xx is an answer like any other), ``timeout`` seconds overall
    (``connect_timeout`` per connection attempt). At most ``max_answer_bytes`` of the
    answer are read. Raises ``OcrError`` (``url_forbidden``, ``url_unreachable``,
    ``timeout``) when there is no HTTP answer.
    """
    _, host, port = _check_url(url)
    addresses = _resolve(host, port, allow_private=allow_private)
    started = time.monotonic()
    deadline = started + timeout
    last: Exception | None = None
    for ip in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        session = pinned_session(ip)
        try:
            response = session.post(
                url,
                data=body,
                stream=True,
                allow_redirects=False,
                timeout=(min(connect_timeout, remaining), remaining),
                verify=verify,
                headers={
                    "User-Agent": user_agent,
                    "Content-Type": "application/json",
                    **headers,
                },
            )
            try:
                answer = response.raw.read(max_answer_bytes, decode_content=True) or b""
            except (urllib3.exceptions.HTTPError, OSError):
                answer = b""
            finally:
                response.close()
            return Posted(
                status=response.status_code,
                latency=time.monotonic() - started,
                answer=answer.decode("utf-8", errors="replace"),
            )
        except requests.exceptions.SSLError as exc:
            raise _unreachable(f"TLS error talking to {host}: {exc}.") from exc
        except requests.exceptions.ReadTimeout as exc:
            raise OcrError(
                "timeout", f"{url} did not answer within {timeout:g} s.", field="url"
            ) from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.ConnectTimeout) as exc:
            last = exc
        except requests.exceptions.RequestException as exc:
            raise _unreachable(f"Cannot send to {url}: {exc}.") from exc
        finally:
            session.close()
    if last is None:
        raise OcrError("timeout", f"{url} did not answer within {timeout:g} s.", field="url")
    raise _unreachable(f"Cannot connect to {host} port {port}: {_short(last)}.") from last
