"""Word boxes and word confidences from RapidOCR's recognition output.

RapidOCR 3.10 (``return_word_box=True``) returns, per text line, pieces
``(text, score, 4-point box)``: whole words on lines of Latin letters and
digits, single characters on lines holding any Chinese character, and a word
split in two where the CTC decoder saw a gap of more than 5 columns
(``ch_ppocr_rec/utils.py`` ``get_word_info``). :func:`merge_pieces` joins the
pieces of one space-separated word back together (CJK characters stay one word
each, as there are no spaces to go by).

Its piece scores are wrong: ``cal_rec_boxes/main.py`` zips the per-character
probabilities of the line with the pieces, so piece ``n`` gets the probability
of the line's ``n``-th character. :class:`WordConfidenceBoxes` replaces them
with the mean probability of each piece's own characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rapidocr.cal_rec_boxes import CalRecBoxes

from app.pipeline.schema import Word, polygon_bbox, union_bbox


def piece_confidences(text: str, char_probs: Sequence[float], pieces: Sequence[str]) -> list[float]:
    """The mean character probability (0-1) of each of ``pieces``.

    ``text``: the recognised line; ``char_probs``: one probability per character
    of ``text`` (spaces included, as RapidOCR's CTC decoder gives them);
    ``pieces``: the line's pieces in order, whose characters are those of
    ``text`` without white space. When they do not line up (lengths differ),
    every piece gets the line's mean probability.
    """
    probs = [float(p) for c, p in zip(text, char_probs, strict=False) if not c.isspace()]
    mean = sum(char_probs) / len(char_probs) if char_probs else 0.0
    if len(char_probs) != len(text) or sum(len(p) for p in pieces) != len(probs):
        return [float(mean)] * len(pieces)
    out, at = [], 0
    for piece in pieces:
        chunk = probs[at : at + len(piece)]
        at += len(piece)
        out.append(sum(chunk) / len(chunk) if chunk else float(mean))
    return out


class WordConfidenceBoxes(CalRecBoxes):
    """RapidOCR's word box calculation with each piece's own mean character probability."""

    def cal_ocr_word_box(  # RapidOCR's signature (cal_rec_boxes/main.py)
        self,
        rec_txt: str,
        bbox: Any,
        word_info: Any,
        return_single_char_box: bool = False,
    ) -> tuple[list[str], list[Any], list[float]]:
        contents, boxes, probs = super().cal_ocr_word_box(
            rec_txt, bbox, word_info, return_single_char_box
        )
        if contents:
            probs = piece_confidences(rec_txt, list(word_info.confs or []), contents)
        return contents, boxes, probs


def _is_cjk(char: str) -> bool:
    """True for Han ideographs, kana and CJK punctuation (U+2E80-U+9FFF, U+F900-U+FAFF,
    U+FF00-U+FFEF): characters written without spaces between words."""
    code = ord(char)
    return 0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


def _word(texts: list[str], scores: list[float], boxes: list[list[int]]) -> Word:
    return Word(
        bbox=union_bbox(boxes),
        text="".join(texts),
        confidence=round(100.0 * sum(scores) / len(scores), 2),
    )


#: Two pieces of one token are two words when the blank between their boxes is at least
#: this share of the line's mean character width (set on rendered monospace receipts:
#: a space is one character cell, 0.8-1.2 of the mean width between the pieces' boxes;
#: pieces RapidOCR splits inside a word, at wide letter spacing, are 0.1-0.4 apart).
SPACE_GAP = 0.7
#: ... and when both sides have at least this many characters: a swash capital set
#: apart from the rest of a logo (``W algreens`` on the Walgreens receipt) is no word.
MIN_SPLIT_CHARS = 2


def _char_width(pieces: Sequence[tuple[str, float, Any]]) -> float:
    """The line's mean character width (pixels): its pieces' box widths over their
    characters."""
    chars = sum(len(p[0]) for p in pieces)
    width = sum(polygon_bbox(p[2])[2] - polygon_bbox(p[2])[0] for p in pieces)
    return width / chars if chars else 0.0


def merge_pieces(line_text: str, pieces: Sequence[tuple[str, float, Any]]) -> list[Word] | None:
    """The words of :func:`merge_line` (None when the pieces do not spell the line)."""
    merged = merge_line(line_text, pieces)
    return merged[1] if merged is not None else None


def merge_line(
    line_text: str, pieces: Sequence[tuple[str, float, Any]]
) -> tuple[str, list[Word]] | None:
    """The text and words of a line from RapidOCR's ``pieces`` ``(text, probability
    0-1, 4 points)``.

    Pieces are joined into the space-separated words of ``line_text``; a word
    holding a CJK character stays split into its pieces (one per character).
    Pieces of one token stay apart, as words of their own, where a blank of at
    least :data:`SPACE_GAP` mean character widths separates their boxes and
    both sides have :data:`MIN_SPLIT_CHARS` characters or more: the
    recogniser drops the space between two words printed in a monospace font
    (``CORNERBAKERY`` on a receipt) but RapidOCR's decoder splits the pieces at
    the blank; the returned text is ``line_text`` with a space put there. Word
    ``bbox``: the union of its pieces' boxes (pixels); ``confidence``: the mean
    piece probability scaled to 0-100. None when the pieces do not spell
    ``line_text`` without its spaces (the caller then estimates boxes).
    """
    if "".join(p[0] for p in pieces) != "".join(line_text.split()):
        return None
    blank = SPACE_GAP * _char_width(pieces)
    words: list[Word] = []
    splits: set[int] = set()  # offsets, in line_text's characters without spaces
    at = 0
    queue = list(pieces)
    for token in line_text.split():
        if any(_is_cjk(c) for c in token):
            spelled = ""
            while spelled != token:
                text, score, points = queue.pop(0)
                spelled += text
                words.append(_word([text], [float(score)], [polygon_bbox(points)]))
            at += len(token)
            continue
        texts: list[str] = []
        scores: list[float] = []
        boxes: list[list[int]] = []
        spelled = ""
        while spelled != token:
            text, score, points = queue.pop(0)
            box = polygon_bbox(points)
            apart = bool(texts) and blank > 0 and box[0] - boxes[-1][2] >= blank
            if apart and len("".join(texts)) >= MIN_SPLIT_CHARS and len(text) >= MIN_SPLIT_CHARS:
                words.append(_word(texts, scores, boxes))
                splits.add(at + len(spelled))
                texts, scores, boxes = [], [], []
            texts.append(text)
            scores.append(float(score))
            boxes.append(box)
            spelled += text
            if len(spelled) > len(token):
                return None
        words.append(_word(texts, scores, boxes))
        at += len(token)
    if not splits:
        return line_text, words
    out, k = [], 0
    for char in line_text:
        if not char.isspace():
            if k in splits:
                out.append(" ")
            k += 1
        out.append(char)
    return "".join(out), words


def estimate_words(line_text: str, bbox: Sequence[int], confidence: float | None) -> list[Word]:
    """Words of ``line_text`` with boxes cut from the line's ``bbox`` in proportion to
    their characters (a space counts as one): the fallback when RapidOCR gives no
    usable pieces. Every word gets the line's ``confidence`` (0-100)."""
    left, top, right, bottom = (int(v) for v in bbox)
    n = max(1, len(line_text))
    step = (right - left) / n
    words, at = [], 0
    for token in line_text.split(" "):
        if token:
            x0 = left + round(at * step)
            x1 = left + round((at + len(token)) * step)
            words.append(Word(bbox=[x0, top, x1, bottom], text=token, confidence=confidence))
        at += len(token) + 1
    return words
