"""``engine=auto``: Tesseract for a scan, PP-OCR for the photo Tesseract cannot read.

Real engines on pages rendered here (tests/imaging.py) and "photographed" with
bench/photos.py's camera (paper colour, sensor noise, lens blur, JPEG). The
photo is a page held 30 degrees askew: past preprocessing's deskew range
(+-15 degrees), Tesseract finds no words on it, while PP-OCR reads tilted lines
by their polygons.
"""

from __future__ import annotations

import io
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.engines import registry
from app.engines.auto import AutoEngine, member_options
from app.engines.base import EngineOptions, OcrEngine
from app.errors import OcrError
from app.models import Job
from app.pipeline import document
from app.pipeline.auto import (
    KEEP_SECOND_RATIO,
    confident_words,
    keep_second,
    second_opinion,
)
from app.pipeline.options import JobOptions
from app.pipeline.page import PageSettings, ocr_page
from app.pipeline.schema import Block, Line, PageResult, Word
from tests.api.helpers import upload
from tests.conftest import wait_for_job
from tests.imaging import SERIF, cer, render_text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import photos  # noqa: E402

SCAN_LINES = [
    "Optical character recognition turns images",
    "of typed or printed text into machine text.",
    "Scanned letters, invoices and old books are",
    "read by the engine line by line and word by word.",
]
PHOTO_LINES = [
    "The quick brown fox jumps over the lazy dog",
    "while seven wizards quietly judge the boxing match.",
    "Pack my box with five dozen liquor jugs and",
    "bring the crates of fresh mangoes to the market.",
]
TILT = 30  # degrees counter-clockwise
FRAME = (900, 1200)  # the camera frame (pixels): small, for speed


def tilted_photo() -> tuple[Image.Image, list[tuple[float, float]]]:
    """A photo (RGB, :data:`FRAME`) of a page turned :data:`TILT` degrees, and the
    expected centre (x, y pixels of the photo) of each of its lines."""
    rendered = render_text(PHOTO_LINES, size=30, font=SERIF)
    page = rendered.image
    turned = page.rotate(TILT, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    old = photos.FRAME
    photos.FRAME = FRAME
    try:
        ink = photos.flat(turned)
        photo = photos.camera(photos.paper_rgb(ink), np.random.default_rng(16))
        size = photos.fit(turned.size, FRAME)
    finally:
        photos.FRAME = old
    data = photos.jpeg(photo)
    image = Image.open(io.BytesIO(data))
    image.load()
    # Line centres: page -> turned page (PIL turns counter-clockwise about the centre) -> frame.
    scale = size[0] / turned.width
    offset = ((FRAME[0] - size[0]) / 2, (FRAME[1] - size[1]) / 2)
    a = math.radians(TILT)
    centres = []
    for i in range(len(PHOTO_LINES)):
        boxes = [b for _, b in rendered.word_boxes[sum(len(x.split()) for x in PHOTO_LINES[:i]) :]]
        boxes = boxes[: len(PHOTO_LINES[i].split())]
        x = (boxes[0][0] + boxes[-1][2]) / 2 - page.width / 2
        y = (min(b[1] for b in boxes) + max(b[3] for b in boxes)) / 2 - page.height / 2
        tx = x * math.cos(a) + y * math.sin(a) + turned.width / 2
        ty = -x * math.sin(a) + y * math.cos(a) + turned.height / 2
        centres.append((offset[0] + tx * scale, offset[1] + ty * scale))
    return image, centres


def mixed_pdf() -> tuple[bytes, list[tuple[float, float]], list]:
    """A two-page PDF at 300 DPI: a clean rendered page, then the tilted photo."""
    scan = render_text(SCAN_LINES)
    photo, centres = tilted_photo()
    buf = io.BytesIO()
    scan.image.convert("RGB").save(
        buf, "PDF", save_all=True, append_images=[photo.convert("RGB")], resolution=300
    )
    return buf.getvalue(), centres, scan.word_boxes


def page_of(words: list[tuple[str, float]]) -> PageResult:
    line = Line.from_words([Word([0, 0, 10, 10], t, c) for t, c in words])
    return PageResult.from_blocks(
        number=1, width=100, height=100, blocks=[Block.from_lines([line])]
    )


# -- the registry entry -------------------------------------------------------------------


def test_auto_is_a_registered_local_engine_over_tesseract_and_ppocr():
    engine = registry.get_engine("auto")
    assert isinstance(engine, AutoEngine) and isinstance(engine, OcrEngine)
    assert registry.BUILTIN_KINDS["auto"] == "local" and engine.kind == "local"
    info = engine.info()
    assert info.available and info.name == "auto"
    assert info.languages == registry.get_engine("tesseract").info().languages
    assert info.version == "tesseract 5.3.0; ppocr 3.10.0"
    assert engine.primary() is registry.get_engine("tesseract")  # the same loaded engines
    assert engine.secondary(EngineOptions()) is registry.get_engine("ppocr")
    # PP-OCR's options are accepted (and checked), handed to PP-OCR only.
    opts = EngineOptions(extra={"box_threshold": 0.4})
    assert registry.checked_engine("auto", opts) is engine
    with pytest.raises(OcrError) as bad:
        registry.checked_engine("auto", EngineOptions(extra={"box_threshold": 7}))
    assert bad.value.code == "invalid_option"
    assert member_options(engine.primary(), opts).extra == {}
    assert member_options(engine.secondary(opts), opts).extra == {"box_threshold": 0.4}
    with pytest.raises(OcrError) as bad:
        registry.checked_engine("auto", EngineOptions(languages=("xxx",)))
    assert bad.value.code == "unknown_language"


def test_a_language_ppocr_cannot_read_leaves_tesseract_alone():
    engine = registry.get_engine("auto")
    assert engine.secondary(EngineOptions(languages=("kor",))) is None
    assert engine.secondary(EngineOptions(languages=("eng", "deu"))) is not None


def test_without_ppocr_auto_is_tesseract():
    def lookup(name: str) -> OcrEngine:
        if name == "ppocr":
            raise OcrError("engine_unavailable", "not installed")
        return registry.get_engine(name)

    engine = AutoEngine(lookup)
    assert engine.info().available and engine.info().version == "tesseract 5.3.0"
    assert engine.secondary(EngineOptions()) is None
    photo, _ = tilted_photo()
    page = ocr_page(
        engine, photo, number=1, dpi=None, options=EngineOptions(), settings=PageSettings()
    )
    assert page.engine == "tesseract"  # PP-OCR would have read it: not asked


# -- the policy's parts ---------------------------------------------------------------------


def test_confident_words_and_the_choice():
    first = page_of([("word", 90), ("lazy", 95), ("ab", 99), ("fox", 60)])
    assert confident_words(first) == 2  # "ab" too short, "fox" not confident
    second = page_of([("word", 90), ("lazy", 95), ("quick", 97)])
    assert confident_words(second) == 3 and KEEP_SECOND_RATIO * 2 <= 3
    assert keep_second(first, second)
    assert not keep_second(second, first)
    assert not keep_second(first, page_of([("word", 99), ("lazy", 99)]))  # a tie: the first
    empty = page_of([])
    assert not keep_second(empty, empty) and keep_second(empty, page_of([("found", 99)] * 2))


def test_second_opinion_reasons():
    read = page_of([("word", 95)] * 20)
    assert second_opinion(read) is None
    read.photo = {"page_detected": False, "perspective": False, "flattened": True}
    assert second_opinion(read) == "photo"
    read.photo = {"page_detected": False, "perspective": False, "flattened": False}
    assert second_opinion(read) is None
    assert second_opinion(page_of([("word", 95)])) == "weak"  # < 3 words
    noise = page_of([("x1", 30), ("qq", 40), ("zzk", 50), ("lp", 20)])  # low, no real words
    assert second_opinion(noise) == "weak"
    # The image says a camera took it (EXIF Make/Model, as phones write them).
    shot = Image.new("L", (100, 100), 255)
    assert second_opinion(read, shot) is None
    shot.getexif()[0x010F] = "Apple"
    assert second_opinion(read, shot) == "camera"
    # A till receipt's strip: 2.5 times as tall as wide or more; a page is not.
    strip = page_of([("word", 95)] * 20)
    strip.width, strip.height = 400, 1000
    assert second_opinion(strip) == "receipt"
    strip.height = 990
    assert second_opinion(strip) is None


def test_the_choice_as_calibrated_on_the_photo_sets():
    # Confidently read words (Tesseract, PP-OCR) of pages where both engines ran
    # (module docstring of app.pipeline.auto): PP-OCR read these better ...
    for first, second in [(204, 220), (370, 412), (134, 169), (58, 87), (37, 220)]:
        assert keep_second(page_of([("word", 95)] * first), page_of([("word", 95)] * second))
    # ... and Tesseract as well or better these.
    for first, second in [(575, 571), (574, 571), (574, 575), (237, 198), (175, 118)]:
        assert not keep_second(page_of([("word", 95)] * first), page_of([("word", 95)] * second))


# -- a mixed PDF through the document pipeline ---------------------------------------------


def test_mixed_pdf_scan_by_tesseract_photo_by_ppocr(monkeypatch):
    data, centres, scan_boxes = mixed_pdf()
    ppocr = registry.get_engine("ppocr")
    calls: list[int] = []
    original = ppocr.recognize_page

    def counted(image, *, page_number, options):
        calls.append(page_number)
        return original(image, page_number=page_number, options=options)

    monkeypatch.setattr(ppocr, "recognize_page", counted)
    engine = registry.get_engine("auto")
    limits = document.Limits()
    info = document.inspect(data, limits)
    pages = [
        o.result
        for o in document.read_pages(
            data,
            info.content_type,
            engine=engine,
            options=JobOptions(engine="auto"),
            limits=limits,
            numbers=[1, 2],
        )
    ]
    scan, photo = pages
    assert calls == [2]  # the clean page never went to PP-OCR
    assert scan.engine == "tesseract" and photo.engine == "ppocr"
    assert cer("\n".join(SCAN_LINES), scan.text) < 0.02
    assert cer("\n".join(PHOTO_LINES), photo.text) < 0.03, photo.text
    # Scan: word boxes on the drawn words (PDF at 300 DPI: the page's own pixels).
    words = scan.words()
    assert [w.text for w in words] == [t for t, _ in scan_boxes]
    for word, (_, drawn) in zip(words, scan_boxes, strict=True):
        assert all(abs(a - b) <= 4 for a, b in zip(word.bbox, drawn, strict=True)), word
    # Photo: each line's polygon on its expected place, at the page's tilt.
    lines = [ln for b in photo.blocks for ln in b.lines]
    assert len(lines) == len(PHOTO_LINES)
    for line, (cx, cy) in zip(lines, centres, strict=True):
        pts = np.array(line.polygon, float)
        mx, my = pts.mean(axis=0)
        assert abs(mx - cx) < 20 and abs(my - cy) < 20, (line.text, mx, my, cx, cy)
        (x0, y0), (x1, y1) = pts[0], pts[1]
        assert abs(math.degrees(math.atan2(y0 - y1, x1 - x0)) - TILT) < 3
    # The schema keeps the engine through its JSON shape.
    assert PageResult.from_dict(photo.to_dict()).engine == "ppocr"
    assert "engine" not in PageResult(number=1, width=1, height=1).to_dict()


# -- the API, one job on a real worker ------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_api_runs_engine_auto_and_names_the_engine(auth_client, celery_worker):
    photo, _ = tilted_photo()
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=90)
    response = auth_client.post(
        "/api/ocr/",
        {"image": upload(buf.getvalue(), "tilted.jpg", "image/jpeg"), "engine": "auto"},
    )
    assert response.status_code == 202, response.content[:500]
    job = wait_for_job(response.json()["id"], timeout=180)
    assert job.status == "done", (job.error_code, job.error_message)
    body = auth_client.get(f"/api/ocr/{job.id}/").json()
    assert body["engine"] == "auto"
    assert body["result"]["pages"][0]["engine"] == "ppocr"
    assert cer("\n".join(PHOTO_LINES), body["text"]) < 0.03
    history = auth_client.get("/api/history/?engine=auto").json()
    assert [r["id"] for r in history["results"]] == [str(job.id)]
    exports = {
        "txt": b"quick brown",
        "json": b'"engine": "ppocr"',
        "hocr": b"ocr_line",
        "alto": b"<alto",
        "tsv": b"brown",
        "pdf": b"%PDF",
    }
    for fmt, marker in exports.items():
        export = auth_client.get(f"/api/ocr/{job.id}/export/?format={fmt}")
        assert export.status_code == 200, (fmt, export.content[:300])
        content = b"".join(export.streaming_content) if export.streaming else export.content
        assert marker in content, fmt
    assert Job.objects.get(pk=job.id).engine == "auto"
