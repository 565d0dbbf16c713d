"""Typed results: jobs, batches, API keys, engines and the OCR result schema.

All classes are plain dataclasses built with ``from_dict`` from the service's JSON.
Parsing is lenient: unknown fields are ignored and missing ones get a default, so a
newer service does not break an older client. Each object keeps the JSON it was
made from in ``raw`` for fields this version does not know.

The result tree is Document -> Page -> Block -> Line -> Word (the service's
``docs/result-schema.md``):

- ``bbox`` is ``(left, top, right, bottom)`` in integer pixels of the page image as
  the engine saw it (after rotation, deskew and upscaling); right and bottom are
  exclusive. Lines without word boxes have ``(0, 0, 0, 0)``.
- ``confidence`` is 0-100, or ``None`` when the engine gives none.
- Times are timezone-aware :class:`datetime.datetime` objects (UTC), durations seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Job and batch statuses after which nothing changes any more.
FINISHED_STATUSES = frozenset({"done", "failed", "canceled"})

BBox = tuple[int, int, int, int]


def _dt(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _int(value: Any, default: int | None = 0) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return default


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in _list(value) if isinstance(item, Mapping)]


def _bbox(value: Any) -> BBox:
    items = _list(value)
    if len(items) == 4 and all(isinstance(v, int | float) for v in items):
        left, top, right, bottom = (int(v) for v in items)
        return (left, top, right, bottom)
    return (0, 0, 0, 0)


def _polygon(value: Any) -> list[tuple[int, int]] | None:
    if not isinstance(value, list):
        return None
    points = []
    for point in value:
        if (
            isinstance(point, list | tuple)
            and len(point) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
        ):
            points.append((int(point[0]), int(point[1])))
    return points


# ---------------------------------------------------------------------------
# The result schema


@dataclass
class Word:
    """One recognised word: ``text``, ``bbox`` (px), ``confidence`` (0-100 or None)."""

    text: str
    bbox: BBox = (0, 0, 0, 0)
    confidence: float | None = None
    polygon: list[tuple[int, int]] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Word:
        return cls(
            text=_str(data.get("text")),
            bbox=_bbox(data.get("bbox")),
            confidence=_float(data.get("confidence")),
            polygon=_polygon(data.get("polygon")),
        )


@dataclass
class Line:
    """A line: its words joined by one space in ``text``; ``bbox`` their union."""

    text: str
    bbox: BBox = (0, 0, 0, 0)
    confidence: float | None = None
    words: list[Word] = field(default_factory=list)
    polygon: list[tuple[int, int]] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Line:
        return cls(
            text=_str(data.get("text")),
            bbox=_bbox(data.get("bbox")),
            confidence=_float(data.get("confidence")),
            words=[Word.from_dict(w) for w in _mappings(data.get("words"))],
            polygon=_polygon(data.get("polygon")),
        )


@dataclass
class Block:
    """A block of lines in reading order; ``text`` joins its lines with ``\\n``."""

    bbox: BBox = (0, 0, 0, 0)
    confidence: float | None = None
    lines: list[Line] = field(default_factory=list)
    polygon: list[tuple[int, int]] | None = None

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Block:
        return cls(
            bbox=_bbox(data.get("bbox")),
            confidence=_float(data.get("confidence")),
            lines=[Line.from_dict(ln) for ln in _mappings(data.get("lines"))],
            polygon=_polygon(data.get("polygon")),
        )


@dataclass
class Page:
    """One page of a result: ``number`` (1-based), ``width``/``height`` (px as OCRed),
    ``dpi``, ``rotation`` (clockwise degrees applied), ``skew`` (degrees corrected),
    ``text`` (lines joined by ``\\n``, blocks by a blank line), ``confidence``,
    ``blocks``; ``fields`` and ``mrz`` for engines that extract them."""

    number: int = 1
    width: int = 0
    height: int = 0
    dpi: int | None = None
    rotation: int = 0
    skew: float = 0.0
    text: str = ""
    confidence: float | None = None
    blocks: list[Block] = field(default_factory=list)
    fields: dict[str, Any] | None = None
    mrz: dict[str, Any] | None = None

    @property
    def lines(self) -> list[Line]:
        """Every line of the page, in reading order."""
        return [line for block in self.blocks for line in block.lines]

    @property
    def words(self) -> list[Word]:
        """Every word of the page, in reading order."""
        return [word for line in self.lines for word in line.words]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Page:
        fields_ = data.get("fields")
        mrz = data.get("mrz")
        return cls(
            number=_int(data.get("number"), 1) or 1,
            width=_int(data.get("width")) or 0,
            height=_int(data.get("height")) or 0,
            dpi=_int(data.get("dpi"), None),
            rotation=_int(data.get("rotation")) or 0,
            skew=_float(data.get("skew")) or 0.0,
            text=_str(data.get("text")),
            confidence=_float(data.get("confidence")),
            blocks=[Block.from_dict(b) for b in _mappings(data.get("blocks"))],
            fields=dict(fields_) if isinstance(fields_, Mapping) else None,
            mrz=dict(mrz) if isinstance(mrz, Mapping) else None,
        )


@dataclass
class Document:
    """A finished job's result: ``engine``, ``engine_version``, ``languages``,
    ``pages`` (in order) and ``text`` (the pages' texts joined by a form feed)."""

    engine: str = ""
    engine_version: str = ""
    languages: list[str] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    text: str = ""
    fields: dict[str, Any] | None = None
    mrz: dict[str, Any] | None = None

    @property
    def words(self) -> list[Word]:
        """Every word of every page, in order."""
        return [word for page in self.pages for word in page.words]

    def iter_words(self) -> Iterator[tuple[Page, Word]]:
        """Each word with the page it is on (bboxes are in that page's pixels)."""
        for page in self.pages:
            for word in page.words:
                yield page, word

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Document:
        fields_ = data.get("fields")
        mrz = data.get("mrz")
        return cls(
            engine=_str(data.get("engine")),
            engine_version=_str(data.get("engine_version")),
            languages=[str(c) for c in _list(data.get("languages"))],
            pages=[Page.from_dict(p) for p in _mappings(data.get("pages"))],
            text=_str(data.get("text")),
            fields=dict(fields_) if isinstance(fields_, Mapping) else None,
            mrz=dict(mrz) if isinstance(mrz, Mapping) else None,
        )


# ---------------------------------------------------------------------------
# Jobs


@dataclass
class JobError:
    """Why a job (or page) failed: a stable ``code`` and a ``message`` for people."""

    code: str
    message: str = ""

    @classmethod
    def from_dict(cls, data: Any) -> JobError | None:
        if not isinstance(data, Mapping) or not data.get("code"):
            return None
        return cls(code=str(data["code"]), message=_str(data.get("message")))


@dataclass
class Job:
    """An OCR job as the service reports it.

    ``status`` is ``pending``, ``processing``, ``done``, ``failed`` or ``canceled``.
    ``text`` and ``result`` (a :class:`Document`) are filled once the job is done
    (history listings carry neither). ``error`` is set for a failed job. ``size`` is
    in bytes, ``duration`` in seconds. ``replayed`` is true when the service answered a
    submission with the job an earlier request with the same ``Idempotency-Key`` made;
    ``retry_after`` the seconds the service said to wait before polling (when it did).
    """

    id: str
    url: str = ""
    status: str = ""
    filename: str = ""
    content_type: str = ""
    size: int | None = None
    sha256: str = ""
    engine: str = ""
    languages: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    page_count: int | None = None
    pages_done: int = 0
    owner: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None
    error: JobError | None = None
    text: str = ""
    result: Document | None = None
    replayed: bool = False
    retry_after: float | None = field(default=None, repr=False, compare=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_finished(self) -> bool:
        """True once the job is ``done``, ``failed`` or ``canceled``."""
        return self.status in FINISHED_STATUSES

    @property
    def is_done(self) -> bool:
        return self.status == "done"

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, replayed: bool = False, retry_after: float | None = None
    ) -> Job:
        result = data.get("result")
        owner = data.get("owner")
        return cls(
            id=str(data.get("id", "")),
            url=_str(data.get("url")),
            status=_str(data.get("status")),
            filename=_str(data.get("filename")),
            content_type=_str(data.get("content_type")),
            size=_int(data.get("size"), None),
            sha256=_str(data.get("sha256")),
            engine=_str(data.get("engine")),
            languages=[str(c) for c in _list(data.get("languages"))],
            options=_dict(data.get("options")),
            metadata=_dict(data.get("metadata")),
            page_count=_int(data.get("page_count"), None),
            pages_done=_int(data.get("pages_done")) or 0,
            owner=owner if isinstance(owner, str) else None,
            created_at=_dt(data.get("created_at")),
            started_at=_dt(data.get("started_at")),
            finished_at=_dt(data.get("finished_at")),
            duration=_float(data.get("duration")),
            error=JobError.from_dict(data.get("error")),
            text=_str(data.get("text")),
            result=Document.from_dict(result) if isinstance(result, Mapping) else None,
            replayed=replayed,
            retry_after=retry_after,
            raw=dict(data),
        )


@dataclass
class JobPage:
    """One page of a job from ``/api/ocr/{id}/pages/``: its own ``status`` and
    ``error``, timing (``duration``, seconds) and ``result`` (a :class:`Page`, None
    until that page is done)."""

    number: int
    status: str = ""
    width: int | None = None
    height: int | None = None
    dpi: int | None = None
    rotation: int | None = None
    skew: float | None = None
    confidence: float | None = None
    text: str = ""
    duration: float | None = None
    error: JobError | None = None
    result: Page | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobPage:
        result = data.get("result")
        return cls(
            number=_int(data.get("number"), 0) or 0,
            status=_str(data.get("status")),
            width=_int(data.get("width"), None),
            height=_int(data.get("height"), None),
            dpi=_int(data.get("dpi"), None),
            rotation=_int(data.get("rotation"), None),
            skew=_float(data.get("skew")),
            confidence=_float(data.get("confidence")),
            text=_str(data.get("text")),
            duration=_float(data.get("duration")),
            error=JobError.from_dict(data.get("error")),
            result=Page.from_dict(result) if isinstance(result, Mapping) else None,
            raw=dict(data),
        )


# ---------------------------------------------------------------------------
# Batches


@dataclass
class BatchCounts:
    """How many of a batch's jobs are in each status."""

    pending: int = 0
    processing: int = 0
    done: int = 0
    failed: int = 0
    canceled: int = 0

    @classmethod
    def from_dict(cls, data: Any) -> BatchCounts:
        data = _dict(data)
        return cls(**{name: _int(data.get(name)) or 0 for name in cls.__dataclass_fields__})


@dataclass
class BatchJob:
    """A job as a batch lists it (no text; fetch it with :meth:`Client.get`)."""

    id: str
    url: str = ""
    status: str = ""
    filename: str = ""
    page_count: int | None = None
    pages_done: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    error: JobError | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BatchJob:
        return cls(
            id=str(data.get("id", "")),
            url=_str(data.get("url")),
            status=_str(data.get("status")),
            filename=_str(data.get("filename")),
            page_count=_int(data.get("page_count"), None),
            pages_done=_int(data.get("pages_done")) or 0,
            metadata=_dict(data.get("metadata")),
            error=JobError.from_dict(data.get("error")),
            raw=dict(data),
        )


@dataclass
class Batch:
    """A batch of jobs submitted together.

    ``status`` is ``pending``, ``processing``, ``done``, ``failed`` or ``canceled``;
    ``counts`` has the jobs per status, ``page_count``/``pages_done`` add up its
    jobs' pages, ``jobs`` lists them in submission order (a batch listing from
    :meth:`Client.batches` has no ``jobs``). ``engine``, ``languages`` and ``options``
    are the options its jobs share; ``callback_url`` gets its ``batch.done`` webhook.
    """

    id: str
    url: str = ""
    status: str = ""
    created_at: datetime | None = None
    finished_at: datetime | None = None
    job_count: int = 0
    counts: BatchCounts = field(default_factory=BatchCounts)
    page_count: int | None = None
    pages_done: int = 0
    engine: str = ""
    languages: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    callback_url: str = ""
    jobs: list[BatchJob] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Batch:
        jobs = [BatchJob.from_dict(j) for j in _mappings(data.get("jobs"))]
        return cls(
            id=str(data.get("id", "")),
            url=_str(data.get("url")),
            status=_str(data.get("status")),
            created_at=_dt(data.get("created_at")),
            finished_at=_dt(data.get("finished_at")),
            job_count=_int(data.get("job_count"), len(jobs)) or 0,
            counts=BatchCounts.from_dict(data.get("counts")),
            page_count=_int(data.get("page_count"), None),
            pages_done=_int(data.get("pages_done")) or 0,
            engine=_str(data.get("engine")),
            languages=[str(c) for c in _list(data.get("languages"))],
            options=_dict(data.get("options")),
            metadata=_dict(data.get("metadata")),
            callback_url=_str(data.get("callback_url")),
            jobs=jobs,
            raw=dict(data),
        )


# ---------------------------------------------------------------------------
# Keys and engines


@dataclass
class ApiKey:
    """An API key as its owner sees it. ``prefix`` is its first 8 characters; ``key``
    (the key itself) is only set on the answer that made it."""

    id: str
    name: str = ""
    prefix: str = ""
    created_at: datetime | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    expired: bool = False
    key: str | None = field(default=None, repr=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ApiKey:
        key = data.get("key")
        return cls(
            id=str(data.get("id", "")),
            name=_str(data.get("name")),
            prefix=_str(data.get("prefix")),
            created_at=_dt(data.get("created_at")),
            expires_at=_dt(data.get("expires_at")),
            last_used_at=_dt(data.get("last_used_at")),
            expired=bool(data.get("expired", False)),
            key=key if isinstance(key, str) else None,
            raw={k: v for k, v in data.items() if k != "key"},
        )


@dataclass
class Engine:
    """An OCR engine the service offers: ``kind`` is ``local`` or ``cloud``;
    ``languages`` its installed language codes; ``default`` whether jobs use it
    when no engine is given."""

    name: str
    title: str = ""
    kind: str = ""
    available: bool = False
    version: str = ""
    languages: list[str] = field(default_factory=list)
    default: bool = False
    reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Engine:
        reason = data.get("reason")
        return cls(
            name=_str(data.get("name")),
            title=_str(data.get("title")),
            kind=_str(data.get("kind")),
            available=bool(data.get("available", False)),
            version=_str(data.get("version")),
            languages=[str(c) for c in _list(data.get("languages"))],
            default=bool(data.get("default", False)),
            reason=reason if isinstance(reason, str) else None,
            raw=dict(data),
        )


__all__ = [
    "FINISHED_STATUSES",
    "ApiKey",
    "Batch",
    "BatchCounts",
    "BatchJob",
    "Block",
    "Document",
    "Engine",
    "Job",
    "JobError",
    "JobPage",
    "Line",
    "Page",
    "Word",
]
