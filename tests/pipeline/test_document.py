"""The document pipeline (``app.pipeline.document``) on real PDFs with the real Tesseract."""

from __future__ import annotations

import io
import shutil

import pytest

from app.engines import registry
from app.engines.base import EngineOptions, OcrEngine
from app.engines.tesseract import find_tessdata
from app.errors import OcrError
from app.pipeline import document
from app.pipeline.options import JobOptions
from app.pipeline.schema import PAGE_SEPARATOR
from tests.imaging import cer, render_text, text_pdf
from tests.pipeline.hostile_pdf import pages_pdf

pytestmark = [
    pytest.mark.django_db(databases=[]),
    pytest.mark.skipif(
        not (find_tessdata() and shutil.which("tesseract")),
        reason="needs Debian tesseract with tessdata",
    ),
]

LIMITS = document.Limits()


def expected_text(n: int) -> str:
    """What ``text_pdf`` draws on page ``n``."""
    return f"Page {n} of a document\nread page by page."


@pytest.fixture(scope="module")
def tesseract():
    return registry.get_engine("tesseract")


@pytest.fixture(scope="module")
def three_pages() -> bytes:
    return text_pdf(3)


class Recording(OcrEngine):
    """The real Tesseract engine, recording each reading (page number, options) and
    failing with ``provider_error`` on the pages in ``fail_on`` (no ``page`` set)."""

    name = "recording"
    kind = "local"
    preprocess = True
    accepted_options = frozenset({"service"})

    def __init__(self, engine: OcrEngine, fail_on: tuple[int, ...] = ()) -> None:
        self.engine = engine
        self.fail_on = fail_on
        self.readings: list[tuple[int, EngineOptions]] = []

    def info(self):
        return self.engine.info()

    def detect_orientation(self, image, *, dpi=None):
        return self.engine.detect_orientation(image, dpi=dpi)

    def recognize_page(self, image, *, page_number, options):
        self.readings.append((page_number, options))
        if page_number in self.fail_on:
            raise OcrError("provider_error", "The provider said no.")
        return self.engine.recognize_page(image, page_number=page_number, options=options)


def read(data: bytes, engine, numbers, options: JobOptions | None = None, limits=LIMITS):
    info = document.inspect(data, limits)
    return document.read_pages(
        data,
        info.content_type,
        engine=engine,
        options=options or JobOptions(),
        limits=limits,
        numbers=numbers,
    )


# -- inspect ----------------------------------------------------------------------------------


def test_inspect_describes_a_pdf(three_pages):
    info = document.inspect(three_pages, LIMITS)
    assert (info.content_type, info.page_count) == ("application/pdf", 3)


@pytest.mark.parametrize(
    "data",
    [b"this is plain text, not a document at all\n" * 4, b"<html><body>hi</body></html>"],
    ids=["text", "html"],
)
def test_inspect_refuses_a_non_document(data):
    with pytest.raises(OcrError) as exc:
        document.inspect(data, LIMITS)
    assert exc.value.code == "unsupported_format"


def test_inspect_applies_the_limits(three_pages):
    with pytest.raises(OcrError) as exc:
        document.inspect(three_pages, document.Limits(max_pages=2))
    assert exc.value.code == "too_many_pages"
    with pytest.raises(OcrError) as exc:
        document.inspect(three_pages, document.Limits(max_bytes=len(three_pages) - 1))
    assert exc.value.code == "file_too_large"


# -- read_pages -------------------------------------------------------------------------------


def test_reads_only_the_pages_asked_for(tesseract, three_pages):
    outcomes = list(read(three_pages, tesseract, [2, 3]))
    assert [o.result.number for o in outcomes] == [2, 3]
    for outcome in outcomes:
        assert isinstance(outcome, document.PageOutcome)
        assert cer(expected_text(outcome.result.number), outcome.result.text) < 0.05
        assert outcome.seconds > 0
        assert outcome.result.dpi == LIMITS.pdf_dpi
        assert outcome.result.words()


def test_reads_every_page_in_order(tesseract, three_pages):
    outcomes = list(read(three_pages, tesseract, [1, 2, 3]))
    assert [o.result.number for o in outcomes] == [1, 2, 3]
    for n, outcome in enumerate(outcomes, 1):
        assert cer(expected_text(n), outcome.result.text) < 0.05
        assert outcome.seconds > 0


def test_reads_first_and_last_page(tesseract, three_pages):
    outcomes = list(read(three_pages, tesseract, [1, 3]))
    assert [o.result.number for o in outcomes] == [1, 3]
    assert "Page 1" in outcomes[0].result.text and "Page 3" in outcomes[1].result.text


def test_no_pages_asked_reads_nothing(tesseract, three_pages):
    recording = Recording(tesseract)
    assert list(read(three_pages, recording, [])) == []
    assert recording.readings == []


def test_pages_are_read_one_by_one(tesseract, three_pages):
    """A generator: a page is read when asked for, not all of them up front."""
    recording = Recording(tesseract)
    pages = read(three_pages, recording, [1, 2, 3])
    first = next(pages)
    assert first.result.number == 1
    assert [n for n, _ in recording.readings] == [1]
    pages.close()
    assert [n for n, _ in recording.readings] == [1]


def test_the_engine_gets_the_jobs_engine_options(tesseract, three_pages):
    recording = Recording(tesseract)
    options = JobOptions(psm=6, rotate="off", engine_options=(("service", "cnh"),))
    limits = document.Limits(engine_timeout=42.0)
    [outcome] = list(read(three_pages, recording, [2], options, limits))
    assert "Page 2" in outcome.result.text
    [(number, got)] = recording.readings
    assert number == 2
    assert (got.languages, got.psm, got.oem, got.timeout) == (("eng",), 6, None, 42.0)
    assert got.extra == {"service": "cnh"}
    # an engine that accepts no engine options gets none of them
    plain = list(read(three_pages, tesseract, [2], options))
    assert plain[0].result.text == outcome.result.text


# -- the PDF text layer -------------------------------------------------------------------------

LAYER_LINES = ["Born digital text layer", "needs no OCR at all"]


def _layer_then_scan_pdf() -> bytes:
    """Page 1: real text (a text layer); page 2: an image of text (no text layer)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFont("Helvetica", 20)
    c.drawString(72, 700, LAYER_LINES[0])
    c.drawString(72, 660, LAYER_LINES[1])
    c.showPage()
    scan = render_text(["Scanned page two"]).image
    c.drawImage(ImageReader(scan), 72, 500, width=scan.width * 0.72, height=scan.height * 0.72)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_pdf_text_use_takes_the_text_layer_without_ocr(tesseract):
    data = _layer_then_scan_pdf()
    recording = Recording(tesseract)
    outcomes = list(read(data, recording, [1, 2], JobOptions(pdf_text="use")))
    layer, scan = (o.result for o in outcomes)
    assert (layer.number, scan.number) == (1, 2)
    assert " ".join(layer.text.split()) == " ".join(LAYER_LINES)
    assert all(w.confidence is None for w in layer.words())  # read, not recognised
    assert layer.dpi == LIMITS.pdf_dpi
    # only the page without a text layer went to the engine
    assert [n for n, _ in recording.readings] == [2]
    assert "Scanned page two" in scan.text
    assert all(o.seconds > 0 for o in outcomes)


@pytest.mark.parametrize("pdf_text", [None, "ocr"])
def test_without_pdf_text_use_every_page_is_ocred(tesseract, pdf_text):
    data = _layer_then_scan_pdf()
    recording = Recording(tesseract)
    outcomes = list(read(data, recording, [1, 2], JobOptions(pdf_text=pdf_text)))
    assert [n for n, _ in recording.readings] == [1, 2]
    layer = outcomes[0].result
    assert cer(" ".join(LAYER_LINES), layer.text) < 0.1
    assert all(w.confidence is not None for w in layer.words())


def test_pdf_text_use_on_a_scan_ocrs(tesseract, three_pages):
    recording = Recording(tesseract)
    [outcome] = list(read(three_pages, recording, [3], JobOptions(pdf_text="use")))
    assert [n for n, _ in recording.readings] == [3]
    assert cer(expected_text(3), outcome.result.text) < 0.05


# -- errors name their page ---------------------------------------------------------------------


def test_a_page_too_big_to_render_names_its_page(tesseract):
    data = pages_pdf(
        [b"/MediaBox [0 0 612 792]", b"/MediaBox [0 0 1600000 1600000]"],
        text=b"BT /F1 24 Tf 72 700 Td (Hello there world) Tj ET",
    )
    with pytest.raises(OcrError) as exc:
        document.inspect(data, LIMITS)  # a submission is refused before any OCR
    assert (exc.value.code, exc.value.page) == ("too_many_pixels", 2)
    pages = document.read_pages(
        data,
        "application/pdf",
        engine=tesseract,
        options=JobOptions(),
        limits=LIMITS,
        numbers=[1, 2],
    )
    first = next(pages)  # pages before the broken one are read and stay valid
    assert first.result.number == 1 and "Hello there world" in first.result.text
    with pytest.raises(OcrError) as exc:
        next(pages)
    assert (exc.value.code, exc.value.page) == ("too_many_pixels", 2)


def test_an_engine_error_names_its_page(tesseract, three_pages):
    recording = Recording(tesseract, fail_on=(2,))
    got = []
    with pytest.raises(OcrError) as exc:
        for outcome in read(three_pages, recording, [1, 2, 3]):
            got.append(outcome.result.number)
    assert got == [1]
    assert (exc.value.code, exc.value.page) == ("provider_error", 2)
    assert [n for n, _ in recording.readings] == [1, 2]  # page 3 never read


def test_an_error_keeps_a_page_already_set(tesseract, three_pages):
    class Elsewhere(Recording):
        def recognize_page(self, image, *, page_number, options):
            exc = OcrError("provider_error", "About another page.")
            exc.page = 7
            raise exc

    with pytest.raises(OcrError) as exc:
        list(read(three_pages, Elsewhere(tesseract), [3]))
    assert exc.value.page == 7


# -- document_of / summary_of ---------------------------------------------------------------------


def test_document_of_and_summary_of(tesseract, three_pages):
    options = JobOptions(languages=("eng",), pages="1,3")
    pages = [o.result for o in read(three_pages, tesseract, [1, 3], options)]
    doc = document.document_of(pages, engine=tesseract, options=options)
    assert doc.engine == "tesseract" and doc.languages == ["eng"]
    assert doc.engine_version == tesseract.info().version
    assert [p.number for p in doc.pages] == [1, 3]
    assert doc.text == PAGE_SEPARATOR.join(p.text for p in pages)
    assert (doc.fields, doc.mrz) == (None, None)
    summary = document.summary_of([p.to_dict() for p in pages], engine=tesseract, options=options)
    assert summary == {
        "engine": "tesseract",
        "engine_version": tesseract.info().version,
        "languages": ["eng"],
    }


def test_summary_of_takes_the_first_fields_and_mrz(tesseract):
    results = [{"number": 1}, {"number": 2, "fields": {"a": 1}}, {"mrz": {"x": 1}, "fields": {}}]
    summary = document.summary_of(results, engine=tesseract, options=JobOptions())
    assert summary["fields"] == {"a": 1} and summary["mrz"] == {"x": 1}
