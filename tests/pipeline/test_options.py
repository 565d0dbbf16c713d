"""``JobOptions``: one frozen object from the request to the engine and back from the job."""

from __future__ import annotations

import dataclasses
import json
import pickle

import pytest

from app.api.serializers import OcrJsonSerializer
from app.engines.base import EngineOptions
from app.errors import OcrError
from app.pipeline.options import (
    ENGINE_OPTION_NAMES,
    OPTION_NAMES,
    PIPELINE_OPTION_NAMES,
    JobOptions,
)
from app.pipeline.preprocess import PreprocessOptions

#: Every option given, engine-specific ``service`` included.
EVERY = JobOptions(
    engine="ultraocr",
    languages=("eng", "deu"),
    psm=6,
    oem=1,
    pages="1-3,7",
    rotate="off",
    deskew=False,
    clean=True,
    dpi=150,
    pdf_text="use",
    engine_options=(("service", "cnh"),),
)


# -- stored() / from_job_fields ------------------------------------------------------------


def test_nothing_given_stores_nothing():
    options = JobOptions()
    assert options.stored() == {}
    assert (options.engine, options.languages, options.languages_joined) == (
        "tesseract",
        ("eng",),
        "eng",
    )
    back = JobOptions.from_job_fields(engine="tesseract", languages="eng", options={})
    assert back == options
    assert JobOptions.from_job_fields(engine="tesseract", languages="eng", options=None) == options


def test_only_the_given_options_are_stored():
    options = JobOptions(psm=6, deskew=False, pages="1,3")
    # False is given (deskew off), not absent: it is stored; None fields are not.
    assert options.stored() == {"psm": 6, "pages": "1,3", "deskew": False}


def test_every_option_round_trips_through_the_job_fields():
    stored = EVERY.stored()
    assert list(stored) == [*PIPELINE_OPTION_NAMES, "service"]  # the API's names, in order
    assert set(OPTION_NAMES) == {*PIPELINE_OPTION_NAMES, *ENGINE_OPTION_NAMES}
    assert stored == {
        "psm": 6,
        "oem": 1,
        "pages": "1-3,7",
        "rotate": "off",
        "deskew": False,
        "clean": True,
        "dpi": 150,
        "pdf_text": "use",
        "service": "cnh",
    }
    # as the Job row keeps it: a JSON object, plus engine and languages "eng+deu"
    as_json = json.loads(json.dumps(stored))
    back = JobOptions.from_job_fields(
        engine=EVERY.engine, languages=EVERY.languages_joined, options=as_json
    )
    assert back == EVERY
    assert back.stored() == stored


def test_ppocr_options_round_trip_through_the_job_fields():
    opts = JobOptions(
        engine="ppocr",
        engine_options=(("box_threshold", 0.4), ("unclip_ratio", 2.0), ("upscale_limit", 0)),
    )
    stored = json.loads(json.dumps(opts.stored()))
    assert stored == {"box_threshold": 0.4, "unclip_ratio": 2.0, "upscale_limit": 0}
    back = JobOptions.from_job_fields(engine="ppocr", languages="eng", options=stored)
    assert back == opts
    assert back.for_engine(accepted=frozenset({"box_threshold"})).extra == {"box_threshold": 0.4}


def test_from_job_fields_ignores_unknown_keys_and_nulls():
    back = JobOptions.from_job_fields(
        engine="tesseract",
        languages="eng+fra",
        options={"psm": 4, "oem": None, "wait": 5, "metadata": {"a": 1}, "service": None},
    )
    assert back == JobOptions(languages=("eng", "fra"), psm=4)
    assert back.stored() == {"psm": 4}


# -- from_request ----------------------------------------------------------------------------


def _validated(data: dict) -> dict:
    serializer = OcrJsonSerializer(data={"image_base64": "aGVsbG8=", **data})
    assert serializer.is_valid(), serializer.errors
    return serializer.validated_data


def test_from_request_takes_the_serializers_validated_data(shipped_defaults):
    data = _validated({"psm": 6, "pages": "1,3", "rotate": "off", "languages": "eng+deu"})
    # the serializer's defaults: deskew/clean None, engine and languages filled in
    assert data["deskew"] is None and data["clean"] is None
    options = JobOptions.from_request(data, engine=data["engine"], languages=data["languages"])
    assert options == JobOptions(
        engine="auto", languages=("eng", "deu"), psm=6, pages="1,3", rotate="off"
    )
    assert options.stored() == {"psm": 6, "pages": "1,3", "rotate": "off"}


def test_from_request_ignores_none_and_non_options():
    data = {
        "image_base64": "aGVsbG8=",
        "filename": "a.png",
        "metadata": {"ref": 1},
        "wait": 3,
        "psm": None,
        "deskew": None,
        "clean": False,
        "dpi": 200,
        "service": "rg",
    }
    options = JobOptions.from_request(data, engine="ultraocr", languages="por")
    assert options == JobOptions(
        engine="ultraocr",
        languages=("por",),
        clean=False,
        dpi=200,
        engine_options=(("service", "rg"),),
    )
    assert options.stored() == {"clean": False, "dpi": 200, "service": "rg"}


@pytest.mark.django_db
def test_the_api_returns_the_stored_options(auth_client):
    """The job's ``options`` as ``GET /api/ocr/{id}/`` shows them are ``stored()``."""
    from tests.api.helpers import upload
    from tests.imaging import render_text

    sent = {"psm": "6", "pages": "1", "rotate": "off", "deskew": "false"}
    response = auth_client.post(
        "/api/ocr/", {"image": upload(render_text(["Options"]).png()), **sent}
    )
    assert response.status_code in (200, 202), response.content
    detail = auth_client.get(f"/api/ocr/{response.json()['id']}/").json()
    expected = JobOptions(psm=6, pages="1", rotate="off", deskew=False).stored()
    assert detail["options"] == expected  # (PostgreSQL's jsonb keeps keys in its own order)


# -- changed() -------------------------------------------------------------------------------


def test_changed_replaces_and_unsets_fields():
    options = JobOptions(psm=6, pages="2", clean=True)
    changed = options.changed(psm=11, pages=None, languages=("deu",))
    assert changed == JobOptions(languages=("deu",), psm=11, clean=True)
    assert changed.stored() == {"psm": 11, "clean": True}
    assert options == JobOptions(psm=6, pages="2", clean=True)  # the original is untouched


def test_changed_sets_and_unsets_engine_options():
    options = JobOptions(engine="ultraocr", psm=3)
    with_service = options.changed(service="cnh")
    assert with_service.engine_options == (("service", "cnh"),)
    assert with_service.stored() == {"psm": 3, "service": "cnh"}
    assert with_service.changed(service="rg").engine_options == (("service", "rg"),)
    without = with_service.changed(service=None)
    assert without.engine_options == ()
    assert without == options


def test_changed_refuses_an_unknown_name():
    with pytest.raises(KeyError):
        JobOptions().changed(colour="blue")
    with pytest.raises(KeyError):
        JobOptions().changed(psm=3, wait=5)


# -- for_engine -------------------------------------------------------------------------------


def test_for_engine_keeps_only_the_accepted_engine_options():
    got = EVERY.for_engine(accepted=frozenset(), dpi=200, timeout=30.0)
    assert got == EngineOptions(
        languages=("eng", "deu"), psm=6, oem=1, dpi=200, timeout=30.0, extra={}
    )
    assert EVERY.for_engine(accepted={"service"}).extra == {"service": "cnh"}
    assert EVERY.for_engine(accepted=frozenset({"other"})).extra == {}
    assert EVERY.engine_options_for({"service"}) == {"service": "cnh"}


def test_for_engine_without_accepted_hands_every_engine_option():
    """As the submission check wants them, to refuse those an engine does not declare."""
    got = EVERY.for_engine()
    assert got.extra == {"service": "cnh"}
    assert (got.languages, got.psm, got.oem, got.dpi, got.timeout) == (
        ("eng", "deu"),
        6,
        1,
        None,
        120.0,
    )


def test_for_engine_never_hands_pipeline_options():
    got = EVERY.for_engine(accepted=frozenset(OPTION_NAMES))
    assert got.extra == {"service": "cnh"}  # no pages, rotate, deskew, clean, pdf_text, dpi


def test_for_engine_defaults():
    assert JobOptions().for_engine(accepted=frozenset()) == EngineOptions()


# -- preprocess_options -------------------------------------------------------------------------


def test_preprocess_defaults():
    for is_pdf in (True, False):
        assert JobOptions().preprocess_options(is_pdf=is_pdf) == PreprocessOptions(
            rotate="auto", deskew=True, clean=False, dpi=None
        )


def test_preprocess_dpi_is_for_images_only():
    options = JobOptions(dpi=150)
    assert options.preprocess_options(is_pdf=False).dpi == 150
    assert options.preprocess_options(is_pdf=True).dpi is None


def test_preprocess_options_given():
    got = EVERY.preprocess_options(is_pdf=False)
    assert (got.rotate, got.deskew, got.clean, got.dpi) == ("off", False, True, 150)
    got = JobOptions(rotate="auto", deskew=True, clean=False).preprocess_options(is_pdf=True)
    assert (got.rotate, got.deskew, got.clean, got.dpi) == ("auto", True, False, None)


def test_use_text_layer():
    assert JobOptions(pdf_text="use").use_text_layer
    assert not JobOptions(pdf_text="ocr").use_text_layer
    assert not JobOptions().use_text_layer


# -- page_numbers ---------------------------------------------------------------------------------


def test_page_numbers_every_page_when_unset():
    assert JobOptions().page_numbers(4) == [1, 2, 3, 4]
    assert JobOptions(pages="").page_numbers(2) == [1, 2]
    assert JobOptions().page_numbers(1) == [1]


@pytest.mark.parametrize(
    ("pages", "expected"),
    [("2", [2]), ("1,3", [1, 3]), ("2-4", [2, 3, 4]), ("-2,5", [1, 2, 5]), ("4-", [4, 5])],
)
def test_page_numbers_ranges(pages, expected):
    assert JobOptions(pages=pages).page_numbers(5) == expected


@pytest.mark.parametrize("pages", ["6", "1,6", "3-6", "0", "3-1", "x"])
def test_page_numbers_out_of_range(pages):
    with pytest.raises(OcrError) as exc:
        JobOptions(pages=pages).page_numbers(5)
    assert exc.value.code == "invalid_pages"
    assert exc.value.field == "pages"


# -- frozen ---------------------------------------------------------------------------------------


def test_frozen():
    options = JobOptions(psm=6)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.psm = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.engine_options = (("service", "x"),)  # type: ignore[misc]
    with pytest.raises((dataclasses.FrozenInstanceError, AttributeError, TypeError)):
        options.colour = "blue"  # type: ignore[attr-defined]
    assert options.psm == 6


def test_pickles_for_worker_processes():
    """``manage.py ocr --jobs N`` hands the options to pool processes."""
    assert pickle.loads(pickle.dumps(EVERY)) == EVERY  # noqa: S301 (our own bytes)
