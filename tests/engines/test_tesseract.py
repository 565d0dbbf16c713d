"""The Tesseract engine on real rendered images."""

import struct
from pathlib import Path

import pytest
from PIL import Image

from app.engines import registry
from app.engines.base import EngineOptions, OcrEngine
from app.engines.tesseract import (
    TESSDATA_INTTEMP,
    TESSDATA_LSTM,
    TESSDATA_UNICHARSET,
    TesseractConfig,
    TesseractEngine,
    build,
    parse_tsv,
    read_tsv,
    set_image,
    traineddata_components,
)
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


def _long_strip(width: int = 40_000, height: int = 40) -> Image.Image:
    """A ``width`` x ``height`` px white strip with a few words on its left (~2 KB as PNG)."""
    strip = Image.new("L", (width, height), 255)
    strip.paste(render_text(["A long strip"], size=20, margin=5).image.convert("L"), (0, 0))
    return strip


@pytest.fixture(scope="module")
def cli_engine():
    return build({"OCR_TESSDATA_DIR": "", "OCR_TESSERACT_BACKEND": "cli"})


@pytest.mark.parametrize("backend", ["tesserocr", "cli"])
def test_a_side_longer_than_tesseract_reads_never_reaches_it(
    engine, cli_engine, monkeypatch, backend
):
    """40000 x 40 px: refused before ``SetImage`` (or the CLI), ``too_many_pixels``."""
    import pytesseract

    def handed_over(*args, **kwargs):
        raise AssertionError("the image reached Tesseract")

    monkeypatch.setattr("app.engines.tesseract.set_image", handed_over)
    monkeypatch.setattr(pytesseract, "image_to_data", handed_over)
    use = engine if backend == "tesserocr" else cli_engine
    assert use.backend == backend
    for image in (_long_strip(), _long_strip().transpose(Image.Transpose.ROTATE_90)):
        with pytest.raises(OcrError) as err:
            use.recognize_page(image, page_number=1, options=EngineOptions())
        assert (err.value.code, err.value.http_status) == ("too_many_pixels", 413)
        w, h = image.size
        assert err.value.message == (
            f"The page is {w:,} x {h:,} px; the longest side OCR can read is 32,767 px."
        )
    monkeypatch.undo()  # the longest side Tesseract reads still goes through
    page = use.recognize_page(_long_strip(32_767), page_number=1, options=EngineOptions())
    assert "strip" in page.text


@pytest.mark.parametrize("backend", ["tesserocr", "cli"])
def test_failure_codes_are_truthful_refused_is_not_a_timeout(
    engine, cli_engine, monkeypatch, backend
):
    """Real Tesseract, the guard bypassed: it refuses a 40000 px page ("Image too large")
    within a second, which is ``invalid_image``, never ``timeout``; a page that really
    runs out of time is still ``timeout``."""
    use = engine if backend == "tesserocr" else cli_engine
    monkeypatch.setattr("app.engines.tesseract.check_sides", lambda *a, **k: None, raising=False)
    with pytest.raises(OcrError) as err:
        use.recognize_page(_long_strip(), page_number=1, options=EngineOptions(timeout=600))
    assert (err.value.code, err.value.message) == (
        "invalid_image",
        "Tesseract could not read this page.",
    )
    with pytest.raises(OcrError) as err:  # 1 ms for a paragraph
        use.recognize_page(render_text().image, page_number=1, options=EngineOptions(timeout=0.001))
    assert err.value.code == "timeout", err.value.message


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


def spread_tsv(rows: int = 8) -> str:
    """Tesseract's TSV of a book spread read across the fold, as on the real-photo set's
    German spread: one block, each row of both pages one line, the fold 600 px wide."""
    out = [
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    ]
    for k in range(rows):
        y = 100 + 60 * k
        xs = [100 + 165 * i for i in range(4)] + [1345 + 165 * i for i in range(4)]
        texts = [f"L{k}w{i}" for i in range(4)] + [f"R{k}w{i}" for i in range(4)]
        for n, (x, text) in enumerate(zip(xs, texts, strict=True), start=1):
            out.append(f"5\t1\t1\t1\t{k + 1}\t{n}\t{x}\t{y}\t150\t40\t93\t{text}")
    return "\n".join(out) + "\n"


def test_a_reading_across_a_book_spreads_fold_is_read_page_by_page():
    tsv = spread_tsv()
    across = parse_tsv(tsv, page_number=1, width=2100, height=700, dpi=None)
    assert across.text.split("\n")[0] == "L0w0 L0w1 L0w2 L0w3 R0w0 R0w1 R0w2 R0w3"
    page = read_tsv(tsv, psm=3, page_number=1, width=2100, height=700, dpi=None)
    left = "\n".join(" ".join(f"L{k}w{i}" for i in range(4)) for k in range(8))
    right = "\n".join(" ".join(f"R{k}w{i}" for i in range(4)) for k in range(8))
    assert page.text == left + "\n\n" + right
    assert sorted(w.text for w in page.words()) == sorted(w.text for w in across.words())
    assert page.confidence == across.confidence == 93.0
    # A single-column mode is what the caller asked for: read as Tesseract gave it.
    assert read_tsv(tsv, psm=6, page_number=1, width=2100, height=700, dpi=None).text == across.text


# -- bounded models (issue 11, point 3) ---------------------------------------------------


@pytest.fixture
def small_engine():
    """An engine that keeps at most two model sets loaded."""
    eng = build(
        {
            "OCR_TESSDATA_DIR": "",
            "OCR_TESSERACT_BACKEND": "tesserocr",
            "OCR_TESSERACT_MAX_MODELS": 2,
        }
    )
    yield eng
    eng.close()


def _read(eng, rendered, languages):
    page = eng.recognize_page(
        rendered.image, page_number=1, options=EngineOptions(languages=languages)
    )
    assert cer(rendered.text, page.text) < 0.05, (languages, page.text)


def test_at_most_max_models_language_sets_stay_loaded(small_engine):
    rendered = render_text(["Models come and go"])
    for languages in [("eng",), ("deu", "eng"), ("eng", "deu"), ("fra", "eng"), ("eng",)]:
        _read(small_engine, rendered, languages)
        assert len(small_engine.loaded_models()) <= 2
    # The order of languages is the user's (Tesseract weighs the first most): eng+deu and
    # deu+eng are separate model sets; the least recently used go first.
    assert small_engine.loaded_models() == [("fra+eng", 3), ("eng", 3)]


def test_a_recently_used_model_set_is_kept_and_reused(small_engine):
    rendered = render_text(["Kept while in use"])
    _read(small_engine, rendered, ("eng",))
    slot = small_engine._slots[("eng", 3)]
    _read(small_engine, rendered, ("deu",))
    _read(small_engine, rendered, ("eng",))  # eng is now the most recently used
    _read(small_engine, rendered, ("fra",))  # evicts deu, not eng
    assert small_engine._slots[("eng", 3)] is slot
    assert small_engine.loaded_models() == [("eng", 3), ("fra", 3)]


def test_an_evicted_model_is_ended_only_after_its_user_is_done(small_engine):
    rendered = render_text(["Still readable after eviction"])
    with small_engine._model("eng", 3) as api:
        # Another caller (here the same thread, which needs no lock of eng's) loads
        # two other sets: eng is evicted while it is held...
        _read(small_engine, rendered, ("deu",))
        _read(small_engine, rendered, ("fra",))
        assert ("eng", 3) not in small_engine.loaded_models()
        # ...and still works for its holder.
        assert api.GetInitLanguagesAsString() == "eng"
        set_image(api, rendered.image)
        api.SetPageSegMode(7)
        assert api.GetUTF8Text().strip() == "Still readable after eviction"
        api.Clear()
    assert api.GetInitLanguagesAsString() == ""  # ended (memory released) once let go


def test_threads_reading_many_language_sets_get_their_text(small_engine):
    """Eviction under concurrency: every page still reads, no model ended under a reader."""
    from concurrent.futures import ThreadPoolExecutor

    rendered = render_text(["Threads share the engine"])
    sets = [("eng",), ("eng", "deu"), ("eng", "fra"), ("eng", "spa"), ("eng", "por")] * 3
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda langs: _read(small_engine, rendered, langs), sets))
    assert len(small_engine.loaded_models()) <= 2


def test_osd_modes_keep_no_model_loaded(small_engine):
    """psm 1 (OSD + layout) runs in a tesseract subprocess: nothing stays in the worker."""
    rendered = render_text(["Orientation is detected elsewhere"] * 3)
    page = small_engine.recognize_page(
        rendered.image, page_number=1, options=EngineOptions(psm=1, languages=("deu", "eng"))
    )
    assert "Orientation" in page.text
    assert small_engine.loaded_models() == []


def test_max_models_comes_from_the_settings(settings):
    from app.engines.registry import engine_config

    assert settings.OCR_TESSERACT_MAX_MODELS >= 1
    settings.OCR_TESSERACT_MAX_MODELS = 5
    assert TesseractConfig.from_mapping(engine_config()).max_models == 5


# -- oem decided from the traineddata (issue 11, point 10) --------------------------------


@pytest.mark.parametrize("oem", [0, 2])
@pytest.mark.parametrize("languages", [("eng",), ("deu", "eng")])
def test_legacy_oem_is_refused_on_lstm_only_models_naming_the_language(engine, oem, languages):
    with pytest.raises(OcrError) as err:
        engine.check_options(EngineOptions(languages=languages, oem=oem))
    assert err.value.code == "invalid_option" and err.value.field == "oem"
    for lang in languages:
        assert lang in err.value.message


@pytest.mark.parametrize("oem", [1, 3])
def test_lstm_and_default_oem_are_accepted_and_read(engine, oem):
    rendered = render_text(["Long short term memory"])
    options = EngineOptions(languages=("eng", "deu"), oem=oem, psm=7)
    engine.check_options(options)
    page = engine.recognize_page(rendered.image, page_number=1, options=options)
    assert page.text == "Long short term memory"


def test_the_installed_models_components_are_read_from_their_header(engine):
    tessdata = Path(engine.config.tessdata_dir)
    eng = traineddata_components(str(tessdata / "eng.traineddata"))
    assert TESSDATA_LSTM in eng and TESSDATA_INTTEMP not in eng  # Debian's tessdata_fast
    osd = traineddata_components(str(tessdata / "osd.traineddata"))
    assert {TESSDATA_UNICHARSET, TESSDATA_INTTEMP} <= osd and TESSDATA_LSTM not in osd


def _traineddata(path: Path, sizes: dict[int, int], *, count: int = 24, order: str = "<") -> None:
    """A file in TessdataManager's format: count, offsets (-1 absent), component bytes."""
    header = 4 + 8 * count
    offsets, body, at = [], b"", header
    for index in range(count):
        if index in sizes:
            offsets.append(at)
            body += b"x" * sizes[index]
            at += sizes[index]
        else:
            offsets.append(-1)
    path.write_bytes(struct.pack(f"{order}I{count}q", count, *offsets) + body)


def test_crafted_traineddata_decides_each_oem(tmp_path):
    legacy, lstm, both = {1: 10, 3: 20, 4: 5}, {17: 30, 23: 3}, {1: 10, 3: 20, 17: 30}
    _traineddata(tmp_path / "leg.traineddata", legacy)
    _traineddata(tmp_path / "lst.traineddata", lstm, order=">")  # other byte order
    _traineddata(tmp_path / "bth.traineddata", both, count=11 + 7)  # fewer entries
    _traineddata(tmp_path / "emp.traineddata", {1: 10, 3: 0})  # empty inttemp = absent
    (tmp_path / "bad.traineddata").write_bytes(b"\x01")
    assert traineddata_components(str(tmp_path / "leg.traineddata")) == {1, 3, 4}
    assert traineddata_components(str(tmp_path / "lst.traineddata")) == {17, 23}
    assert traineddata_components(str(tmp_path / "emp.traineddata")) == {1}
    assert traineddata_components(str(tmp_path / "bad.traineddata")) == frozenset()

    eng = TesseractEngine(TesseractConfig(tessdata_dir=str(tmp_path), backend="cli"))
    expected = {
        "leg": {0: True, 1: False, 2: False, 3: True},
        "lst": {0: False, 1: True, 2: False, 3: True},
        "bth": {0: True, 1: True, 2: True, 3: True},
        "emp": {0: False, 1: False, 2: False, 3: True},
        "bad": {0: False, 1: False, 2: False, 3: True},
    }
    for lang, by_oem in expected.items():
        for oem, ok in by_oem.items():
            options = EngineOptions(languages=(lang,), oem=oem)
            if ok:
                eng.check_options(options)
            else:
                with pytest.raises(OcrError, match=lang) as err:
                    eng.check_options(options)
                assert err.value.code == "invalid_option"
    # Every language of a combination must support the mode.
    with pytest.raises(OcrError, match="lst"):
        eng.check_options(EngineOptions(languages=("bth", "lst"), oem=0))
    eng.check_options(EngineOptions(languages=("bth", "lst"), oem=1))
