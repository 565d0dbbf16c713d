"""Lines read across the fold of a book spread (app/pipeline/gutter.py), on readings laid
out as Tesseract gives them: each row of the two facing pages one line with a wide gap at
the fold, and the same repair through the Tesseract engine's result."""

from __future__ import annotations

from app.pipeline.gutter import split_at_gutter
from app.pipeline.schema import Block, Line, Word, page_text

H = 40  # line height, px
PITCH = 60
WORD = 150  # word width, px
SPACE = 15


def words(texts: list[str], x: int, y: int) -> list[Word]:
    out = []
    for text in texts:
        out.append(Word(bbox=[x, y, x + WORD, y + H], text=text, confidence=90.0))
        x += WORD + SPACE
    return out


def spread(rows: int = 10, per_side: int = 4, fold: int = 400) -> tuple[list[Block], str, str]:
    """A two-page spread read across the fold: row ``k`` is one line ``Lk.0 .. Rk.n``;
    the left page from x=100, the right page ``fold`` px after it. Returns the blocks
    and the two pages' texts as they should read."""
    lines = []
    right_x = 100 + per_side * (WORD + SPACE) + fold
    for k in range(rows):
        y = 100 + k * PITCH
        left = words([f"L{k}.{i}" for i in range(per_side)], 100, y)
        right = words([f"R{k}.{i}" for i in range(per_side)], right_x, y)
        lines.append(Line.from_words(left + right))
    left_text = "\n".join(" ".join(f"L{k}.{i}" for i in range(per_side)) for k in range(rows))
    right_text = "\n".join(" ".join(f"R{k}.{i}" for i in range(per_side)) for k in range(rows))
    return [Block.from_lines(lines)], left_text, right_text


def test_a_spread_read_across_the_fold_reads_page_by_page():
    blocks, left, right = spread()
    assert page_text(blocks).startswith("L0.0 L0.1 L0.2 L0.3 R0.0")  # the reading repaired
    fixed = split_at_gutter(blocks)
    assert fixed is not None
    assert page_text(fixed) == left + "\n\n" + right
    # Words are kept as they were: same boxes, texts and confidences.
    before = sorted((w.text, tuple(w.bbox), w.confidence) for b in blocks for w in _words(b))
    after = sorted((w.text, tuple(w.bbox), w.confidence) for b in fixed for w in _words(b))
    assert before == after
    assert fixed[0].bbox == [100, 100, 100 + 4 * WORD + 3 * SPACE, 100 + 9 * PITCH + H]


def test_blocks_of_the_two_pages_interleaved_by_the_engine_are_put_in_page_order():
    # The fold crossed by the top rows; below them, the engine's blocks alternate
    # between the pages (right page's paragraph before the left's).
    blocks, left, right = spread(rows=6)
    below_left = [Line.from_words(words(["l6.0", "l6.1", "l6.2", "l6.3"], 100, 500))]
    below_right = [Line.from_words(words(["r6.0", "r6.1", "r6.2", "r6.3"], 1060, 500))]
    fixed = split_at_gutter(blocks + [Block.from_lines(below_right), Block.from_lines(below_left)])
    assert fixed is not None
    text = page_text(fixed).split()
    assert text.index("l6.0") < text.index("R0.0") < text.index("r6.0")


def test_a_page_whose_columns_the_engine_found_is_left_alone():
    blocks, _, _ = spread()
    columns = [
        Block.from_lines([Line.from_words(ln.words[:4]) for ln in blocks[0].lines]),
        Block.from_lines([Line.from_words(ln.words[4:]) for ln in blocks[0].lines]),
    ]
    assert split_at_gutter(columns) is None


def test_a_form_or_receipt_with_values_far_from_their_labels_is_left_alone():
    # Long labels, short values 600 px away (15 line heights) on every row: not two pages.
    lines = [
        Line.from_words(
            words([f"label{k}", "of", "item"], 100, 100 + k * PITCH)
            + words([f"{k}.99"], 1200, 100 + k * PITCH)
        )
        for k in range(12)
    ]
    assert split_at_gutter([Block.from_lines(lines)]) is None


def test_too_few_crossing_lines_are_left_alone():
    blocks, _, _ = spread(rows=4)
    assert split_at_gutter(blocks) is None
    assert split_at_gutter([]) is None


def test_a_narrow_fold_is_no_gutter():
    # Word gaps under SPLIT_GAP line heights (here 2.5) are spaces, not a fold.
    blocks, _, _ = spread(fold=100)
    assert split_at_gutter(blocks) is None


def _words(block: Block) -> list[Word]:
    return [w for ln in block.lines for w in ln.words]
