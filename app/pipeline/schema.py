"""The result schema: Document -> PageResult -> Block -> Line -> Word.

This is the stable public contract of docs/result-schema.md. Every engine turns
its own raw output into these classes; every exporter reads only these classes.

Conventions (docs/result-schema.md, "Conventions"):

* ``bbox`` is ``[left, top, right, bottom]`` in pixels of the page image as the
  engine saw it (after rotation). ``right``/``bottom`` are exclusive.
* ``polygon`` (optional) is a list of ``[x, y]`` points in the same pixel space,
  kept for providers that return quadrilaterals (CLOVA ``boundingPoly``).
* ``confidence`` is a float from 0 to 100, or ``None`` where an engine gives none.
* A page's ``text`` joins lines with ``\\n`` and blocks with a blank line; a
  document's ``text`` joins pages with a form feed ``\\f``.

The classes are plain dataclasses; :meth:`to_dict` / :meth:`from_dict` convert
to and from the JSON shape stored in the database and returned by the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

BBox = list[int]
Polygon = list[list[int]]

PAGE_SEPARATOR = "\f"
BLOCK_SEPARATOR = "\n\n"
LINE_SEPARATOR = "\n"


def union_bbox(boxes: Iterable[Sequence[int]]) -> BBox:
    """Return the smallest ``[left, top, right, bottom]`` box holding all ``boxes``.

    Returns ``[0, 0, 0, 0]`` when ``boxes`` is empty.
    """
    boxes = list(boxes)
    if not boxes:
        return [0, 0, 0, 0]
    return [
        int(min(b[0] for b in boxes)),
        int(min(b[1] for b in boxes)),
        int(max(b[2] for b in boxes)),
        int(max(b[3] for b in boxes)),
    ]


def polygon_bbox(points: Sequence[Sequence[float]]) -> BBox:
    """Return the axis-aligned ``[left, top, right, bottom]`` box of a polygon (pixels)."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return [int(round(min(xs))), int(round(min(ys))), int(round(max(xs))), int(round(max(ys)))]


def mean_confidence(values: Iterable[float | None]) -> float | None:
    """Mean of the non-null confidences (0-100), or ``None`` when there are none."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None
    return round(sum(vals) / len(vals), 2)


def _opt(d: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        d[key] = value


@dataclass(slots=True)
class Word:
    """One recognised word: ``bbox`` in page pixels, ``confidence`` 0-100 or None."""

    bbox: BBox
    text: str
    confidence: float | None = None
    polygon: Polygon | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "bbox": list(self.bbox),
            "text": self.text,
            "confidence": self.confidence,
        }
        _opt(d, "polygon", self.polygon)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Word:
        return cls(
            bbox=list(d["bbox"]),
            text=d.get("text", ""),
            confidence=d.get("confidence"),
            polygon=d.get("polygon"),
        )


@dataclass(slots=True)
class Line:
    """A line of words in reading order; ``text`` is the words joined by spaces."""

    bbox: BBox
    text: str
    confidence: float | None = None
    words: list[Word] = field(default_factory=list)
    polygon: Polygon | None = None

    @classmethod
    def from_words(cls, words: list[Word]) -> Line:
        """Build a line whose bbox, text and confidence derive from ``words``."""
        return cls(
            bbox=union_bbox(w.bbox for w in words),
            text=" ".join(w.text for w in words if w.text),
            confidence=mean_confidence(w.confidence for w in words),
            words=words,
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "bbox": list(self.bbox),
            "text": self.text,
            "confidence": self.confidence,
            "words": [w.to_dict() for w in self.words],
        }
        _opt(d, "polygon", self.polygon)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Line:
        return cls(
            bbox=list(d["bbox"]),
            text=d.get("text", ""),
            confidence=d.get("confidence"),
            words=[Word.from_dict(w) for w in d.get("words", [])],
            polygon=d.get("polygon"),
        )


@dataclass(slots=True)
class Block:
    """A block (region) of lines."""

    bbox: BBox
    confidence: float | None = None
    lines: list[Line] = field(default_factory=list)
    polygon: Polygon | None = None

    @classmethod
    def from_lines(cls, lines: list[Line]) -> Block:
        """Build a block whose bbox and confidence derive from ``lines``' words."""
        return cls(
            bbox=union_bbox(ln.bbox for ln in lines),
            confidence=mean_confidence(w.confidence for ln in lines for w in ln.words),
            lines=lines,
        )

    @property
    def text(self) -> str:
        return LINE_SEPARATOR.join(ln.text for ln in self.lines)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "bbox": list(self.bbox),
            "confidence": self.confidence,
            "lines": [ln.to_dict() for ln in self.lines],
        }
        _opt(d, "polygon", self.polygon)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Block:
        return cls(
            bbox=list(d["bbox"]),
            confidence=d.get("confidence"),
            lines=[Line.from_dict(ln) for ln in d.get("lines", [])],
            polygon=d.get("polygon"),
        )


def page_text(blocks: Iterable[Block]) -> str:
    """Join blocks' lines with ``\\n`` and blocks with a blank line (docs/result-schema.md)."""
    return BLOCK_SEPARATOR.join(t for t in (b.text for b in blocks) if t)


@dataclass(slots=True)
class PageResult:
    """One page image as OCRed.

    ``number`` is 1-based; ``width``/``height`` in pixels; ``dpi`` the
    resolution the engine assumed (None if unknown); ``rotation`` the
    clockwise rotation in degrees (0/90/180/270) applied before OCR; ``skew``
    the deskew angle in degrees that was corrected. ``fields`` holds key-value
    data some providers extract (e.g. UltraOCR ``Document[].Data``) and ``mrz``
    the machine readable zone of a travel document (ICAO 9303), when read.
    ``photo``: what photo preprocessing did to the page (``page_detected``,
    ``perspective``, ``flattened``, and the page's ``corners`` when it was
    warped; :class:`app.pipeline.photo.PhotoReport`), for the engines whose
    pages get it; None (absent) otherwise.
    ``engine``: the registry name of the engine that read the page
    (``tesseract``, ``ppocr``) when ``engine=auto`` chose it per page
    (docs/engines-auto.md); None (absent): the document's ``engine`` read it.
    ``languages`` / ``detected_languages`` / ``script``: with ``languages=auto``
    (docs/languages-auto.md), the Tesseract codes the page was read with, those
    it was found to be in (a language whose pack is not installed is reported
    here and not read with), and the OSD script when it was asked; None (absent)
    otherwise.
    ``raw`` is a provider's raw response (audit only, never serialised).
    """

    number: int
    width: int
    height: int
    dpi: int | None = None
    rotation: int = 0
    skew: float = 0.0
    text: str = ""
    confidence: float | None = None
    blocks: list[Block] = field(default_factory=list)
    fields: dict[str, Any] | None = None
    mrz: dict[str, Any] | None = None
    photo: dict[str, Any] | None = None
    engine: str | None = None
    languages: list[str] | None = None
    detected_languages: list[str] | None = None
    script: str | None = None
    #: The provider's raw response for this page, kept with the job for auditing.
    #: Never part of :meth:`to_dict` (never returned by the API); must not hold
    #: credentials.
    raw: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_blocks(
        cls, *, number: int, width: int, height: int, blocks: list[Block], **kwargs: Any
    ) -> PageResult:
        """Build a page whose text and confidence derive from ``blocks``."""
        return cls(
            number=number,
            width=width,
            height=height,
            blocks=blocks,
            text=page_text(blocks),
            confidence=mean_confidence(
                w.confidence for b in blocks for ln in b.lines for w in ln.words
            ),
            **kwargs,
        )

    def words(self) -> list[Word]:
        """All words of the page in reading order."""
        return [w for b in self.blocks for ln in b.lines for w in ln.words]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "number": self.number,
            "width": self.width,
            "height": self.height,
            "dpi": self.dpi,
            "rotation": self.rotation,
            "skew": self.skew,
            "text": self.text,
            "confidence": self.confidence,
            "blocks": [b.to_dict() for b in self.blocks],
        }
        _opt(d, "fields", self.fields)
        _opt(d, "mrz", self.mrz)
        _opt(d, "photo", self.photo)
        _opt(d, "engine", self.engine)
        _opt(d, "languages", self.languages)
        _opt(d, "detected_languages", self.detected_languages)
        _opt(d, "script", self.script)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PageResult:
        return cls(
            number=int(d["number"]),
            width=int(d["width"]),
            height=int(d["height"]),
            dpi=d.get("dpi"),
            rotation=int(d.get("rotation") or 0),
            skew=float(d.get("skew") or 0.0),
            text=d.get("text", ""),
            confidence=d.get("confidence"),
            blocks=[Block.from_dict(b) for b in d.get("blocks", [])],
            fields=d.get("fields"),
            mrz=d.get("mrz"),
            photo=d.get("photo"),
            engine=d.get("engine"),
            languages=d.get("languages"),
            detected_languages=d.get("detected_languages"),
            script=d.get("script"),
        )


@dataclass(slots=True)
class Document:
    """The whole result of a job.

    ``languages`` are the engine's language codes (Tesseract style, e.g.
    ``["eng", "deu"]``). ``fields`` and ``mrz`` repeat, at document level, the
    first page's key-value fields and MRZ, for engines that return them.
    """

    engine: str
    engine_version: str
    languages: list[str] = field(default_factory=list)
    pages: list[PageResult] = field(default_factory=list)
    fields: dict[str, Any] | None = None
    mrz: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        return PAGE_SEPARATOR.join(p.text for p in self.pages)

    @property
    def confidence(self) -> float | None:
        return mean_confidence(w.confidence for p in self.pages for w in p.words())

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "engine": self.engine,
            "engine_version": self.engine_version,
            "languages": list(self.languages),
            "pages": [p.to_dict() for p in self.pages],
            "text": self.text,
        }
        _opt(d, "fields", self.fields)
        _opt(d, "mrz", self.mrz)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Document:
        return cls(
            engine=d.get("engine", ""),
            engine_version=d.get("engine_version", ""),
            languages=list(d.get("languages", [])),
            pages=[PageResult.from_dict(p) for p in d.get("pages", [])],
            fields=d.get("fields"),
            mrz=d.get("mrz"),
        )
