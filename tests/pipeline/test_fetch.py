"""fetch_url against a real local HTTP(S) server (pytest-httpserver)."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from app.errors import OcrError
from app.pipeline.fetch import fetch_url as _fetch_url
from app.pipeline.fetch import filename_from, forbidden_reason, pinned_session

MB = 1024 * 1024


def fetch(url, **kw):
    kw.setdefault("max_bytes", MB)
    kw.setdefault("timeout", 5.0)
    return _fetch_url(url, **kw)


def test_fetch_ok(httpserver: HTTPServer):
    httpserver.expect_request("/docs/scan one.png").respond_with_data(
        b"\x89PNG data", content_type="image/png; charset=binary"
    )
    got = fetch(httpserver.url_for("/docs/scan%20one.png"), allow_private=True)
    assert got.data == b"\x89PNG data"
    assert got.content_type == "image/png"
    assert got.filename == "scan one.png"
    assert got.final_url == httpserver.url_for("/docs/scan%20one.png")


def test_filename_from_content_disposition(httpserver: HTTPServer):
    httpserver.expect_request("/dl").respond_with_data(
        b"%PDF-1.4",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"},
    )
    got = fetch(httpserver.url_for("/dl"), allow_private=True)
    assert got.filename == "résumé.pdf"
    assert got.content_type is None or got.content_type.startswith("text/")


@pytest.mark.parametrize(
    ("cd", "url", "expected"),
    [
        ('attachment; filename="../../etc/passwd"', "http://h/x", "passwd"),
        ('inline; filename="a\\\\b.tif"', "http://h/x", "b.tif"),
        (None, "http://h/path/to/file.jpg?x=1", "file.jpg"),
        (None, "http://h/", "download"),
        (None, "http://h", "download"),
        ("attachment", "http://h/a%2Fb.png", "b.png"),
        # C1 controls, bidi overrides and line separators never reach a stored name.
        ("attachment; filename*=UTF-8''invoice%E2%80%AEgnp.exe", "http://h/x", "invoice_gnp.exe"),
        ("attachment; filename*=UTF-8''a%C2%85b%E2%80%A8c.png", "http://h/x", "a_b_c.png"),
        (None, "http://h/scan%E2%81%A6x%C2%9B.png", "scan_x_.png"),
    ],
)
def test_filename_from(cd, url, expected):
    assert filename_from(cd, url) == expected


def test_size_cap_streaming(httpserver: HTTPServer):
    def chunks():
        for _ in range(64):
            yield b"x" * 64 * 1024  # 4 MB, chunked: no Content-Length

    httpserver.expect_request("/big").respond_with_response(Response(chunks()))
    with pytest.raises(OcrError) as exc:
        fetch(httpserver.url_for("/big"), max_bytes=MB, allow_private=True)
    assert exc.value.code == "file_too_large"


def test_size_cap_content_length(httpserver: HTTPServer):
    httpserver.expect_request("/big").respond_with_data(b"y" * (MB + 1))
    with pytest.raises(OcrError) as exc:
        fetch(httpserver.url_for("/big"), max_bytes=MB, allow_private=True)
    assert exc.value.code == "file_too_large"
    httpserver.expect_request("/exact").respond_with_data(b"y" * MB)
    assert len(fetch(httpserver.url_for("/exact"), max_bytes=MB, allow_private=True).data) == MB


def test_timeout_waiting_for_headers(httpserver: HTTPServer):
    def slow(request):
        time.sleep(1.5)
        return Response(b"late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    t0 = time.monotonic()
    with pytest.raises(OcrError) as exc:
        fetch(httpserver.url_for("/slow"), timeout=0.5, allow_private=True)
    assert exc.value.code == "timeout"
    assert time.monotonic() - t0 < 1.4


def test_overall_deadline_on_a_dripping_body(httpserver: HTTPServer):
    def drip():
        for _ in range(30):
            time.sleep(0.1)  # each read is fast, the whole body is not
            yield b"z"

    httpserver.expect_request("/drip").respond_with_response(Response(drip()))
    t0 = time.monotonic()
    with pytest.raises(OcrError) as exc:
        fetch(httpserver.url_for("/drip"), timeout=0.8, allow_private=True)
    assert exc.value.code == "timeout"
    assert time.monotonic() - t0 < 2.0


def _chain(httpserver: HTTPServer, hops: int) -> str:
    for i in range(hops):
        httpserver.expect_request(f"/r{i}").respond_with_data(
            "",
            status=302,
            headers={"Location": f"/r{i + 1}" if i % 2 else httpserver.url_for(f"/r{i + 1}")},
        )
    httpserver.expect_request(f"/r{hops}").respond_with_data(b"arrived", content_type="text/plain")
    return httpserver.url_for("/r0")


def test_three_redirects_followed(httpserver: HTTPServer):
    got = fetch(_chain(httpserver, 3), allow_private=True)
    assert got.data == b"arrived"
    assert got.final_url == httpserver.url_for("/r3")
    assert got.filename == "r3"


def test_four_redirects_refused(httpserver: HTTPServer):
    with pytest.raises(OcrError) as exc:
        fetch(_chain(httpserver, 4), allow_private=True)
    assert exc.value.code == "url_unreachable"
    assert "redirect" in exc.value.message.lower()
    assert "/r4" not in [req.path for req, _ in httpserver.log]


def test_redirect_to_other_scheme_refused(httpserver: HTTPServer):
    httpserver.expect_request("/go").respond_with_data(
        "", status=301, headers={"Location": "file:///etc/passwd"}
    )
    with pytest.raises(OcrError) as exc:
        fetch(httpserver.url_for("/go"), allow_private=True)
    assert exc.value.code == "url_forbidden"


@pytest.mark.parametrize("status", [404, 500])
def test_http_errors_are_unreachable(httpserver: HTTPServer, status):
    httpserver.expect_request("/e").respond_with_data("nope", status=status)
    with pytest.raises(OcrError) as exc:
        fetch(httpserver.url_for("/e"), allow_private=True)
    assert exc.value.code == "url_unreachable"
    assert str(status) in exc.value.message


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.pdf", "file:///etc/passwd", "gopher://x/", "/relative", "data:,x"]
)
def test_non_http_scheme_forbidden(url):
    with pytest.raises(OcrError) as exc:
        fetch(url)
    assert exc.value.code == "url_forbidden"
    assert exc.value.field == "url"


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "[::1]", "localhost", "[::ffff:127.0.0.1]"]
)
def test_forbidden_addresses_send_nothing(httpserver: HTTPServer, host):
    httpserver.expect_request("/secret").respond_with_data(b"internal")
    port = httpserver.port
    with pytest.raises(OcrError) as exc:
        fetch(f"http://{host}:{port}/secret", timeout=2.0)
    assert exc.value.code == "url_forbidden"
    assert exc.value.http_status == 400
    assert httpserver.log == []  # no request was sent


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.100.100.200",
        "0.0.0.0",  # noqa: S104
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
    ],
)
def test_forbidden_reason_internal(ip):
    assert forbidden_reason(ip) is not None


@pytest.mark.parametrize("ip", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_forbidden_reason_public(ip):
    assert forbidden_reason(ip) is None


def test_connection_refused_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(OcrError) as exc:
        fetch(f"http://127.0.0.1:{port}/", allow_private=True)
    assert exc.value.code == "url_unreachable"


def test_dns_failure_is_unreachable():
    with pytest.raises(OcrError) as exc:
        fetch("http://no-such-host.invalid/a.png")
    assert exc.value.code == "url_unreachable"
    assert "resolve" in exc.value.message


def test_connection_is_pinned_to_the_checked_ip(httpserver: HTTPServer):
    """The name never gets resolved again: the request goes to the pinned address."""
    httpserver.expect_request("/pin").respond_with_data(b"pinned")
    with pinned_session("127.0.0.1") as session:
        resp = session.get(f"http://rebind.invalid:{httpserver.port}/pin", timeout=5)
    assert resp.content == b"pinned"
    [(request, _)] = httpserver.log
    assert request.headers["Host"] == f"rebind.invalid:{httpserver.port}"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return cert, key


def test_https_pinned_keeps_sni_and_certificate_checks(tls_files):
    cert, key = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", ssl_context=context)
    server.start()
    try:
        server.expect_request("/t.txt").respond_with_data(b"secure")
        got = fetch(f"https://localhost:{server.port}/t.txt", allow_private=True, verify=str(cert))
        assert got.data == b"secure"
        # the same server by IP: the certificate does not match, so TLS fails
        with pytest.raises(OcrError) as exc:
            fetch(f"https://127.0.0.1:{server.port}/t.txt", allow_private=True, verify=str(cert))
        assert exc.value.code == "url_unreachable"
        assert "TLS" in exc.value.message
    finally:
        server.clear()
        if server.is_running():
            server.stop()
