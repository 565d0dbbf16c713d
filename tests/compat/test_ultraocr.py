"""UltraOCR v2 served from our jobs (app/compat/ultraocr).

The end-to-end tests drive the live server and a real worker with the official
Python SDK's calls (tests/compat/ultraocr_client.py: the SDK is not on PyPI), with
the Go and C# SDKs' request styles (no Content-Type, ``text/plain``, a ``null``
body), and with our own UltraOCR provider client (app/engines/providers/ultraocr.py)
as one more real client. They read rendered scans and an MRZ specimen and check the
text, the boxes, the MRZ fields, the ids and the error shape.
"""

from __future__ import annotations

import base64
import io
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from ksuid import Ksuid

from app.compat.ultraocr import views
from app.compat.ultraocr.errors import ULTRA_STATUS
from app.compat.ultraocr.ids import ksuid_of, new_uuid7, uuid_of
from app.engines.base import EngineOptions
from app.engines.providers import ultraocr as provider
from app.errors import ERROR_CODES, OcrError
from app.models import Batch, Job, UploadSlot
from tests.compat.ultraocr_client import Client, StatusError
from tests.corpus import png_header_bomb
from tests.engines.mrz import samples
from tests.engines.providers.conftest import make_config
from tests.factories import UserFactory
from tests.imaging import cer, degrade, render_text, text_pdf

LINES = ["Drop in the UltraOCR client unchanged", "and read this scanned page locally."]
WORKER = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


# --- ids and tables, without a server --------------------------------------------------


def test_ksuids_carry_our_uuids():
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    pk = uuid.uuid4()
    ksuid = ksuid_of(pk, moment)
    assert len(ksuid) == 27 and uuid_of(ksuid) == pk
    assert Ksuid.from_base62(ksuid).datetime == moment
    # a UUIDv7's own time is the timestamp, whatever the row's created_at
    v7 = new_uuid7()
    assert v7.version == 7
    assert ksuid_of(v7, moment) == ksuid_of(v7, moment + timedelta(days=3))
    assert abs(Ksuid.from_base62(ksuid_of(v7, moment)).datetime - datetime.now(UTC)) < timedelta(
        seconds=5
    )
    for bad in ("", "abc", "z" * 27, "0ujsszwN8NRY24YaXiTIE2VWDT!", "é" * 27):
        with pytest.raises(OcrError) as err:
            uuid_of(bad)
        assert err.value.code == "not_found"


def test_every_error_code_has_a_4xx_status():
    assert set(ULTRA_STATUS) == set(ERROR_CODES)
    assert all(400 <= status < 500 or status == 503 for status in ULTRA_STATUS.values())


# --- end to end --------------------------------------------------------------------------


@pytest.fixture
def account(db):
    """(user, raw key) of a fresh user."""
    from app.services import key_create

    user = UserFactory()
    return user, key_create(owner=user, name="ultraocr")[1]


def _client(live_server, user, key, **kwargs) -> Client:
    base = f"{live_server.url}/compat/ultraocr/v2"
    client = Client(base_url=base, auth_base_url=base, interval=0.25, **kwargs)
    client.authenticate(user.username, key, 60)
    return client


def _words(data: dict) -> list[dict]:
    return [word for line in data["Lines"]["value"] for word in line["words"]]


def _check_text_page(entry: dict, rendered) -> None:
    """The page's text reads as rendered; boxes lie inside the page and on the words."""
    data = entry["Data"]
    assert cer(rendered.text, data["Text"]["value"]) < 0.05, data["Text"]["value"]
    assert (entry["Width"], entry["Height"]) == rendered.image.size
    assert 50 < data["Text"]["conf"] <= 100
    words = _words(data)
    assert len(words) >= len(rendered.word_boxes) - 1
    for word in words:
        left, top, right, bottom = word["bbox"]
        assert 0 <= left < right <= entry["Width"] and 0 <= top < bottom <= entry["Height"]
        assert 0 <= word["conf"] <= 100
    found = {w["text"]: w["bbox"] for w in words}
    for text, (left, top, right, bottom) in rendered.word_boxes:
        if text in found:  # the box we give lies on the word drawn
            got = found[text]
            assert abs(got[0] - left) < 12 and abs(got[2] - right) < 12, (text, got)
            assert abs(got[1] - top) < 12 and abs(got[3] - bottom) < 12, (text, got)
    assert sum(text in found for text, _ in rendered.word_boxes) >= len(rendered.word_boxes) - 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_python_sdk_two_step_base64_and_single_step(live_server, celery_worker, account, tmp_path):
    user, key = account
    client = _client(live_server, user, key)
    rendered = render_text(LINES)
    scan = degrade(rendered.image)
    path = tmp_path / "scan.png"
    scan.save(path)

    # two steps: signed URL, PUT of the raw file, poll until done
    created = client.generate_signed_url("text", {"ref": "A-1"})
    assert isinstance(created["exp"], int) and created["exp"] > 0
    assert set(created["urls"]) == {"document"}
    assert "Authorization" not in created["urls"]["document"]
    waiting = client.get_job_result(created["id"], created["id"])
    assert waiting["status"] == "waiting" and waiting["job_ksuid"] == created["id"]
    with open(path, "rb") as fh:
        put = requests.put(created["urls"]["document"], data=fh.read(), timeout=30)
    assert put.status_code == 200
    again = requests.put(created["urls"]["document"], data=b"x", timeout=30)
    assert again.status_code == 403 and "message" in again.json()  # single use
    result = client.wait_for_job_done(created["id"], created["id"])
    assert result["status"] == "done", result
    assert result["job_ksuid"] == created["id"] and result["service"] == "text"
    assert result["created_at"].endswith("Z") and float(result["result"]["Time"]) > 0
    (entry,) = result["result"]["Document"]
    assert entry["Page"] == 1 and result["result"]["Quantity"] == 1
    _check_text_page(entry, rendered)
    assert result["client_data"] == {"ref": "A-1"}
    job = Job.objects.get(pk=uuid_of(created["id"]))
    assert job.source == "ultraocr" and job.owner == user and job.metadata == {"ref": "A-1"}
    # the one-segment result path of the docs' status_url answers the same
    one = requests.get(created["status_url"], headers={"Authorization": f"Bearer {client.token}"})
    assert one.status_code == 200 and one.json()["status"] == "done"

    from app.services import key_create

    stranger = UserFactory()
    theirs = _client(live_server, stranger, key_create(owner=stranger, name="k")[1])
    for call in (theirs.get_job_info, lambda i: theirs.get_job_result(i, i)):
        with pytest.raises(StatusError) as err:  # another user's job: not found
            call(created["id"])
        assert err.value.status == 404

    info = client.get_job_info(created["id"])
    assert info["job_id"] == created["id"] and info["source"] == "API"
    assert info["client_id"] == key.split(".")[0] and info["company_id"] == user.username
    assert info["metadata"] == {"ref": "A-1"} and info["finished_at"].endswith("Z")

    # base64 upload (?base64=true) and the single step, both with the SDK's calls
    b64 = base64.b64encode(path.read_bytes()).decode()
    for sent in (
        client.send_job_base64("text", b64, metadata={"n": 2}),
        client.send_job_single_step("text", b64, metadata={"n": 3}),
    ):
        done = client.wait_for_job_done(sent["id"], sent["id"])
        assert done["status"] == "done", done
        assert cer(rendered.text, done["result"]["Document"][0]["Data"]["Text"]["value"]) < 0.05
    assert client.get_job_result(sent["id"], sent["id"])["client_data"] == {"n": 3}

    # the job listing, with the SDK's misspelt endtDate and nextPageToken pages
    today = datetime.now(UTC).date()
    views.PAGE_SIZE = 2
    try:
        listed = client.get_jobs(str(today - timedelta(days=1)), str(today))
    finally:
        views.PAGE_SIZE = 50
    assert sorted(j["job_ksuid"] for j in listed) == sorted(
        ksuid_of(j.pk, j.created_at) for j in Job.objects.filter(owner=user)
    )
    assert len(listed) == 3 and all(j["status"] == "done" for j in listed)
    assert client.get_jobs(str(today + timedelta(days=1)), str(today + timedelta(days=2))) == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_passport_service_reads_the_mrz(live_server, celery_worker, account):
    try:
        document = samples.render_document(samples.TD3)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    user, key = account
    client = _client(live_server, user, key)
    buf = io.BytesIO()
    document.save(buf, "PNG")
    sent = client.send_job_single_step("passport", base64.b64encode(buf.getvalue()).decode())
    result = client.wait_for_job_done(sent["id"], sent["id"])
    assert result["status"] == "done" and result["service"] == "passport", result
    data = result["result"]["Document"][0]["Data"]
    values = {name: field["value"] for name, field in data.items()}
    assert values["MrzDetected"] is True and values["MrzFormat"] == "TD3"
    assert values["DocumentNumber"] == "L898902C3" and data["DocumentNumber"]["valid"] is True
    assert values["Surname"] == "ERIKSSON" and values["GivenNames"] == "ANNA MARIA"
    assert values["Country"] == "UTO" and values["Nationality"] == "UTO" and values["Sex"] == "F"
    assert values["BirthDate"].endswith("08-12") and data["BirthDate"]["valid"] is True
    assert values["ExpirationDate"].endswith("04-15") and data["ExpirationDate"]["valid"] is True
    assert values["CompositeValid"] is True and values["ValidScore"] == 100
    assert values["Mrz"] == samples.TD3
    assert all(0 < field["conf"] <= 100 for field in data.values())
    assert Job.objects.get(pk=uuid_of(sent["id"])).engine == "mrz"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_batch_of_a_pdf_one_job_per_page(live_server, celery_worker, account, tmp_path):
    user, key = account
    client = _client(live_server, user, key)
    path = tmp_path / "two.pdf"
    path.write_bytes(text_pdf(2))
    sent = client.send_batch("text", str(path), metadata=[{"page": "a"}, {"page": "b"}])
    status = client.wait_for_batch_done(sent["id"])
    assert status["status"] == "done" and status["batch_ksuid"] == sent["id"], status
    assert len(status["jobs"]) == 2
    for job in status["jobs"]:
        assert job["status"] == "done" and job["result_url"].endswith(
            f"/ocr/job/result/{sent['id']}/{job['job_ksuid']}"
        )
    batch = Batch.objects.get(pk=uuid_of(sent["id"]))
    assert batch.owner == user and batch.job_count == 2
    assert batch.metadata == {"_value": [{"page": "a"}, {"page": "b"}]}

    results = client.get_batch_result(sent["id"])
    texts = [r["result"]["Document"][0]["Data"]["Text"]["value"] for r in results]
    for n, text in enumerate(texts, start=1):
        assert cer(f"Page {n} of a document\nread page by page.", text) < 0.1, text
    assert [r["client_data"] for r in results] == [{"page": "a"}, {"page": "b"}]
    info = client.get_batch_info(sent["id"])
    assert (info["total_jobs"], info["total_processed"], info["status"]) == (2, 2, "done")
    assert info["batch_id"] == sent["id"] and info["source"] == "API"

    storage = client.get_batch_result_storage(sent["id"])
    assert isinstance(storage["exp"], str)
    file = requests.get(storage["url"], timeout=30)  # no Authorization: the URL is signed
    assert file.status_code == 200 and file.json() == results
    forged = requests.get(storage["url"][:-3] + "abc", timeout=30)
    assert forged.status_code == 403 and "message" in forged.json()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_go_and_csharp_request_styles(live_server, celery_worker, account):
    """Go sends JSON with no Content-Type (and ``null`` for no metadata); C# and JS
    send ``text/plain``."""
    user, key = account
    base = f"{live_server.url}/compat/ultraocr/v2"
    token = requests.post(
        f"{base}/token",
        data=f'{{"ClientID": "{key.split(".")[0]}", "ClientSecret": "{key}", "ExpiresIn": 5}}',
        headers={"Content-Type": "text/plain; charset=utf-8"},
        timeout=30,
    )
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Bearer {token.json()['token']}"}
    session = requests.Session()
    # Go: no Content-Type at all, body "null"
    request = requests.Request("POST", f"{base}/ocr/job/text", data=b"null", headers=auth)
    prepared = session.prepare_request(request)
    prepared.headers.pop("Content-Type", None)
    created = session.send(prepared, timeout=30)
    assert created.status_code == 200, created.text
    assert isinstance(created.json()["exp"], int)
    rendered = render_text(["Sent the Go way", "without a content type."])
    put = requests.put(
        created.json()["urls"]["document"],
        data=base64.b64encode(rendered.png()),  # not base64: the bytes are the file
        headers={"Content-Type": "text/plain;charset=UTF-8"},
        timeout=30,
    )
    assert put.status_code == 415 and "message" in put.json()  # refused: not an image
    refused = requests.get(f"{base}/ocr/job/result/{created.json()['id']}", headers=auth)
    assert refused.json()["status"] == "error" and "refused" in refused.json()["error"]

    # C#: text/plain single step with a list and with an object body, trailing slashes
    body = f'{{"metadata": null, "data": "{base64.b64encode(rendered.png()).decode()}"}}'
    sent = requests.post(
        f"{base}/ocr/job/send/text/",
        data=body,
        headers={**auth, "Content-Type": "text/plain; charset=utf-8"},
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    job_id = sent.json()["id"]
    for _ in range(120):
        result = requests.get(f"{base}/ocr/job/result/{job_id}/{job_id}", headers=auth).json()
        if result["status"] in ("done", "error"):
            break
        time.sleep(0.25)
    assert result["status"] == "done", result
    assert cer(rendered.text, result["result"]["Document"][0]["Data"]["Text"]["value"]) < 0.05
    listed = requests.post(
        f"{base}/ocr/batch/text",
        data=b'[{"a": 1}]',
        headers={**auth, "Content-Type": "text/plain"},
        timeout=30,
    )
    assert listed.status_code == 200
    waiting = requests.get(listed.json()["status_url"], headers=auth).json()
    assert waiting["status"] == "waiting" and waiting["jobs"] == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_our_provider_client_round_trip(live_server, celery_worker, account):
    """Our own UltraOCR engine (the provider client) against this server."""
    user, key = account
    base = f"{live_server.url}/compat/ultraocr/v2"
    engine = provider.build(
        make_config(
            OCR_ULTRAOCR_BASE_URL=base,
            OCR_ULTRAOCR_AUTH_BASE_URL=base,
            OCR_ULTRAOCR_CLIENT_ID=user.username,
            OCR_ULTRAOCR_CLIENT_SECRET=key,
            OCR_ULTRAOCR_SERVICE="text",
            OCR_PROVIDER_POLL_TIMEOUT=30.0,
            OCR_PROVIDER_POLL_INTERVAL=0.2,
            OCR_PROVIDER_READ_TIMEOUT=10.0,
        )
    )
    rendered = render_text(LINES)
    page = engine.recognize_page(
        rendered.image.convert("RGB"), page_number=1, options=EngineOptions(timeout=40)
    )
    assert cer(rendered.text, page.fields["Text"]["value"]) < 0.05
    assert 50 < page.fields["Text"]["confidence"] <= 100
    with pytest.raises(OcrError) as err:  # an unknown service is UltraOCR's 400
        engine.recognize_page(
            rendered.image.convert("RGB"),
            page_number=1,
            options=EngineOptions(extra={"service": "cnh"}),
        )
    assert err.value.code == "provider_error" and "Invalid service" in err.value.message


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_tokens_and_refusals_in_ultraocrs_shape(live_server, account):
    from app.services import key_create, key_revoke

    user, key = account
    base = f"{live_server.url}/compat/ultraocr/v2"

    def token(**body):
        return requests.post(f"{base}/token", json=body, timeout=30)

    good = {"ClientID": user.username, "ClientSecret": key}
    assert token(**good, ExpiresIn=1440).status_code == 200
    for bad in (0, 1441, "x", True):
        answer = token(**good, ExpiresIn=bad)
        assert answer.status_code == 400 and "ExpiresIn" in answer.json()["message"]
    for creds in (
        {"ClientID": "someone", "ClientSecret": key},
        {"ClientID": user.username, "ClientSecret": key[:-2] + "zz"},
        {},
    ):
        answer = token(**creds)
        assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})

    first = token(**good).json()["token"]
    second = token(**good, ExpiresIn=1).json()["token"]
    for t in (first, second):  # an earlier token stays valid
        ok = requests.post(f"{base}/ocr/job/text", headers={"Authorization": f"Bearer {t}"})
        assert ok.status_code == 200, ok.text
    auth = {"Authorization": f"Bearer {first}"}
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": first}):
        answer = requests.get(f"{base}/ocr/job/results", headers=headers)
        assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})

    # errors of the calls themselves
    answer = requests.post(f"{base}/ocr/job/cnh", headers=auth)
    assert answer.status_code == 400 and "Invalid service" in answer.json()["message"]
    answer = requests.post(f"{base}/ocr/job/text", data=b"{not json", headers=auth)
    assert answer.status_code == 400 and "JSON" in answer.json()["message"]
    answer = requests.post(f"{base}/ocr/job/text", data=b'"a string"', headers=auth)
    assert answer.status_code == 400
    answer = requests.get(f"{base}/ocr/job/result/{'x' * 27}", headers=auth)
    assert answer.status_code == 404 and "message" in answer.json()
    answer = requests.get(f"{base}/ocr/job/results?startDate=yesterday", headers=auth)
    assert answer.status_code == 400 and "startDate" in answer.json()["message"]
    answer = requests.get(f"{base}/ocr/job/results?nextPageToken=forged", headers=auth)
    assert answer.status_code == 400
    answer = requests.get(f"{base}/ocr/job/text", headers=auth)  # GET on a POST route
    assert answer.status_code == 405 and "message" in answer.json()
    answer = requests.get(f"{base}/no/such/route", headers=auth)
    assert (answer.status_code, answer.json()) == (404, {"message": "Not Found"})
    bomb = base64.b64encode(png_header_bomb()).decode()
    answer = requests.post(f"{base}/ocr/job/send/text", json={"data": bomb}, headers=auth)
    assert answer.status_code == 413 and "message" in answer.json()
    answer = requests.post(f"{base}/ocr/job/send/text", json={"data": "%%%"}, headers=auth)
    assert answer.status_code == 400 and "base64" in answer.json()["message"]
    answer = requests.post(f"{base}/ocr/job/send/text", json={"nodata": 1}, headers=auth)
    assert answer.status_code == 400
    assert not Job.objects.filter(owner=user).exists()  # nothing stored by a refusal

    # another user's ids read as not found, and a revoked key's tokens stop
    created = requests.post(f"{base}/ocr/batch/text", headers=auth).json()
    other_user = UserFactory()
    other_key = key_create(owner=other_user, name="other")[1]
    other = token(ClientID=other_user.username, ClientSecret=other_key).json()["token"]
    for path in (f"ocr/batch/status/{created['id']}", f"ocr/batch/info/{created['id']}"):
        answer = requests.get(f"{base}/{path}", headers={"Authorization": f"Bearer {other}"})
        assert answer.status_code == 404, path
        assert requests.get(f"{base}/{path}", headers=auth).status_code == 200
    key_revoke(key=user.api_keys.get())
    answer = requests.get(f"{base}/ocr/batch/status/{created['id']}", headers=auth)
    assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})


@pytest.mark.django_db(transaction=True)
def test_upload_urls_expire_and_are_signed(live_server, account):
    user, key = account
    base = f"{live_server.url}/compat/ultraocr/v2"
    token = requests.post(
        f"{base}/token", json={"ClientID": user.username, "ClientSecret": key}
    ).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    created = requests.post(
        f"{base}/ocr/job/text?facematch=true&extra-document=true", json={"k": 1}, headers=auth
    ).json()
    assert set(created["urls"]) == {"document", "selfie", "extra_document"}
    assert requests.put(created["urls"]["selfie"], data=b"face").status_code == 200
    tampered = created["urls"]["document"].replace("/upload/", "/upload/x")
    assert requests.put(tampered, data=b"x").status_code == 403
    UploadSlot.objects.filter(pk=uuid_of(created["id"])).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    png = render_text(["late"]).png()
    answer = requests.put(created["urls"]["document"], data=png)
    assert answer.status_code == 403 and "expired" in answer.json()["message"]
    result = requests.get(f"{base}/ocr/job/result/{created['id']}", headers=auth).json()
    assert result["status"] == "error" and "expired" in result["error"]
    assert not Job.objects.filter(owner=user).exists()
