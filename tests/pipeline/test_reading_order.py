"""Reading order of loose lines (app/pipeline/reading_order.py): synthetic layouts, then
real PP-OCR on a rendered two-column page, as it is and photographed in simulation."""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.engines.base import EngineOptions
from app.pipeline.reading_order import estimate_skew, order_boxes, order_lines
from app.pipeline.schema import Line, Word
from tests.imaging import cer, render_text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import photos  # noqa: E402  (bench/photos.py: the camera simulations)

H = 40  # line box height, px
PITCH = 60  # line pitch, px: gaps of 0.5 line heights inside a paragraph


def column(name: str, x0: int, x1: int, y0: int, n: int, *, breaks=(), last=None):
    """``n`` lines ``name0`` .. of a column from ``x0`` to ``x1`` starting at ``y0``; a blank
    line after each index in ``breaks``; the last line ends at ``last`` (ragged)."""
    out, y = [], y0
    for k in range(n):
        right = last if (last and k == n - 1) else x1
        out.append((f"{name}{k}", (x0, y, right, y + H)))
        y += PITCH * (2 if k in breaks else 1)
    return out


def order(named, polygons=None, seed=3):
    """Blocks of names in reading order; the input is shuffled first (order must not matter)."""
    items = list(zip(named, polygons or [None] * len(named), strict=True))
    random.Random(seed).shuffle(items)
    blocks = order_boxes([box for (_, box), _ in items], [p for _, p in items])
    return [[items[i][0][0] for i in block] for block in blocks]


def flat(blocks):
    return [name for block in blocks for name in block]


def names(prefix, n):
    return [f"{prefix}{k}" for k in range(n)]


# -- synthetic layouts ------------------------------------------------------------------


def test_two_columns_read_column_by_column_with_paragraphs_as_blocks():
    left = column("L", 100, 900, 100, 10, breaks=(3,), last=500)
    right = column("R", 960, 1760, 100, 10, breaks=(6,))  # gutter 60 px = 1.5 line heights
    blocks = order(left + right)
    assert flat(blocks) == names("L", 10) + names("R", 10)
    assert blocks == [names("L", 4), names("L", 10)[4:], names("R", 7), names("R", 10)[7:]]


def test_a_title_and_a_footer_spanning_both_columns_close_to_the_text():
    # Gaps of 20 px (half a line height): no y cut sets them apart, the gutter does.
    head = [("head", (700, 0, 1160, H))]
    title = [("title", (300, 60, 1560, 60 + H))]
    left = column("L", 100, 900, 120, 8)
    right = column("R", 960, 1760, 120, 6, last=1300)
    footer = [("page", (860, 120 + 8 * PITCH, 1000, 120 + 8 * PITCH + H))]
    order_ = flat(order(head + title + left + right + footer))
    assert order_ == ["head", "title", *names("L", 8), *names("R", 6), "page"]


def test_a_full_width_paragraph_between_two_column_sections():
    intro = column("I", 100, 1760, 0, 3, last=900)
    top_l, top_r = column("A", 100, 900, 200, 4), column("B", 960, 1760, 200, 4)
    middle = column("M", 100, 1760, 460, 2)
    low_l, low_r = column("C", 100, 900, 600, 4), column("D", 960, 1760, 600, 3)
    got = flat(order(intro + top_l + top_r + middle + low_l + low_r))
    want = names("I", 3) + names("A", 4) + names("B", 4) + names("M", 2)
    assert got == want + names("C", 4) + names("D", 3)


def test_a_blank_row_across_both_columns_does_not_read_them_row_wise():
    # Full-width paragraphs above and below (more lines than the columns): no gutter
    # for the whole page, so the page is cut at its blank rows, and the two column
    # strips (cut apart by a paragraph break that both columns have at one height)
    # are joined again before they are read.
    top = column("T", 100, 1760, 0, 9)
    left = column("L", 100, 900, 640, 6, breaks=(2,))
    right = column("R", 960, 1760, 640, 6, breaks=(2,))
    bottom = column("B", 100, 1760, 1160, 9)
    got = flat(order(top + left + right + bottom))
    assert got == names("T", 9) + names("L", 6) + names("R", 6) + names("B", 9)


def test_three_columns():
    cols = [
        column(n, x, x + 500, 100, 7, last=x + 300)
        for n, x in (("A", 100), ("B", 660), ("C", 1220))
    ]
    assert flat(order(cols[0] + cols[1] + cols[2])) == names("A", 7) + names("B", 7) + names("C", 7)


def test_a_table_like_grid_stays_row_by_row():
    cells = []
    for row in range(5):
        y = 100 + row * PITCH
        cells += [(f"r{row}c{c}", (100 + c * 350, y, 100 + c * 350 + 180, y + H)) for c in range(3)]
    blocks = order(cells)
    assert flat(blocks) == [f"r{r}c{c}" for r in range(5) for c in range(3)]
    assert len(blocks) == 1


def test_a_receipt_keeps_each_label_with_its_price():
    rows = []
    for k in range(6):
        y = k * PITCH
        rows += [(f"item{k}", (50, y, 350, y + H)), (f"price{k}", (600, y, 700, y + H))]
    assert flat(order(rows)) == [n for k in range(6) for n in (f"item{k}", f"price{k}")]


def test_a_receipt_whose_full_width_lines_outnumber_its_rows_is_read_row_by_row():
    """The layout of a real receipt photo (Saathimart, bench --set real): centred header
    lines, label/value and item/price rows, then a wider footer; read as chains, the
    values came after all the labels (CER 0.46 against 0.03 row by row)."""
    y, lines = 0, []

    def row(*cells):
        nonlocal y
        lines.extend((name, (x0, y, x1, y + H)) for name, x0, x1 in cells)
        y += PITCH

    for k in range(6):
        row((f"head{k}", 150 - 10 * k, 450 + 10 * k))
    row(("date", 20, 80), ("date_value", 95, 235))
    row(("miti", 20, 75), ("miti_value", 95, 235))
    row(("name", 20, 80))
    for k in range(3):
        row(
            (f"n{k}", 20, 50), (f"item{k}", 60, 220), (f"qty{k}", 270, 290), (f"price{k}", 420, 460)
        )
    row(("total", 170, 330), ("total_value", 385, 460))
    for k in range(8):
        row((f"foot{k}", 20, 440 - 20 * (k % 3)))
    got = order(lines)
    assert len(got) == 1
    assert flat(got) == [name for name, _ in sorted(lines, key=lambda n: (n[1][1], n[1][0]))]


def test_rows_do_not_chain_down_a_tilted_block():
    """Each line a little lower than the last (a tilted label column): a line joins a
    row by overlapping its first line, so ``Counter : Terminal`` and ``Cashier : Admin``
    stay two rows; and the wrapped end of a line under it is not beside it."""
    lines = [
        ("footer", (18, 1040, 439, 1072)),  # the receipt's last full-width line
        ("counter", (20, 1098, 105, 1130)),
        ("terminal", (128, 1095, 353, 1142)),
        ("paren", (379, 1112, 406, 1145)),
        ("cashier", (21, 1124, 106, 1156)),
        ("admin", (130, 1124, 213, 1157)),
    ]
    got = order_lines(
        [Line(bbox=list(b), text=n, words=[Word(bbox=list(b), text=n)]) for n, b in lines]
    )
    texts = [ln.text for block in got for ln in block.lines]
    assert texts == ["footer", "counter terminal paren", "cashier admin"]
    wrapped = [
        ("long", (18, 1017, 439, 1071)),  # a tilted full-width line, 54 px high
        ("tail", (22, 1047, 190, 1079)),  # its continuation, overlapping it in y
        ("a", (20, 985, 80, 1015)),
        ("b", (300, 985, 360, 1015)),
    ]
    got = order_lines(
        [Line(bbox=list(b), text=n, words=[Word(bbox=list(b), text=n)]) for n, b in wrapped]
    )
    assert [ln.text for block in got for ln in block.lines] == ["a b", "long", "tail"]


def test_order_lines_makes_one_line_of_each_row_of_a_receipt():
    def line(text, box, conf):
        return Line(
            bbox=list(box),
            text=text,
            words=[Word(bbox=list(box), text=text, confidence=conf)],
            polygon=[[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]],
        )

    lines = []
    for k in range(4):
        y = k * PITCH
        lines += [
            line(f"price{k}", (600, y, 700, y + H), 90.0),
            line(f"item{k}", (50, y, 350, y + H), 70.0),
        ]
    blocks = order_lines(lines)
    assert [ln.text for ln in blocks[0].lines] == [f"item{k} price{k}" for k in range(4)]
    first = blocks[0].lines[0]
    assert first.bbox == [50, 0, 700, H] and first.confidence == 80.0 and first.polygon is None
    assert [w.bbox for w in first.words] == [[50, 0, 350, H], [600, 0, 700, H]]


def test_a_single_column_with_indented_paragraphs():
    lines, y = [], 0
    for k in range(12):
        indent = 160 if k in (0, 4, 9) else 100
        right = 700 if k in (3, 8, 11) else 1700  # paragraph ends are short
        lines.append((f"S{k}", (indent, y, right, y + H)))
        y += PITCH
    blocks = order(lines)
    assert blocks == [names("S", 12)]


def test_a_side_note_is_a_block_of_its_own():
    lines = [
        ("para0", (0, 0, 400, 30)),
        ("para1", (0, 40, 380, 70)),
        ("note", (600, 40, 900, 70)),  # beside the paragraph, nothing else on its side
        ("para2", (0, 140, 400, 170)),  # after a blank line
    ]
    assert order(lines) == [["para0", "para1"], ["note"], ["para2"]]


def test_a_caption_under_a_figure_beside_the_text_is_read_after_the_text():
    # c03-29.pdf's layout: text beside a figure (none of it a line), its caption
    # level with the text's last narrow lines, then full-width text under both.
    beside = column("T", 1000, 2000, 0, 10)
    caption = [("caption", (300, 9 * PITCH - 10, 750, 9 * PITCH - 10 + H))]
    under = column("U", 100, 2000, 10 * PITCH, 4)
    blocks = order(beside + caption + under)
    assert blocks == [names("T", 10) + names("U", 4), ["caption"]]


def _turn(box, degrees):
    """``box``'s corners turned by ``degrees`` about (0, 0): its polygon and bbox."""
    a = math.radians(degrees)
    x0, y0, x1, y1 = box
    poly = [
        [x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a)]
        for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    ]
    xs, ys = [p[0] for p in poly], [p[1] for p in poly]
    return poly, (min(xs), min(ys), max(xs), max(ys))


@pytest.mark.parametrize("degrees", [2.0, -2.0, 6.0])
def test_small_skew_is_corrected_from_the_polygons(degrees):
    left = column("L", 300, 1100, 100, 25, breaks=(8,))
    right = column("R", 1160, 1960, 100, 25, breaks=(15,))  # gutter 60 px
    turned = [(n, _turn(box, degrees)) for n, box in left + right]
    named = [(n, bbox) for n, (_, bbox) in turned]
    polygons = [poly for _, (poly, _) in turned]
    assert estimate_skew(polygons) == pytest.approx(degrees, abs=0.01)
    paragraphs = [names("L", 9), names("L", 25)[9:], names("R", 16), names("R", 25)[16:]]
    assert order(named, polygons) == paragraphs
    # The control, without the polygons: the tilted boxes overlap in y, so the
    # paragraph breaks are lost.
    blind = order(named)
    assert blind != paragraphs


def test_every_line_once_whatever_the_boxes_and_nothing_for_nothing():
    rng = random.Random(11)
    for _ in range(50):
        boxes = []
        for _ in range(rng.randrange(1, 40)):
            x, y = rng.randrange(0, 2000), rng.randrange(0, 3000)
            boxes.append((x, y, x + rng.randrange(1, 900), y + rng.randrange(1, 80)))
        got = [i for block in order_boxes(boxes) for i in block]
        assert sorted(got) == list(range(len(boxes)))
    assert order_boxes([]) == [] and order_lines([]) == []
    assert estimate_skew([None, [[0, 0], [10, 0]]]) == 0.0


def test_order_lines_builds_blocks_of_the_schema():
    def line(text, box):
        return Line(
            bbox=list(box), text=text, words=[Word(bbox=list(box), text=text, confidence=80.0)]
        )

    lines = [line(n, box) for n, box in column("R", 960, 1760, 0, 3) + column("L", 100, 900, 0, 3)]
    blocks = order_lines(lines)
    assert [b.text for b in blocks] == ["L0\nL1\nL2", "R0\nR1\nR2"]
    assert blocks[0].bbox == [100, 0, 900, 2 * PITCH + H] and blocks[0].confidence == 80.0


# -- real PP-OCR on a rendered two-column page ------------------------------------------------

LEFT = [
    "It was the best of times, it was",
    "the worst of times, it was the age",
    "of wisdom, it was the age of folly.",
    "",
    "There were a king with a large jaw",
    "and a queen with a plain face, on",
    "the throne of England; there were",
    "a king with a large jaw and a queen",
    "with a fair face, on the throne.",
]
RIGHT = [
    "France, less favoured on the whole",
    "as to matters spiritual than her",
    "sister of the shield and trident,",
    "rolled with exceeding smoothness",
    "down hill, making paper money and",
    "",
    "spending it. Under the guidance of",
    "her Christian pastors, she amused",
    "herself besides with such humane",
]


def two_column_page(gutter: int = 50) -> tuple[Image.Image, str]:
    left, right = render_text(LEFT, size=30), render_text(RIGHT, size=30)
    page = Image.new("L", (left.image.width + right.image.width + gutter, left.image.height), 255)
    page.paste(left.image, (0, 0))
    page.paste(right.image, (left.image.width + gutter, 0))
    text = "\n".join(line for line in LEFT + RIGHT if line)
    return page, text


@pytest.fixture(scope="module")
def ppocr():
    pytest.importorskip("rapidocr")
    from app.engines.ppocr import build

    return build({})


def rowwise(page) -> str:
    """The lines in rows across the page (sorted by top, then left): the interleaving that
    the previous grouping gave when paragraphs break at different heights."""
    lines = sorted(
        (ln for b in page.blocks for ln in b.lines), key=lambda ln: (ln.bbox[1], ln.bbox[0])
    )
    return "\n".join(ln.text for ln in lines)


def test_ppocr_reads_a_rendered_two_column_page_column_by_column(ppocr):
    image, text = two_column_page()
    page = ppocr.recognize_page(image, page_number=1, options=EngineOptions())
    assert cer(text, page.text) < 0.03, page.text
    # The bound tells the orders apart: read row-wise, the same lines are far off.
    assert cer(text, rowwise(page)) > 0.3
    # Columns and paragraphs are blocks: two per column, left ones first.
    lefts = [b.bbox[0] < image.width / 2 for b in page.blocks]
    assert lefts == [True, True, False, False], [b.text for b in page.blocks]
    assert page.blocks[2].bbox[0] >= image.width / 2 - 10


def test_ppocr_reads_the_page_photographed_at_an_angle_column_by_column(ppocr):
    image, text = two_column_page()
    rng = np.random.default_rng(photos.hash_name("two-column-perspective"))
    photo = photos.camera(photos.perspective(image, rng), rng)
    photo = photo.resize((photo.width // 2, photo.height // 2), Image.Resampling.LANCZOS)
    page = ppocr.recognize_page(photo, page_number=1, options=EngineOptions())
    assert cer(text, page.text) < 0.06, page.text
    assert cer(text, rowwise(page)) > 0.3
    # Each column's two paragraphs stay two blocks (the blank line survives the tilt).
    lefts = [b.bbox[0] < photo.width / 2 for b in page.blocks]
    assert lefts == [True, True, False, False], [b.text for b in page.blocks]
