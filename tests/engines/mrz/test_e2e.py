"""``engine=mrz`` end to end: a rendered OCR-B passport page through the API and a real worker."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.engines.mrz import icao
from app.models import Page
from tests.api.helpers import upload
from tests.conftest import wait_for_job
from tests.engines.mrz import samples

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def _ocrb_font() -> None:
    try:
        samples.ocrb_path()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def run_mrz_job(client, image: Image.Image, worker) -> dict:
    response = client.post(
        "/api/ocr/", {"image": upload(png(image), "passport.png"), "engine": "mrz"}
    )
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["id"], timeout=90)
    assert job.status == "done", (job.error_code, job.error_message, worker.output()[-3000:])
    detail = client.get(f"/api/ocr/{job.id}/")
    assert detail.status_code == 200
    return detail.json()


def assert_td3(mrz: dict) -> None:
    expected = icao.parse(samples.TD3)
    assert mrz["mrz_detected"] is True
    assert mrz["format"] == expected["format"]
    assert mrz["type_doc"] == expected["type_doc"]
    assert mrz["number"] == "L898902C3"
    assert mrz["surname"] == "ERIKSSON" and mrz["names"] == "ANNA MARIA"
    assert mrz["country"] == "UTO" and mrz["nationality"] == "UTO" and mrz["sex"] == "F"
    assert mrz["date_of_birth"] == expected["date_of_birth"]
    assert mrz["expiration_date"] == expected["expiration_date"]
    assert mrz["date_of_birth"].endswith("08-12") and mrz["expiration_date"].endswith("04-15")
    for key in ("valid_number", "valid_date_of_birth", "valid_expiration_date", "valid_composite"):
        assert mrz[key] is True, key
    assert mrz["valid_score"] == 100
    assert mrz["raw"] == samples.TD3


def test_td3_passport_page_through_the_api(auth_client, celery_worker):
    document = samples.render_document(samples.TD3)
    body = run_mrz_job(auth_client, document, celery_worker)

    result = body["result"]
    assert result["engine"] == "mrz"
    page = result["pages"][0]
    assert_td3(page["mrz"])
    assert result["mrz"] == page["mrz"]  # repeated at document level
    assert body["text"] == "\n".join(samples.TD3)
    assert (page["width"], page["height"]) == document.size
    left, top, right, bottom = page["mrz"]["bbox"]
    assert top > document.height / 2 and right - left > 0.9 * 44 * 30
    for word in (w for b in page["blocks"] for ln in b["lines"] for w in ln["words"]):
        assert 0 <= word["confidence"] <= 100
    (row,) = Page.objects.filter(job_id=body["id"])
    assert row.raw_response is None  # a local engine has no provider answer to keep
    for fmt in ("txt", "hocr", "alto", "tsv", "pdf"):
        export = auth_client.get(f"/api/ocr/{body['id']}/export/?format={fmt}")
        assert export.status_code == 200, (fmt, export.content[:300])


def test_upside_down_page_is_served_as_read(auth_client, celery_worker):
    """The engine turns the page itself: the job records the turn, so the page image
    served with the result is upright and the MRZ box lies on the MRZ."""
    document = samples.render_document(samples.TD3)
    body = run_mrz_job(auth_client, document.rotate(180), celery_worker)

    page = body["result"]["pages"][0]
    assert_td3(page["mrz"])
    assert page["rotation"] == 180
    served = auth_client.get(f"/api/ocr/{body['id']}/pages/1/image/")
    assert served.status_code == 200
    image = Image.open(io.BytesIO(served.content)).convert("L")
    assert image.size == document.size
    diff = np.abs(np.asarray(image, dtype=np.int16) - np.asarray(document, dtype=np.int16))
    assert diff.mean() < 8, diff.mean()
