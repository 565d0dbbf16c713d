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


def merge_pieces(line_text: str, pieces: Sequence[tuple[str, float, Any]]) -> list[Word] | None:
    """The words of a line from RapidOCR's ``pieces`` ``(text, probability 0-1, 4 points)``.

    Pieces are joined into the space-separated words of ``line_text``; a word
    holding a CJK character stays split into its pieces (one per character).
    Word ``bbox``: the union of its pieces' boxes (pixels); ``confidence``:
    the mean piece probability scaled to 0-100. None when the pieces do not
    spell ``line_text`` without its spaces (the caller then estimates boxes).
    """
    if "".join(p[0] for p in pieces) != "".join(line_text.split()):
        return None
    words: list[Word] = []
    queue = list(pieces)
    for token in line_text.split():
        if any(_is_cjk(c) for c in token):
            spelled = ""
            while spelled != token:
                text, score, points = queue.pop(0)
                spelled += text
                words.append(_word([text], [float(score)], [polygon_bbox(points)]))
            continue
        texts: list[str] = []
        scores: list[float] = []
        boxes: list[list[int]] = []
        while "".join(texts) != token:
            text, score, points = queue.pop(0)
            texts.append(text)
            scores.append(float(score))
            boxes.append(polygon_bbox(points))
            if len("".join(texts)) > len(token):
                return None
        words.append(_word(texts, scores, boxes))
    return words


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
