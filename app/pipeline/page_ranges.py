"""Page range selection: ``"1-3,7"`` -> ``[1, 2, 3, 7]``.

Pure function, no Django. Used for the ``pages`` option of PDF and multi-page
TIFF jobs.
"""

from __future__ import annotations

import re

from app.errors import OcrError

_PART = re.compile(r"^(?:(\d+)|(\d*)\s*-\s*(\d*))$")


def _fail(spec: str, page_count: int, why: str) -> OcrError:
    return OcrError(
        "invalid_pages",
        f"Invalid page selection {spec!r}: {why}. The document has {page_count} page(s); "
        'use 1-based numbers and ranges such as "1-3,7", "5-" or "-2".',
        field="pages",
    )


def parse_page_ranges(spec: str | None, page_count: int) -> list[int]:
    """Return the 1-based page numbers selected by ``spec``, ascending and unique.

    ``spec`` is a comma-separated list of parts; a part is a page ``N``, a
    range ``A-B`` (inclusive), ``A-`` (from A to the last page) or ``-B``
    (from the first page to B). Spaces are allowed anywhere. ``None`` or an
    empty/blank string selects every page.

    Raises :class:`~app.errors.OcrError` ``invalid_pages`` (``field="pages"``)
    for a malformed part, an empty part (``"1,,2"``), page 0, a page beyond
    ``page_count``, or a reversed range (``"5-3"``).
    """
    if page_count < 1:
        raise OcrError("invalid_pages", "The document has no pages.", field="pages")
    if spec is None or not spec.strip():
        return list(range(1, page_count + 1))
    selected: set[int] = set()
    for raw in spec.split(","):
        part = raw.strip()
        m = _PART.match(part)
        if not part or m is None:
            raise _fail(spec, page_count, f"cannot read {part!r}")
        single, start_s, end_s = m.groups()
        if single is not None:
            start = end = int(single)
        else:
            if not start_s and not end_s:
                raise _fail(spec, page_count, "a range needs at least one end")
            start = int(start_s) if start_s else 1
            end = int(end_s) if end_s else page_count
        if start < 1 or end < 1:
            raise _fail(spec, page_count, "pages are numbered from 1")
        if max(start, end) > page_count:
            raise _fail(spec, page_count, f"page {max(start, end)} is out of range")
        if start > end:
            raise _fail(spec, page_count, f"range {part!r} is reversed")
        selected.update(range(start, end + 1))
    return sorted(selected)
