"""The Tesseract engine on real rendered images."""

import pytest

from app.engines import registry
from app.engines.base import EngineOptions, OcrEngine
from app.engines.tesseract import build, parse_tsv
from app.errors import OcrError
from tests.imaging import cer, degrade, render_text

pytestmark = pytest.mark.django_db(databases=[])


@pytest.fixture(scope="module")
def engine():
    return build({"OCR_TESSDATA_DIR": "", "OCR_TESSERACT_BACKEND": "auto"})


def test_it_satisfies_the_engine_protocol(engine):
    assert isinstance(engine, OcrEngine)
    info = engine.info()
    assert info.available and info.version.startswith("5.")
    assert "eng" in info.languages and "osd" not in info.languages


def test_clean_paragraph_has_cer_under_two_percent(engine):
    page = engine.recognize_page(render_text().image, page_number=1, options=EngineOptions())
    rendered = render_text()
    assert cer(rendered.text, page.text) < 0.02, page.text


def test_word_boxes_are_where_the_words_were_drawn(engine):
    rendered = render_text()
    page = engine.recognize_page(rendered.image, page_number=1, options=EngineOptions())
    words = page.words()
    assert len(words) == len(rendered.word_boxes)
    for word, (text, drawn) in zip(words, rendered.word_boxes, strict=True):
        assert word.text == text
        assert all(abs(a - b) <= 5 for a, b in zip(word.bbox, drawn, strict=True)), (
            text,
            word.bbox,
            drawn,
        )
        assert 0 <= word.confidence <= 100


def test_lines_and_blocks_enclose_their_words(engine):
    page = engine.recognize_page(render_text().image, page_number=1, options=EngineOptions())
    assert page.width == render_text().image.width
    for block in page.blocks:
        for line in block.lines:
            for w in line.words:
                assert line.bbox[0] <= w.bbox[0] and line.bbox[2] >= w.bbox[2]
                assert block.bbox[1] <= w.bbox[1] and block.bbox[3] >= w.bbox[3]
    assert page.text.split("\n")[0] == render_text().lines[0]


@pytest.mark.parametrize("mode", ["1", "L", "RGB", "P", "RGBA"])
def test_every_image_mode_reads_with_the_same_boxes(engine, mode):
    """Raw pixels go to Tesseract per mode (1 bit packed, grey, RGB; others converted)."""
    rendered = render_text()
    page = engine.recognize_page(
        rendered.image.convert(mode), page_number=1, options=EngineOptions()
    )
    assert cer(rendered.text, page.text) < 0.02, page.text
    first = page.words()[0]
    assert first.text == rendered.word_boxes[0][0]
    assert all(abs(a - b) <= 5 for a, b in zip(first.bbox, rendered.word_boxes[0][1], strict=True))


def test_odd_widths_keep_rows_aligned(engine):
    """A width that is not a multiple of 8 (1-bit rows are padded to whole bytes) or 4."""
    rendered = render_text(width=1001)
    for mode in ("1", "L", "RGB"):
        page = engine.recognize_page(
            rendered.image.convert(mode), page_number=1, options=EngineOptions()
        )
        assert page.width == 1001
        assert cer(rendered.text, page.text) < 0.02, (mode, page.text)


def test_degraded_scan_still_reads(engine):
    image = degrade(render_text(size=30).image, blur=0.7)
    page = engine.recognize_page(image, page_number=1, options=EngineOptions())
    assert cer(render_text(size=30).text, page.text) < 0.05, page.text


def test_psm_single_line(engine):
    rendered = render_text(["Invoice number 42731"])
    page = engine.recognize_page(rendered.image, page_number=1, options=EngineOptions(psm=7))
    assert page.text == "Invoice number 42731"


def test_osd_psm_goes_through_the_cli_and_does_not_crash(engine):
    rendered = render_text(["A sideways page should still be read."] * 4)
    page = engine.recognize_page(
        rendered.image.rotate(90, expand=True), page_number=1, options=EngineOptions(psm=1)
    )
    assert "sideways page" in page.text


def test_german_model_reads_umlauts(engine):
    rendered = render_text(["Größere Straßen führen über die Brücke."])
    page = engine.recognize_page(
        rendered.image, page_number=1, options=EngineOptions(languages=("deu",))
    )
    assert "Straßen" in page.text and "Brücke" in page.text


def test_unknown_language_is_refused(engine):
    with pytest.raises(OcrError) as err:
        engine.check_options(EngineOptions(languages=("xyz",)))
    assert err.value.code == "unknown_language"


def test_invalid_psm_is_refused(engine):
    with pytest.raises(OcrError) as err:
        engine.check_options(EngineOptions(psm=2))
    assert err.value.code == "invalid_option"


def test_the_model_stays_loaded_between_pages(engine):
    image = render_text(["Same model, two calls"]).image
    engine.recognize_page(image, page_number=1, options=EngineOptions())
    slot = engine._slots[("eng", 3)]
    engine.recognize_page(image, page_number=2, options=EngineOptions())
    assert engine._slots[("eng", 3)] is slot


def test_registry_builds_the_engine_once_per_process():
    assert registry.get_engine("tesseract") is registry.get_engine("tesseract")


def test_parse_tsv_drops_empty_words_and_groups_lines():
    tsv = (
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
        "5\t1\t1\t1\t1\t1\t10\t20\t30\t10\t91.5\tHello\n"
        "5\t1\t1\t1\t1\t2\t50\t20\t40\t10\t88\tworld\n"
        "5\t1\t1\t1\t1\t3\t95\t20\t5\t10\t-1\t \n"
        "5\t1\t2\t1\t1\t1\t10\t60\t30\t10\t-1\tBye\n"
    )
    page = parse_tsv(tsv, page_number=3, width=200, height=100, dpi=300)
    assert page.text == "Hello world\n\nBye"
    assert page.blocks[0].lines[0].bbox == [10, 20, 90, 30]
    assert page.blocks[1].lines[0].words[0].confidence is None
    assert page.number == 3 and page.dpi == 300
