"""The declared engine contract (app/engines/base.py): defaults, registry checks, options.

Plug-in engines come from tests/engines/plugins.py through ``OCR_EXTRA_ENGINES``.
"""

from __future__ import annotations

import json
import logging

import pytest
from django.core.management import call_command
from PIL import Image

from app import services
from app.engines import registry
from app.engines.auto import AutoEngine
from app.engines.base import EngineInfo, EngineOptions, OcrEngine
from app.engines.mrz import MrzEngine
from app.engines.ppocr import PpocrEngine
from app.engines.providers.chekin import ChekinEngine
from app.engines.providers.clova import ClovaEngine
from app.engines.providers.computervision_vn import ComputerVisionVnEngine
from app.engines.providers.ultraocr import UltraOcrEngine
from app.engines.tesseract import TesseractEngine
from app.errors import OcrError
from app.models import Job
from app.pipeline.page import PageSettings, ocr_page
from app.pipeline.preprocess import PreprocessOptions
from tests.api.helpers import upload
from tests.conftest import EXTRA_ENGINES
from tests.engines.plugins import DuckEngine, MinimalEngine
from tests.engines.providers import test_ultraocr as ultra
from tests.engines.providers.conftest import FAST
from tests.imaging import render_text

PLUGINS = [
    *EXTRA_ENGINES,
    "tests.engines.plugins.minimal",
    "tests.engines.plugins.duck",
    "tests.engines.plugins.nokind",
]


@pytest.fixture
def plugins(settings):
    """The test plug-ins registered, the registry rebuilt before and after."""
    settings.OCR_EXTRA_ENGINES = PLUGINS
    registry.reset()
    yield
    registry.reset()


class Bare(OcrEngine):
    name = "bare"
    kind = "local"

    def info(self) -> EngineInfo:
        return EngineInfo(name="bare", title="Bare", available=True, version="", languages=())

    def recognize_page(self, image, *, page_number, options):
        raise AssertionError("not called")


# -- the base class ------------------------------------------------------------------


def test_defaults_of_the_base_class():
    engine = Bare()
    assert engine.preprocess is False
    assert engine.accepted_options == frozenset()
    assert engine.check_options(EngineOptions(languages=("xyz",), psm=99)) is None
    assert engine.detect_orientation(Image.new("L", (50, 40), 255), dpi=300) is None
    assert engine.close() is None


def test_required_methods_and_a_valid_kind_are_enforced():
    with pytest.raises(TypeError):
        OcrEngine()  # abstract

    class NoRecognize(OcrEngine):
        name, kind = "x", "local"

        def info(self):
            raise AssertionError

    with pytest.raises(TypeError, match="recognize_page"):
        NoRecognize()
    with pytest.raises(TypeError, match="kind"):

        class Hybrid(Bare):
            kind = "hybrid"


def test_every_engine_subclasses_the_base_and_declares_its_kind():
    from tests.engines.crashing import CrashingEngine

    classes = {
        "tesseract": TesseractEngine,
        "mrz": MrzEngine,
        "clova": ClovaEngine,
        "ultraocr": UltraOcrEngine,
        "computervision_vn": ComputerVisionVnEngine,
        "chekin": ChekinEngine,
        "ppocr": PpocrEngine,
        "auto": AutoEngine,
    }
    assert set(classes) == set(registry.BUILTIN_ENGINES)
    for name, cls in classes.items():
        assert issubclass(cls, OcrEngine)
        assert cls.kind == registry.BUILTIN_KINDS[name], name
    assert issubclass(CrashingEngine, OcrEngine) and CrashingEngine.kind == "local"
    assert TesseractEngine.preprocess and TesseractEngine.accepted_options == frozenset()
    assert UltraOcrEngine.accepted_options == frozenset({"service"})
    assert TesseractEngine.detect_orientation is not OcrEngine.detect_orientation
    assert MrzEngine.check_options is OcrEngine.check_options  # accepts any language


# -- the registry --------------------------------------------------------------------


def test_a_minimal_subclass_works_through_the_registry(plugins):
    engine = registry.get_engine("minimal")
    assert isinstance(engine, MinimalEngine)
    assert registry.checked_engine("minimal", EngineOptions(languages=("any",))) is engine
    info = {i.name: i for i in registry.all_engine_info()}
    assert info["minimal"].available and info["minimal"].kind == "local"


def test_a_plugin_that_does_not_subclass_is_refused_and_listed_unavailable(plugins, caplog):
    DuckEngine.closed = False
    with caplog.at_level(logging.WARNING, logger="app.engines.registry"):
        info = {i.name: i for i in registry.all_engine_info()}
    duck = info["duck"]
    assert not duck.available and duck.kind == "local"
    assert "not an OcrEngine" in duck.reason and "DuckEngine" in duck.reason
    assert any("engine duck refused" in r.getMessage() for r in caplog.records)
    assert DuckEngine.closed  # what it held is released
    with pytest.raises(OcrError) as exc:
        registry.get_engine("duck")
    assert exc.value.code == "engine_unavailable" and "not an OcrEngine" in exc.value.message
    nokind = info["nokind"]
    assert not nokind.available and "declares no kind" in nokind.reason


def test_an_engine_that_cannot_be_built_keeps_its_declared_kind(settings):
    settings.OCR_CLOVA_INVOKE_URL = ""  # builds, unavailable: its own kind
    registry.reset()
    try:
        info = {i.name: i for i in registry.all_engine_info()}
        assert info["clova"].kind == "cloud" and not info["clova"].available
        unbuilt = registry._Unavailable("ultraocr", "x", registry._declared_kind("ultraocr"))
        assert unbuilt.info().kind == "cloud"
    finally:
        registry.reset()


# -- a real job path without the optional hooks ----------------------------------------


@pytest.mark.django_db(databases=[])
def test_manage_py_ocr_runs_a_minimal_engine(plugins, tmp_path, capsys):
    turned = render_text(["Sideways"]).image.rotate(90, expand=True, fillcolor=255)
    path = tmp_path / "page.png"
    turned.save(path, dpi=(300, 300))
    call_command("ocr", str(path), "--engine", "minimal", "--json")
    out = json.loads(capsys.readouterr().out)
    (page,) = out["pages"]
    assert out["engine"] == "minimal" and page["rotation"] == 0
    assert page["text"].strip() == f"{turned.width}x{turned.height}"  # read as it is


def test_an_engine_without_orientation_detection_reads_the_page_as_is():
    turned = render_text(["Upside", "down"]).image.rotate(90, expand=True, fillcolor=255)
    engine = MinimalEngine()
    page = ocr_page(
        engine,
        turned,
        number=1,
        dpi=300,
        options=EngineOptions(),
        settings=PageSettings(prep=PreprocessOptions(rotate="auto", deskew=False)),
    )
    assert page.rotation == 0 and len(engine.seen) == 1  # no second, turned reading
    assert page.text.strip() == f"{turned.width}x{turned.height}"


# -- options: declared per engine, refused at submission -------------------------------


def test_an_option_the_engine_does_not_accept_is_refused_at_submission(auth_client, settings):
    png = render_text(["Options"]).png()
    response = auth_client.post(
        "/api/ocr/", {"image": upload(png), "engine": "tesseract", "service": "x"}
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_option" and error["field"] == "service"
    assert "service" in error["message"] and "tesseract" in error["message"]
    assert not Job.objects.exists()


def test_pipeline_options_pass_and_only_declared_ones_reach_the_engine(auth_client, plugins):
    png = render_text(["Options"]).png()
    response = auth_client.post(
        "/api/ocr/",
        {"image": upload(png), "engine": "minimal", "rotate": "off", "deskew": "false"},
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(id=response.json()["id"])
    assert job.options["rotate"] == "off"
    engine = registry.get_engine("minimal")
    engine.seen.clear()
    services.job_start(job_id=str(job.id))  # read in this process, as a worker would
    job.refresh_from_db()
    assert job.status == "done", (job.error_code, job.error_message)
    (options,) = engine.seen
    assert options.extra == {}  # the pipeline's, not the engine's
    turned = render_text(["Options"]).image
    assert job.text.strip() == f"{turned.width}x{turned.height}"  # rotate=off: read as sent
    refused = auth_client.post(
        "/api/ocr/", {"image": upload(png), "engine": "minimal", "service": "cnh"}
    )
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "service"


def test_ultraocr_still_receives_service(auth_client, settings, httpserver):
    for name, value in FAST.items():
        setattr(settings, name, value)
    settings.OCR_ULTRAOCR_BASE_URL = httpserver.url_for("/v2")
    settings.OCR_ULTRAOCR_AUTH_BASE_URL = httpserver.url_for("/auth/v2")
    settings.OCR_ULTRAOCR_CLIENT_ID = ultra.CLIENT_ID
    settings.OCR_ULTRAOCR_CLIENT_SECRET = ultra.CLIENT_SECRET
    settings.OCR_ULTRAOCR_SERVICE = "idtypification"  # the default: the option must win
    registry.reset()
    try:
        png = render_text(["CNH"]).png()
        response = auth_client.post(
            "/api/ocr/",
            {"image": upload(png), "engine": "ultraocr", "service": "cnh", "rotate": "off"},
        )
        assert response.status_code == 202, response.content
        job = Job.objects.get(id=response.json()["id"])
        ultra.expect_token(httpserver, "tok-1")
        ultra.expect_send(httpserver, service="cnh")
        httpserver.expect_request(ultra.RESULT, method="GET").respond_with_json(ultra.DONE)
        services.job_start(job_id=str(job.id))  # read in this process, as a worker would
        httpserver.check_assertions()
        job.refresh_from_db()
        assert job.status == "done", (job.error_code, job.error_message)
        assert job.result["fields"]["Nome"]["value"] == "MARIA DA SILVA"
        page = job.pages.get()
        assert page.result["fields"]["Nome"]["value"] == "MARIA DA SILVA"
    finally:
        registry.reset()
