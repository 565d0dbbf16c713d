"""The PP-OCR engine (RapidOCR 3.10, the models inside its wheel) on real rendered images."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from app.engines import registry
from app.engines.base import EngineOptions, OcrEngine
from app.engines.ppocr import OPTIONS, PpocrEngine, build
from app.engines.ppocr_languages import LANGUAGES, missing_letters
from app.engines.ppocr_layout import group_lines
from app.engines.ppocr_model import onnx_metadata
from app.engines.ppocr_words import estimate_words, merge_pieces, piece_confidences
from app.errors import OcrError
from app.pipeline.exporters import EXPORT_FORMATS, export
from app.pipeline.schema import Document, Line, PageResult, Word, polygon_bbox
from tests.imaging import cer, degrade, render_text

ROOT = Path(__file__).resolve().parents[2]
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # Debian fonts-wqy-microhei

pytestmark = pytest.mark.django_db(databases=[])


@pytest.fixture(scope="module")
def engine() -> PpocrEngine:
    return build({})


def read(engine: PpocrEngine, image: Image.Image, **kwargs) -> PageResult:
    return engine.recognize_page(image, page_number=1, options=EngineOptions(**kwargs))


def on_word(found: list[int], drawn: tuple[int, int, int, int]) -> bool:
    """The found box sits on the drawn word: each holds the other's centre, and the
    left and right edges agree within 12 px (PP-OCR's word boxes span the line's
    height, so they are taller than the ink)."""
    fx, fy = (found[0] + found[2]) / 2, (found[1] + found[3]) / 2
    dx, dy = (drawn[0] + drawn[2]) / 2, (drawn[1] + drawn[3]) / 2
    return (
        found[0] <= dx <= found[2]
        and found[1] <= dy <= found[3]
        and drawn[0] <= fx <= drawn[2]
        and drawn[1] - 12 <= fy <= drawn[3] + 12
        and abs(found[0] - drawn[0]) <= 12
        and abs(found[2] - drawn[2]) <= 12
    )


# -- the engine as the registry sees it ------------------------------------------------


def test_it_is_a_registered_local_engine_with_its_options_and_languages(engine):
    assert isinstance(engine, OcrEngine) and engine.kind == "local"
    assert registry.BUILTIN_ENGINES["ppocr"] == "app.engines.ppocr.build"
    assert registry.BUILTIN_KINDS["ppocr"] == "local"
    assert isinstance(registry.get_engine("ppocr"), PpocrEngine)
    assert engine.accepted_options == {"box_threshold", "unclip_ratio", "upscale_limit"}
    info = engine.info()
    assert info.available and info.version == "3.10.0" and info.reason == ""
    langs = set(info.languages)
    assert {"eng", "deu", "fra", "nld", "spa", "pol", "chi_sim", "chi_tra", "jpn"} <= langs
    # Scripts the model has no letters for, and the two RapidOCR lists but cannot write.
    assert not {"rus", "ell", "kor", "ara", "vie", "uzb"} & langs


def test_languages_come_from_the_models_own_dictionary(engine):
    dictionary = set(onnx_metadata(engine._models[2])["character"].splitlines())
    assert len(dictionary) > 18_000
    assert missing_letters("deu", dictionary) == []
    assert "ạ" in missing_letters("vie", dictionary)  # why vie is refused
    for code in engine.info().languages:
        assert missing_letters(code, dictionary) == [], code
    assert set(engine.info().languages) <= set(LANGUAGES)


def test_listing_and_checking_load_no_model_then_one_session_set_serves_every_page():
    fresh = build({})
    fresh.info()
    fresh.check_options(EngineOptions(languages=("eng",)))
    assert not fresh.sessions_loaded()  # a web process never loads the models
    image = render_text(["Two pages, one set of sessions"]).image
    fresh.recognize_page(image, page_number=1, options=EngineOptions())
    sessions = [
        fresh._ocr.text_det.session,
        fresh._ocr.text_cls.session,
        fresh._ocr.text_rec.session,
    ]
    fresh.recognize_page(image, page_number=2, options=EngineOptions())
    again = [fresh._ocr.text_det.session, fresh._ocr.text_cls.session, fresh._ocr.text_rec.session]
    assert all(a is b for a, b in zip(sessions, again, strict=True))
    for session in sessions:  # one thread per process, like Tesseract
        opts = session.session.get_session_options()
        assert opts.intra_op_num_threads == 1 and opts.inter_op_num_threads == 1


def test_unknown_languages_and_bad_option_values_are_refused(engine):
    for langs in (("rus",), ("vie",), ("eng", "kor"), ()):
        with pytest.raises(OcrError) as err:
            engine.check_options(EngineOptions(languages=langs))
        assert err.value.code == "unknown_language" and err.value.field == "languages"
    bad = {
        "box_threshold": [1.5, -0.1, "high", True, None],
        "unclip_ratio": [0.5, 9],
        "upscale_limit": [12.5, -1, 5000],
    }
    for name, values in bad.items():
        for value in values:
            with pytest.raises(OcrError) as err:
                engine.check_options(EngineOptions(extra={name: value}))
            assert err.value.code == "invalid_option" and err.value.field == name, value
    engine.check_options(
        EngineOptions(
            languages=("deu", "eng"),
            extra={"box_threshold": "0.6", "unclip_ratio": 2, "upscale_limit": "0"},
        )
    )
    with pytest.raises(OcrError) as err:  # another engine's option
        registry.checked_engine("ppocr", EngineOptions(extra={"service": "idcard"}))
    assert err.value.code == "invalid_option" and err.value.field == "service"
    assert set(OPTIONS) == engine.accepted_options


# -- reading -------------------------------------------------------------------------------


def test_paragraph_reads_exactly_with_word_boxes_on_the_drawn_words(engine):
    rendered = render_text()
    page = read(engine, rendered.image)
    assert cer(rendered.text, page.text) < 0.02, page.text
    assert page.text.split("\n") == rendered.lines  # one block of four lines
    words = page.words()
    assert [w.text for w in words] == [t for t, _ in rendered.word_boxes]
    for word, (text, drawn) in zip(words, rendered.word_boxes, strict=True):
        assert on_word(word.bbox, drawn), (text, word.bbox, drawn)
        assert 0 <= word.confidence <= 100
    assert page.width == rendered.image.width and page.height == rendered.image.height


def test_lines_keep_their_polygon_and_enclose_their_words(engine):
    page = read(engine, render_text().image)
    assert len(page.blocks) == 1 and len(page.blocks[0].lines) == 4
    for block in page.blocks:
        for line in block.lines:
            assert len(line.polygon) == 4 and line.bbox == polygon_bbox(line.polygon)
            assert 90 <= line.confidence <= 100
            for w in line.words:
                assert line.bbox[0] - 2 <= w.bbox[0] and w.bbox[2] <= line.bbox[2] + 2
            assert block.bbox[1] <= line.bbox[1] and line.bbox[3] <= block.bbox[3]
    stored = PageResult.from_dict(json.loads(json.dumps(page.to_dict())))
    assert stored.blocks[0].lines[0].polygon == page.blocks[0].lines[0].polygon


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA"])
def test_every_image_mode_reads(engine, mode):
    """Palette and 1-bit pages read (RapidOCR alone finds nothing on them); a
    transparent page with black ink is flattened on white, not on black."""
    rendered = render_text()
    if mode in ("RGBA", "LA"):
        ink = rendered.image.point(lambda v: 255 - v)  # opaque where the text is
        image = Image.new(mode, rendered.image.size, 0)
        image.putalpha(ink)
    else:
        image = rendered.image.convert(mode)
    page = read(engine, image)
    assert cer(rendered.text, page.text) < 0.02, (mode, page.text)


def test_a_tilted_degraded_photo_reads_and_its_line_polygons_follow_the_tilt(engine):
    rendered = render_text()
    tilted = rendered.image.rotate(8, expand=True, fillcolor=255, resample=Image.BICUBIC)
    page = read(engine, degrade(tilted, blur=0.8))
    assert cer(rendered.text, page.text) < 0.05, page.text
    first = page.blocks[0].lines[0].polygon
    # Turned 8 degrees counter-clockwise: the top edge rises to the right by ~tan(8°).
    (x0, y0), (x1, y1) = first[0], first[1]
    assert 0.09 < (y0 - y1) / (x1 - x0) < 0.19, first


def test_accents_and_digits_of_latin_languages(engine):
    cases = {
        "deu": "Größere Straßen führen über die Brücke.",
        "fra": "Où êtes-vous allés cet été ? Ça déçoit.",
        "nld": "Café één coördinatie, een ruïne in België.",
        "eng": "Invoice 42731 total 1.234,56 EUR on 07/11/2026",
    }
    for lang, line in cases.items():
        page = read(engine, render_text([line]).image, languages=(lang,))
        assert cer(line, page.text) <= 0.03, (lang, page.text)
    assert "Straßen" in read(engine, render_text([cases["deu"]]).image).text


@pytest.mark.skipif(not CJK_FONT.exists(), reason="needs Debian's fonts-wqy-microhei")
@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("chi_sim", "中文识别测试，今天天气很好。"),
        ("jpn", "日本語の文章を読みます。カタカナもある。"),
    ],
)
def test_chinese_and_japanese_read_with_one_word_per_character(engine, lang, line):
    page = read(engine, render_text([line], font=CJK_FONT).image, languages=(lang,))
    assert page.text == line
    assert [w.text for w in page.words()] == list(line)  # no spaces to split on


def test_two_columns_become_two_blocks_read_one_after_the_other(engine):
    left = render_text(["The left column starts here", "and it goes on below", "with a third line"])
    right = render_text(["Right column text begins", "then continues further", "and ends here"])
    page_image = Image.new("L", (left.image.width + right.image.width + 40, left.image.height), 255)
    page_image.paste(left.image, (0, 0))
    page_image.paste(right.image, (left.image.width + 40, 0))
    page = read(engine, page_image)
    assert [b.text for b in page.blocks] == [left.text, right.text]


RECEIPT = [
    "        CORNER BAKERY",
    "      12 Market Street",
    "",
    "Sourdough loaf            4.20",
    "Croissant x2              3.60",
    "Rye bread                 3.10",
    "",
    "TOTAL EUR                10.90",
    "   Thank you for your visit",
]


def test_a_receipt_reads_each_item_with_its_price_on_one_line(engine):
    # PP-OCR detects "Sourdough loaf" and "4.20" as two lines; read in rows, each
    # row is one line, labels and prices in the receipt's order (the real Saathimart
    # receipt photo: CER 0.46 with its labels then its values, 0.03 in rows).
    receipt = render_text(RECEIPT, size=34)  # (in a monospace font PP-OCR drops spaces)
    photo = degrade(receipt.image.rotate(1.5, expand=True, fillcolor=255), blur=0.8, noise=6)
    page = read(engine, photo)
    lines = [ln.text for b in page.blocks for ln in b.lines]
    for row in ("Sourdough loaf 4.20", "Croissant x2 3.60", "Rye bread 3.10", "TOTAL EUR 10.90"):
        assert row in lines, lines
    assert cer("\n".join(" ".join(r.split()) for r in RECEIPT if r.strip()), page.text) < 0.05
    loaf = next(ln for b in page.blocks for ln in b.lines if ln.text.startswith("Sourdough"))
    assert [w.text for w in loaf.words] == ["Sourdough", "loaf", "4.20"]
    assert loaf.words[-1].bbox[0] > loaf.words[1].bbox[2] + 50  # the price's own box


def test_each_option_reaches_the_detector_and_does_not_stick(engine):
    rendered = render_text()
    assert read(engine, rendered.image, extra={"box_threshold": 0.9}).words() == []
    tight = read(engine, rendered.image, extra={"unclip_ratio": 1.0}).blocks[0].lines[0].bbox
    loose = read(engine, rendered.image, extra={"unclip_ratio": 3.0}).blocks[0].lines[0].bbox
    assert loose[3] - loose[1] >= tight[3] - tight[1] + 10  # grown around the text
    page = read(engine, rendered.image, extra={"upscale_limit": 0})
    assert cer(rendered.text, page.text) < 0.02
    # The defaults again: the calls above left nothing behind on the shared object.
    assert read(engine, rendered.image).text == rendered.text


def test_a_blank_page_gives_an_empty_page(engine):
    page = read(engine, Image.new("RGB", (600, 400), "white"))
    assert page.blocks == [] and page.text == "" and page.confidence is None


# -- no network --------------------------------------------------------------------------

OFFLINE_SCRIPT = """
import json, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args)[:80])
    raise OSError("network is off in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import django
django.setup()
from app.engines.base import EngineOptions
from app.engines.ppocr import build
from tests.imaging import render_text
page = build({}).recognize_page(render_text().image, page_number=1, options=EngineOptions())
print(json.dumps({"text": page.text, "attempts": attempts}))
"""


def test_it_reads_with_the_network_off(tmp_path):
    """No download at run time: in a fresh process whose sockets refuse to connect
    (and, where user namespaces allow, with no network device at all)."""
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="onlineocr.settings",
        PYTHONPATH=str(ROOT),
        HOME=str(tmp_path),  # no cache of a former download to fall back on
    )
    command = [sys.executable, "-c", OFFLINE_SCRIPT]
    unshared = subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
    if unshared:
        command = ["unshare", "-rn", *command]
    out = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["attempts"] == []
    assert cer(render_text().text, result["text"]) < 0.02, result["text"]


# -- the pieces -----------------------------------------------------------------------------


def test_piece_confidences_are_each_pieces_own_characters():
    # "ab cd": per character (the space too), as RapidOCR's CTC decoder gives them.
    assert piece_confidences("ab cd", [0.9, 0.7, 1.0, 0.2, 0.4], ["ab", "cd"]) == [
        pytest.approx(0.8),
        pytest.approx(0.3),
    ]
    # Pieces that do not spell the line: the line's mean for each.
    assert piece_confidences("ab", [0.5, 1.0], ["abc"]) == [0.75]


def test_split_pieces_join_into_the_lines_words():
    box = [[0, 0], [10, 0], [10, 10], [0, 10]]
    shifted = [[12, 0], [30, 0], [30, 11], [12, 11]]
    words = merge_pieces(
        "Straßen 42", [("Stra", 0.9, box), ("ßen", 0.7, shifted), ("42", 1.0, box)]
    )
    assert [(w.text, w.bbox, w.confidence) for w in words] == [
        ("Straßen", [0, 0, 30, 11], 80.0),
        ("42", [0, 0, 10, 10], 100.0),
    ]
    assert merge_pieces("other text", [("Stra", 0.9, box)]) is None
    guessed = estimate_words("ab cd", [0, 0, 50, 10], 90.0)
    assert [(w.text, w.bbox) for w in guessed] == [("ab", [0, 0, 20, 10]), ("cd", [30, 0, 50, 10])]


def quad(left: int, right: int) -> list[list[int]]:
    return [[left, 0], [right, 0], [right, 20], [left, 20]]


def test_pieces_a_blank_apart_are_words_where_the_space_was_not_read():
    # A monospace receipt: the recogniser read "CORNERBAKERY" (no space) but the decoder
    # split the pieces at the blank, one 12 px character cell wide.
    words = merge_pieces(
        "CORNERBAKERY", [("CORNER", 0.9, quad(0, 72)), ("BAKERY", 0.9, quad(84, 156))]
    )
    assert [(w.text, w.bbox) for w in words] == [
        ("CORNER", [0, 0, 72, 20]),
        ("BAKERY", [84, 0, 156, 20]),
    ]
    # Pieces close together are one word (wide letter spacing inside a word) ...
    close = merge_pieces("summer", [("summ", 0.9, quad(0, 48)), ("er", 0.9, quad(51, 75))])
    assert [w.text for w in close] == ["summer"]
    # ... and so is a swash capital set apart from the rest of a logo.
    logo = merge_pieces("Walgreens", [("W", 0.9, quad(0, 40)), ("algreens", 0.9, quad(60, 156))])
    assert [w.text for w in logo] == ["Walgreens"]


def test_a_monospace_receipt_keeps_its_word_spaces(engine):
    receipt = render_text(
        RECEIPT, size=34, font=Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
    )
    page = read(engine, degrade(receipt.image))
    lines = [ln.text for b in page.blocks for ln in b.lines]
    assert "CORNER BAKERY" in lines and "TOTAL EUR 10.90" in lines, lines
    assert all(ln.text.split() == [w.text for w in ln.words] for b in page.blocks for ln in b.lines)


def test_group_lines_keeps_paragraphs_and_splits_at_blank_lines():
    def line(text, left, top, right, height=30):
        return Line(
            bbox=[left, top, right, top + height],
            text=text,
            words=[Word(bbox=[left, top, right, top + height], text=text, confidence=90.0)],
        )

    lines = [
        line("para one a", 0, 0, 400),
        line("para one b", 0, 40, 380),
        line("para two a", 0, 140, 400),  # a gap of 70 px > one line height
        line("side note", 600, 40, 900),  # no horizontal overlap: a block of its own
    ]
    blocks = group_lines(lines)
    assert [b.text for b in blocks] == ["para one a\npara one b", "side note", "para two a"]
    assert group_lines([]) == []


# -- every export -------------------------------------------------------------------------------


def test_every_export_format_takes_a_ppocr_page(engine):
    rendered = render_text()
    page = read(engine, rendered.image)
    document = Document(engine="ppocr", engine_version="3.10.0", languages=["eng"], pages=[page])
    for name in EXPORT_FORMATS:
        data = export(document, name, page_image=lambda n: rendered.image)
        assert data, name
        if name in ("txt", "json", "hocr", "alto", "tsv"):
            assert "recognition" in data.decode("utf-8"), name
    assert json.loads(export(document, "json"))["pages"][0]["blocks"][0]["lines"][0]["polygon"]
    pdf = pdfium.PdfDocument(
        io.BytesIO(export(document, "pdf", page_image=lambda n: rendered.image))
    )
    assert cer(rendered.text, pdf[0].get_textpage().get_text_range()) < 0.05


# -- a job end to end ---------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_ppocr_job_through_the_api_worker_exports_history_and_admin(
    auth_client, user, celery_worker
):
    from django.test import Client

    from tests.api.helpers import upload
    from tests.conftest import wait_for_job
    from tests.factories import UserFactory

    rendered = render_text()
    response = auth_client.post(
        "/api/ocr/", {"image": upload(rendered.png()), "engine": "ppocr", "languages": "eng"}
    )
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["id"], timeout=180)
    assert job.status == "done", job.error_message
    body = auth_client.get(f"/api/ocr/{job.id}/").json()
    assert body["engine"] == "ppocr" and body["result"]["engine_version"] == "3.10.0"
    page = body["result"]["pages"][0]
    assert cer(rendered.text, page["text"]) < 0.02, page["text"]
    words = [w for b in page["blocks"] for ln in b["lines"] for w in ln["words"]]
    assert len(words) == len(rendered.word_boxes)
    for i in (0, 2, len(words) - 1):  # "Optical", "recognition", "word."
        text, drawn = rendered.word_boxes[i]
        assert words[i]["text"] == text and on_word(words[i]["bbox"], drawn), (words[i], drawn)
    assert all(len(ln["polygon"]) == 4 for b in page["blocks"] for ln in b["lines"])

    assert auth_client.get(f"/api/ocr/{job.id}/pages/1/image/").status_code == 200
    for fmt in ("txt", "hocr", "alto", "tsv", "pdf"):
        exported = auth_client.get(f"/api/ocr/{job.id}/export/?format={fmt}")
        assert exported.status_code == 200, (fmt, exported.content[:300])
    history = auth_client.get("/api/history/?engine=ppocr").json()["results"]
    assert [h["id"] for h in history] == [str(job.id)]

    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    admin_html = staff.get(f"/admin/ocr/job/{job.id}/change/").content.decode()
    assert admin_html.count('class="ocr-word') == len(words)
    owner = Client()
    owner.force_login(user)
    assert "recognition" in owner.get(f"/jobs/{job.id}/").content.decode()
