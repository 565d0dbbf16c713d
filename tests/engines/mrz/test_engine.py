"""The MRZ engine on rendered OCR-B documents, with real Tesseract (nothing mocked)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from app.engines.base import EngineOptions, OcrEngine
from app.engines.mrz import MrzConfig, MrzEngine, build, icao
from app.engines.mrz.cells import is_chevron
from app.errors import OcrError
from tests.engines.mrz import samples

OPTIONS = EngineOptions(languages=("eng",))
KEYS = {
    "mrz_detected", "type_doc", "format", "country", "surname", "names", "number",
    "nationality", "date_of_birth", "expiration_date", "sex", "optional_data", "raw",
    "valid_number", "valid_date_of_birth", "valid_expiration_date", "valid_composite",
    "valid_score", "bbox",
}  # fmt: skip

FORMATS = {
    "TD1": samples.TD1,
    "TD2": samples.TD2,
    "TD3": samples.TD3,
    "MRVA": samples.MRVA,
    "MRVB": samples.MRVB,
}


@pytest.fixture(scope="module")
def engine() -> MrzEngine:
    eng = build({"OCR_TESSDATA_DIR": ""})
    if not eng.info().available:
        pytest.skip(f"MRZ engine unavailable: {eng.info().reason}")
    yield eng
    eng.close()


def _expected(lines: list[str]) -> dict:
    result = icao.parse(lines)
    assert result is not None
    return result


def _assert_fields(page_mrz: dict, lines: list[str]) -> None:
    expected = _expected(lines)
    assert set(page_mrz) >= KEYS
    for key, value in expected.items():
        assert page_mrz[key] == value, key
    assert page_mrz["raw"] == lines
    assert page_mrz["valid_score"] == 100


def _assert_bbox_on_mrz(page, n_lines: int, *, pitch_px: float) -> None:
    """The MRZ box is in the lower part of the page and spans the lines' width."""
    left, top, right, bottom = page.mrz["bbox"]
    width = {2: None, 3: 30}.get(n_lines)
    chars = len(page.mrz["raw"][0]) if width is None else width
    assert right - left > 0.9 * chars * pitch_px
    assert top > page.height * 0.5 and bottom <= page.height
    assert bottom - top > n_lines * 0.6 * pitch_px


def test_engine_protocol_and_info(engine: MrzEngine) -> None:
    assert isinstance(engine, OcrEngine)
    info = engine.info()
    assert (info.name, info.kind, info.available) == ("mrz", "local", True)
    assert "eng" in info.languages
    engine.check_options(EngineOptions(languages=("deu", "kor", "xyz")))  # any language


def test_unavailable_without_tessdata() -> None:
    eng = MrzEngine(MrzConfig(tessdata_dir=None))
    assert eng.info().available is False and "eng" in eng.info().reason
    with pytest.raises(OcrError) as exc:
        eng.recognize_page(samples.render_document(samples.TD1), page_number=1, options=OPTIONS)
    assert exc.value.code == "engine_unavailable"


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_clean_scan_every_format(engine: MrzEngine, fmt: str) -> None:
    lines = FORMATS[fmt]
    img = samples.render_document(lines)
    page = engine.recognize_page(img, page_number=3, options=OPTIONS)
    assert page.number == 3 and (page.width, page.height) == img.size
    assert page.rotation == 0
    _assert_fields(page.mrz, lines)
    _assert_bbox_on_mrz(page, len(lines), pitch_px=30)
    # the MRZ lines are the page's text, with boxes inside the MRZ box
    assert page.text == "\n".join(lines)
    assert [ln.text for b in page.blocks for ln in b.lines] == lines
    for word in page.words():
        assert word.bbox[0] >= page.mrz["bbox"][0] and word.bbox[3] <= page.mrz["bbox"][3]
        assert word.confidence is not None and 0 <= word.confidence <= 100


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_upside_down(engine: MrzEngine, fmt: str) -> None:
    lines = FORMATS[fmt]
    img = samples.render_document(lines).rotate(180)
    page = engine.recognize_page(img, page_number=1, options=OPTIONS)
    assert page.rotation == 180
    _assert_fields(page.mrz, lines)
    _assert_bbox_on_mrz(page, len(lines), pitch_px=30)  # box in the turned image


@pytest.mark.parametrize(("fmt", "angle"), [("TD1", 2.5), ("TD3", -3.0), ("TD2", 2.0)])
def test_skewed_photo(engine: MrzEngine, fmt: str, angle: float) -> None:
    lines = FORMATS[fmt]
    doc = samples.render_document(lines)
    img = samples.photographed(samples.on_background(doc, angle=angle), seed=len(fmt))
    page = engine.recognize_page(img, page_number=1, options=OPTIONS)
    _assert_fields(page.mrz, lines)
    assert abs(page.skew - angle) < 1.0


def test_low_resolution_blurry_card_photo(engine: MrzEngine) -> None:
    """A card at 200 dpi, blurred, noisy, JPEG quality 40."""
    doc = samples.render_document(samples.TD1, dpi=200)
    img = samples.photographed(samples.on_background(doc, pad=60, angle=1.5), blur=1.0,
                               noise=14, quality=40)  # fmt: skip
    page = engine.recognize_page(img, page_number=1, options=OPTIONS)
    _assert_fields(page.mrz, samples.TD1)


def test_upside_down_skewed_photo(engine: MrzEngine) -> None:
    doc = samples.render_document(samples.TD3)
    img = samples.photographed(samples.on_background(doc, angle=182.0), seed=7)
    page = engine.recognize_page(img, page_number=1, options=OPTIONS)
    assert page.rotation == 180
    _assert_fields(page.mrz, samples.TD3)


def test_composed_documents(engine: MrzEngine) -> None:
    """Two documents with other names, numbers and fillers than the specimens."""
    td1 = ["IDD<<T220001293<<<<<<<<<<<<<<<", "6408125<2010315D<<<<<<<<<<<<<4",
           "MUSTERMANN<<ERIKA<<<<<<<<<<<<<"]  # fmt: skip
    td3 = ["P<GBRKOWALSKA<KOZIOL<<ZOFIA<MARIA<<<<<<<<<<<",
           "9876543213GBR9002281M3312315<<<<<<<<<<<<<<<6"]  # fmt: skip
    for lines in (td1, td3):
        assert _expected(lines)["valid_score"] == 100  # composed with correct digits
        page = engine.recognize_page(samples.render_document(lines), page_number=1,
                                     options=OPTIONS)  # fmt: skip
        _assert_fields(page.mrz, lines)
    assert page.mrz["surname"] == "KOWALSKA KOZIOL" and page.mrz["names"] == "ZOFIA MARIA"
    assert page.mrz["sex"] == "M" and page.mrz["date_of_birth"] == "1990-02-28"


def test_wrong_check_digit_is_false_and_not_changed(engine: MrzEngine) -> None:
    line2 = samples.TD3[1][:9] + "5" + samples.TD3[1][10:]  # number check digit 6 -> 5
    lines = [samples.TD3[0], line2]
    page = engine.recognize_page(samples.render_document(lines), page_number=1, options=OPTIONS)
    mrz = page.mrz
    assert mrz["mrz_detected"] is True
    assert mrz["valid_number"] is False
    assert mrz["raw"][1][9] == "5" and mrz["number"] == "L898902C3"
    assert mrz["valid_date_of_birth"] is True and mrz["valid_expiration_date"] is True
    assert mrz["valid_composite"] is False
    assert mrz["valid_score"] == 60


def test_wrong_birth_date_digit(engine: MrzEngine) -> None:
    line2 = samples.TD1[1][:6] + "3" + samples.TD1[1][7:]  # date of birth digit 2 -> 3
    lines = [samples.TD1[0], line2, samples.TD1[2]]
    page = engine.recognize_page(samples.render_document(lines), page_number=1, options=OPTIONS)
    assert page.mrz["valid_date_of_birth"] is False
    assert page.mrz["valid_number"] is True and page.mrz["valid_expiration_date"] is True
    assert page.mrz["raw"][1][6] == "3"
    assert page.mrz["date_of_birth"] == "1974-08-12"


def test_no_mrz_returns_text(engine: MrzEngine) -> None:
    img = Image.new("L", (900, 300), 250)
    font = ImageFont.truetype(samples.DEJAVU, 40)
    draw = ImageDraw.Draw(img)
    draw.text((40, 60), "Invoice number 4711", fill=10, font=font)
    draw.text((40, 160), "Total amount due", fill=10, font=font)
    page = engine.recognize_page(img, page_number=2, options=OPTIONS)
    assert page.mrz == {"mrz_detected": False}
    assert page.number == 2
    assert "Invoice" in page.text and "Total" in page.text
    assert page.to_dict()["mrz"] == {"mrz_detected": False}


def test_document_without_mrz_lines(engine: MrzEngine) -> None:
    """The passport page with its header and photo, but no MRZ printed."""
    img = samples.render_document(["<" * 44, "<" * 44])
    arr = np.asarray(img).copy()
    arr[int(img.height * 0.75) :] = 245  # erase the zone
    page = engine.recognize_page(Image.fromarray(arr), page_number=1, options=OPTIONS)
    assert page.mrz == {"mrz_detected": False}


@pytest.mark.parametrize(("size", "blur"), [(24, 0.0), (42, 0.0), (42, 1.5)])
def test_only_the_filler_glyph_is_a_chevron(size: int, blur: float) -> None:
    font = ImageFont.truetype(samples.ocrb_path(), size)
    found = []
    for char in icao.ALPHABET:
        img = Image.new("L", (size * 2, size * 2), 255)
        ImageDraw.Draw(img).text((size // 3, size // 3), char, font=font, fill=0)
        if blur:
            img = img.filter(ImageFilter.GaussianBlur(blur))
        if is_chevron(np.asarray(img) < 128):
            found.append(char)
    assert found == ["<"]
