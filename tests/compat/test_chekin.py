"""Chekin's OCR Web API (v1 and v2) served from our jobs and the local MRZ reader
(app/compat/chekin).

The end-to-end tests make Chekin's two calls exactly as its API reference's curl
examples do ("OCR Web": ``POST .../tools/ocr/picture/`` with ``Authorization: Token``
and ``{"picture_file": "data:image/...;base64,..."}``, then ``GET
.../tools/ocr/data/<id>/`` until ``COM`` or ``ERR``) against the live server and a
real worker, on passport and ID card pages rendered in OCR-B, and drive our own
Chekin client (app/engines/providers/chekin.py) against it. The others check the
refusals, the error table and the translation without a worker.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time

import pytest
import requests
from PIL import Image

from app.compat.chekin.errors import CHEKIN_ERRORS, ChekinError
from app.compat.chekin.results import STATUSES, date, type_doc
from app.engines.base import EngineOptions
from app.engines.mrz import icao
from app.errors import ERROR_CODES, OcrError
from tests.engines.mrz import samples
from tests.engines.providers.chekin_samples import ERIKSSON_READ, NEW_SCAN
from tests.factories import UserFactory
from tests.imaging import render_text

FIELDS = [
    "id", "picture_file", "mrz_detected", "status", "type_doc", "country",
    "date_of_birth", "expiration_date", "names", "surname", "nationality", "number",
    "sex", "valid_composite", "valid_date_of_birth", "valid_expiration_date",
    "valid_number", "valid_score",
]  # fmt: skip
FLAGS = ["valid_composite", "valid_date_of_birth", "valid_expiration_date", "valid_number"]


def _td3(surname_names: str, country: str, number: str, birth: str, sex: str, expiry: str):
    """A TD3 zone with every check digit computed (ICAO Doc 9303 part 4)."""
    line1 = f"P<{country}{surname_names}".ljust(44, "<")
    cd = icao.check_digit
    personal = "<" * 14
    head = f"{number}{cd(number)}{country}{birth}{cd(birth)}{sex}{expiry}{cd(expiry)}"
    composite = cd(head[:10] + head[13:20] + head[21:28] + personal + "<")
    return [line1, f"{head}{personal}<{composite}"]


#: The person of Chekin's own example answer, with a Spanish passport number.
SANCHEZ = _td3("SANCHEZ<<MARTIN", "ESP", "PAA123456", "750515", "M", "220803")
#: The ICAO specimen with the document number's check digit wrong (6 -> 5).
WRONG_DIGIT = [samples.TD3[0], samples.TD3[1][:9] + "5" + samples.TD3[1][10:]]


@pytest.fixture(scope="module", autouse=True)
def _ocrb_font() -> None:
    try:
        samples.ocrb_path()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


def data_url(image: Image.Image, fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    (image.convert("RGB") if fmt == "JPEG" else image).save(buf, fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode()


def new_key(name: str = "chekin") -> str:
    from app.services import key_create

    return key_create(owner=UserFactory(), name=name)[1]


@pytest.fixture
def key(db) -> str:
    return new_key()


class ChekinClient:
    """Chekin's two calls as its reference's curl examples make them."""

    def __init__(self, base: str, token: str, version: str) -> None:
        self.api = f"{base}/compat/chekin/api/v{version}/tools/ocr"
        self.http = requests.Session()
        self.http.headers.update(
            {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        )

    def scan(self, picture: str) -> dict:
        r = self.http.post(f"{self.api}/picture/", json={"picture_file": picture})
        assert r.status_code == 201, r.text
        return r.json()

    def wait(self, scan_id, timeout: float = 30.0) -> tuple[dict, list[str]]:
        """Poll the data call until ``COM`` or ``ERR``; the last answer and the statuses."""
        statuses: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.http.get(f"{self.api}/data/{scan_id}/")
            assert r.status_code == 200, r.text
            body = r.json()
            statuses.append(body["status"])
            if body["status"] in ("COM", "ERR"):
                return body, statuses
            time.sleep(0.1)
        raise AssertionError(f"scan {scan_id} still {statuses[-1]} after {timeout} s")


def assert_new(body: dict) -> None:
    """The upload's answer: stored, nothing read yet (the reference's example)."""
    assert list(body) == FIELDS
    assert body["status"] == "NEW" and body["mrz_detected"] is False
    assert all(body[name] is None for name in FIELDS[4:13]) and body["valid_score"] is None
    assert all(body[flag] is False for flag in FLAGS)


# --- end to end: the live server and a real worker -----------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_v2_passports_and_a_page_without_mrz(live_server, celery_worker, key):
    from app.models import Job

    client = ChekinClient(live_server.url, key, "2")
    eriksson = samples.photographed(samples.render_document(samples.TD3))
    pictures = {
        "eriksson": data_url(eriksson, "JPEG"),
        "sanchez": data_url(samples.render_document(SANCHEZ)),
        "wrong": data_url(samples.render_document(WRONG_DIGIT)),
        "text": data_url(render_text(["No machine readable zone on this page"]).image),
    }
    created = {name: client.scan(picture) for name, picture in pictures.items()}
    for body in created.values():
        assert_new(body)
        assert re.fullmatch(r"[0-9a-f]{32}", body["id"])
        assert body["picture_file"] == f"{client.api}/data/{body['id']}/picture/"
    done = {name: client.wait(body["id"]) for name, body in created.items()}
    for name, (body, statuses) in done.items():
        assert body["status"] == "COM", (name, body, celery_worker.output()[-2000:])
        assert set(statuses) <= {"NEW", "PRO", "COM"} and list(body) == FIELDS
        assert body["id"] == created[name]["id"]

    assert done["eriksson"][0] | {"id": None, "picture_file": None} == NEW_SCAN | ERIKSSON_READ
    sanchez = done["sanchez"][0]
    assert (sanchez["surname"], sanchez["names"], sanchez["number"]) == (
        "SANCHEZ",
        "MARTIN",
        "PAA123456",
    )
    assert (sanchez["country"], sanchez["nationality"], sanchez["sex"]) == ("ESP", "ESP", "M")
    assert (sanchez["date_of_birth"], sanchez["expiration_date"]) == ("1975-05-15", "2022-08-03")
    assert all(sanchez[flag] for flag in FLAGS) and sanchez["valid_score"] == 100

    wrong = done["wrong"][0]
    assert wrong["number"] == "L898902C3" and wrong["surname"] == "ERIKSSON"
    assert wrong["valid_number"] is False and wrong["valid_composite"] is False
    assert wrong["valid_date_of_birth"] is True and wrong["valid_expiration_date"] is True
    assert 0 < wrong["valid_score"] < 100

    text = done["text"][0]  # read to the end, nothing found: COM, as the upload's nulls
    assert text["mrz_detected"] is False and text["type_doc"] is None
    assert text["number"] is None and text["valid_score"] is None
    assert not any(text[flag] for flag in FLAGS)

    # picture_file: the picture as uploaded, for this key only.
    url = done["eriksson"][0]["picture_file"]
    r = client.http.get(url)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"
    assert r.content == base64.b64decode(pictures["eriksson"].split(",", 1)[1])
    assert requests.get(url).status_code == 401
    other = {"Authorization": f"Token {new_key('other')}"}
    assert requests.get(url, headers=other).status_code == 404
    r = requests.get(f"{client.api}/data/{created['eriksson']['id']}/", headers=other)
    assert r.status_code == 404 and r.json() == {"detail": "Not found."}

    jobs = Job.objects.filter(pk__in=[body["id"] for body in created.values()])
    assert {(job.source, job.engine, job.status) for job in jobs} == {("chekin", "mrz", "done")}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_v1_integer_ids_and_yymmdd_dates(live_server, celery_worker, key):
    from app.models import CompatNumber

    client = ChekinClient(live_server.url, key, "1")
    card = client.scan(data_url(samples.render_document(samples.TD1)))
    passport = client.scan(data_url(samples.render_document(SANCHEZ), "JPEG"))
    assert_new(card)
    assert isinstance(card["id"], int) and passport["id"] == card["id"] + 1
    assert card["picture_file"].endswith(f"/api/v1/tools/ocr/data/{card['id']}/picture/")

    body, _ = client.wait(card["id"])
    assert body["status"] == "COM" and body["id"] == card["id"]
    assert (body["type_doc"], body["country"], body["nationality"]) == ("ID", "UTO", "UTO")
    assert (body["surname"], body["names"], body["number"]) == (
        "ERIKSSON",
        "ANNA MARIA",
        "D23145890",
    )
    assert (body["date_of_birth"], body["expiration_date"], body["sex"]) == (
        "740812",
        "120415",
        "F",
    )
    assert all(body[flag] for flag in FLAGS) and body["valid_score"] == 100

    body, _ = client.wait(passport["id"])  # the person of Chekin's v1 example
    assert (body["type_doc"], body["surname"], body["names"]) == ("P", "SANCHEZ", "MARTIN")
    assert (body["date_of_birth"], body["expiration_date"]) == ("750515", "220803")
    assert body["valid_score"] == 100

    assert CompatNumber.objects.get(pk=card["id"]).job.source == "chekin"
    other = {"Authorization": f"Token {new_key('other')}"}
    for path in (f"data/{card['id']}/", f"data/{card['id']}/picture/"):
        r = requests.get(f"{client.api}/{path}", headers=other)
        assert r.status_code == 404 and r.json() == {"detail": "Not found."}
    assert client.http.get(f"{client.api}/data/{passport['id'] + 1000}/").status_code == 404
    assert client.http.get(f"{client.api}/data/{card['id']}/picture/").status_code == 200


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_our_chekin_client_reads_through_the_drop_in(live_server, celery_worker, key):
    """Round trip: our provider client for Chekin, pointed at the drop-in."""
    from app.engines.providers import chekin
    from tests.engines.providers.conftest import make_config

    def engine(token: str):
        return chekin.build(
            make_config(
                OCR_CHEKIN_BASE_URL=f"{live_server.url}/compat/chekin/api/v2",
                OCR_CHEKIN_TOKEN=token,
                OCR_PROVIDER_READ_TIMEOUT=10.0,
                OCR_PROVIDER_POLL_TIMEOUT=30.0,
                OCR_PROVIDER_POLL_INTERVAL=0.1,
            )
        )

    image = samples.render_document(SANCHEZ)  # sent as JPEG by the client
    page = engine(key).recognize_page(image, page_number=1, options=EngineOptions())
    assert page.mrz == {
        "mrz_detected": True,
        "type_doc": "P",
        "country": "ESP",
        "surname": "SANCHEZ",
        "names": "MARTIN",
        "number": "PAA123456",
        "nationality": "ESP",
        "date_of_birth": "1975-05-15",
        "sex": "M",
        "expiration_date": "2022-08-03",
        "valid_number": True,
        "valid_date_of_birth": True,
        "valid_expiration_date": True,
        "valid_composite": True,
        "valid_score": 100,
    }
    assert "Document number: PAA123456" in page.text and page.confidence == 100.0
    with pytest.raises(OcrError) as caught:
        engine("abcdefgh.not-a-real-key").recognize_page(
            image, page_number=1, options=EngineOptions()
        )
    assert caught.value.code == "provider_auth"


# --- refusals, on the test client (nothing is enqueued outside a transaction) -------

V2 = "/compat/chekin/api/v2/tools/ocr"


def _post(client, key, body, *, content_type="application/json", path=f"{V2}/picture/"):
    return client.post(
        path, data=body, content_type=content_type, headers={"Authorization": f"Token {key}"}
    )


SPACES = "Invalid token header. Token string should not contain spaces."


def test_credentials_are_checked_as_drf_does(client, key):
    picture = {"picture_file": data_url(render_text(["x"]).image)}
    cases = [
        ({}, "Authentication credentials were not provided."),
        ({"Authorization": f"Bearer {key}"}, "Authentication credentials were not provided."),
        ({"Authorization": "Token"}, "Invalid token header. No credentials provided."),
        ({"Authorization": "Token a b"}, SPACES),
        ({"Authorization": "Token abcdefgh.not-a-real-key"}, "Invalid token."),
        ({"Authorization": f"Token {key}x"}, "Invalid token."),
    ]  # fmt: skip
    for headers, message in cases:
        r = client.post(
            f"{V2}/picture/", data=picture, content_type="application/json", headers=headers
        )
        assert r.status_code == 401, (headers, r.content)
        assert r.json() == {"detail": message} and r["WWW-Authenticate"] == "Token"
    r = client.get(f"{V2}/data/{'0' * 32}/", headers={"Authorization": "Token nope.nope"})
    assert r.status_code == 401

    from app.models import Job

    assert not Job.objects.exists()


def test_bad_pictures_are_field_errors(client, key, settings):
    from app.models import Job

    text_file = base64.b64encode(b"Dear guest, this is plain text, not a picture." * 10).decode()
    bomb = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(bomb, "PNG")  # 900 Mpx in a few kB
    cases = [
        ({"picture_file": "data:image/png;base64,@@not base64@@"}, "picture_file"),
        ({"picture_file": "data:image/png,rawbytes"}, "picture_file"),
        ({"picture_file": "https://example.com/passport.jpg"}, "picture_file"),
        ({"picture_file": f"data:image/png;base64,{text_file}"}, "picture_file"),
        ({"picture_file": base64.b64encode(b"\x89PNG\r\n\x1a\n broken").decode()}, "picture_file"),
        ({"picture_file": data_url(Image.open(bomb))}, "picture_file"),
        ({"picture_file": ""}, "picture_file"),
        ({"picture_file": 12}, "picture_file"),
        ({"picture": data_url(render_text(["x"]).image)}, "picture_file"),
        ([1, 2], "non_field_errors"),
    ]
    for body, field in cases:
        r = _post(client, key, body)
        assert r.status_code == 400, (str(body)[:80], r.content)
        assert list(r.json()) == [field] and isinstance(r.json()[field][0], str), r.json()
    assert _post(client, key, {}).json() == {"picture_file": ["This field is required."]}
    r = _post(client, key, "{not json")
    assert r.status_code == 400 and r.json()["detail"].startswith("JSON parse error")

    field = "picture_file=" + "A" * 3_000_000  # over Django's 2.5 MB for a form field
    r = _post(client, key, field, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and "larger" in r.json()["picture_file"][0]

    settings.OCR_MAX_UPLOAD_BYTES = 2_000
    r = _post(client, key, {"picture_file": data_url(samples.render_document(samples.TD1))})
    assert r.status_code == 400 and "limit" in r.json()["picture_file"][0]
    assert not Job.objects.exists()  # a refused picture stores nothing


def test_the_request_styles_a_client_may_send(client, key):
    """JSON under the reference's ``multipart/form-data`` header, a real form, bare
    base64, the path without its slash: all accepted (201, a NEW scan)."""
    from django.test.client import encode_multipart

    from app.models import Job

    png = render_text(["MRZ"]).png()
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    boundary = "chekinBoundary"
    form = encode_multipart(boundary, {"picture_file": url})
    upload = encode_multipart(boundary, {"picture_file": io.BytesIO(png)})
    answers = [
        # the v2 reference's curl: JSON text under a bare multipart/form-data header
        _post(client, key, json.dumps({"picture_file": url}), content_type="multipart/form-data"),
        _post(client, key, form, content_type=f"multipart/form-data; boundary={boundary}"),
        _post(client, key, upload, content_type=f"multipart/form-data; boundary={boundary}"),
        _post(client, key, {"picture_file": base64.b64encode(png).decode()}),
        _post(client, key, {"picture_file": url}, path=f"{V2}/picture"),
        _post(client, key, {"picture_file": url}, path="/compat/chekin/api/v1/tools/ocr/picture/"),
    ]
    for r in answers:
        assert r.status_code == 201, r.content
        assert_new(r.json())
    assert Job.objects.filter(source="chekin", engine="mrz").count() == len(answers)
    assert {job.content_type for job in Job.objects.all()} == {"image/png"}
    v2_id = answers[0].json()["id"]
    headers = {"Authorization": f"Token {key}"}
    assert client.get(f"{V2}/data/{v2_id}", headers=headers).json()["status"] == "NEW"
    assert client.get(f"{V2}/data/{v2_id.upper()}/", headers=headers).status_code == 200


def test_paths_methods_and_ids(client, key):
    headers = {"Authorization": f"Token {key}"}
    r = client.get(f"{V2}/picture/", headers=headers)
    assert r.status_code == 405 and r.json() == {"detail": 'Method "GET" not allowed.'}
    assert r["Allow"] == "POST"
    r = client.post(f"{V2}/data/{'a' * 32}/", headers=headers)
    assert r.status_code == 405
    for path in [
        f"{V2}/data/{'a' * 32}/",  # no such scan
        f"{V2}/data/12/",  # a v1 id on v2
        "/compat/chekin/api/v1/tools/ocr/data/" + "a" * 32 + "/",  # a v2 id on v1
        "/compat/chekin/api/v1/tools/ocr/data/0/",
        f"{V2}/data/not-an-id/picture/",
        "/compat/chekin/api/v3/tools/ocr/picture/",
        "/compat/chekin/api/v2/tools/ocr/",
        "/compat/chekin/nothing/here",
    ]:
        r = client.get(path, headers=headers)
        assert r.status_code == 404, path
        assert r.json() == {"detail": "Not found."}


def test_job_states_read_as_chekin_statuses(client, key):
    """NEW, PRO and ERR from the job's state; a job of our own API is not a scan."""
    from app.models import ApiKey, Job

    owner = ApiKey.objects.get(prefix=key.split(".")[0]).owner
    job = Job.objects.create(
        owner=owner, content_type="image/png", sha256="0" * 64, engine="mrz", source="chekin"
    )
    headers = {"Authorization": f"Token {key}"}
    seen = {}
    for status in ("pending", "processing", "failed", "canceled"):
        Job.objects.filter(pk=job.pk).update(status=status, error_code="engine_crash")
        body = client.get(f"{V2}/data/{job.id.hex}/", headers=headers).json()
        seen[status] = body["status"]
        assert body["mrz_detected"] is False and body["number"] is None
    assert seen == {"pending": "NEW", "processing": "PRO", "failed": "ERR", "canceled": "ERR"}
    Job.objects.filter(pk=job.pk).update(source="")
    assert client.get(f"{V2}/data/{job.id.hex}/", headers=headers).status_code == 404


def test_a_throttled_key_gets_drfs_429(client, key, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": None})
    headers = {"Authorization": f"Token {key}"}
    missing = f"{V2}/data/{'b' * 32}/"
    assert [client.get(missing, headers=headers).status_code for _ in range(2)] == [404, 404]
    r = client.get(missing, headers=headers)
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert r.json()["detail"].startswith("Request was throttled. Expected available in")


def test_job_numbers_are_stable_and_go_with_the_job(db, key):
    from app.models import CompatNumber, Job
    from app.services import job_delete, job_number

    first = Job.objects.create(content_type="image/png", sha256="0" * 64, engine="mrz")
    second = Job.objects.create(content_type="image/png", sha256="1" * 64, engine="mrz")
    number = job_number(job=first)
    assert job_number(job=first) == number and job_number(job=second) == number + 1
    job_delete(job=first)
    assert not CompatNumber.objects.filter(pk=number).exists()


# --- the translation, without a server ---------------------------------------------


def test_every_error_code_has_a_chekin_translation():
    assert set(ERROR_CODES) <= set(CHEKIN_ERRORS)
    documented = {400, 401, 403, 404, 405, 406, 415, 429, 500, 503}
    for code, found in CHEKIN_ERRORS.items():
        assert found.status in documented, code
        body = ChekinError.from_ocr(OcrError(code, "why", retry_after=3)).body
        assert list(body) in (["detail"], ["picture_file"]), (code, body)
    for code in ("file_too_large", "too_many_pixels", "unsupported_format", "url_forbidden"):
        error = ChekinError.from_ocr(OcrError(code, "too big"))
        assert (error.status, error.body) == (400, {"picture_file": ["too big"]})
    assert set(STATUSES.values()) == {"NEW", "PRO", "COM", "ERR"}


def test_type_doc_and_dates():
    assert type_doc({"raw": ["P<UTO..."]}) == "P"
    assert type_doc({"raw": ["I<UTO..."]}) == type_doc({"raw": ["ACUTO..."]}) == "ID"
    assert type_doc({"raw": ["IXESP..."]}) == "IX"
    assert type_doc({"raw": ["V<UTO..."]}) == "V"
    assert date("1974-08-12", "2") == "1974-08-12" and date("1974-08-12", "1") == "740812"
    assert date(None, "1") is None and date("2012-04-15", "1") == "120415"
