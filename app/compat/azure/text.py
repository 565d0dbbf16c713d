"""The ``content`` of an analyze result and the spans that index into it.

Azure's spans are ``{offset, length}`` in the unit the request's ``stringIndexType``
names: ``textElements`` (user-perceived characters, Unicode extended grapheme
clusters; the default), ``unicodeCodePoint`` (Python's ``str`` indexes) or
``utf16CodeUnit`` (JavaScript's, .NET's and Java's). :class:`ContentBuilder` writes
the content piece by piece and returns each piece's span in that unit, so
``content[offset:offset + length]`` (counted in the unit) is the piece exactly.

Python has no grapheme segmentation in its standard library, so :func:`graphemes`
implements the rules of UAX #29 (GB3-GB13; not GB9c, the Indic conjunct rule of
Unicode 15.1, which .NET's ``StringInfo`` does not apply either) on ``unicodedata``'s
properties and a few ranges. Pieces are joined
by spaces and line breaks, which are grapheme boundaries on both sides as long as a
piece does not start with a mark that attaches to what precedes it nor end with a
prepended character (:func:`clean_word` removes those), so a piece's length in
graphemes does not depend on its neighbours.
"""

from __future__ import annotations

import unicodedata

#: Azure's ``stringIndexType`` values; the first is the default.
INDEX_TYPES = ("textElements", "unicodeCodePoint", "utf16CodeUnit")

# Grapheme cluster break properties (UAX #29, table 2), approximated from the
# general category and the ranges that matter for text an OCR engine produces.
_CR, _LF, _CONTROL, _EXTEND, _ZWJ, _RI, _PREPEND, _SPACING = range(8)
_L, _V, _T, _LV, _LVT, _PICT, _OTHER = range(8, 15)

_PREPEND_CHARS = frozenset(
    [*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x0D4E, 0x110BD, 0x110CD]
)
# Spacing marks that are Grapheme_Extend (Other_Grapheme_Extend), hence Extend.
_EXTEND_MC = frozenset([0x09BE, 0x09D7, 0x0B3E, 0x0B57, 0x0BBE, 0x0BD7, 0x0CC2, 0x0CD5, 0x0CD6])
_PICT_RANGES = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F0FF),
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)


def _break_property(char: str) -> int:
    cp = ord(char)
    if cp == 0x0D:
        return _CR
    if cp == 0x0A:
        return _LF
    if cp == 0x200D:
        return _ZWJ
    if cp in _PREPEND_CHARS:
        return _PREPEND
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return _RI
    if 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F or cp in (0x200C, 0xFF9E, 0xFF9F):
        return _EXTEND
    if 0xAC00 <= cp <= 0xD7A3:
        return _LV if (cp - 0xAC00) % 28 == 0 else _LVT
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return _L
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return _V
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return _T
    category = unicodedata.category(char)
    if category in ("Mn", "Me") or cp in _EXTEND_MC:
        return _EXTEND
    if category == "Mc" or cp in (0x0E33, 0x0EB3):
        return _SPACING
    if category in ("Cc", "Zl", "Zp", "Cf", "Cs"):
        return _CONTROL
    if any(lo <= cp <= hi for lo, hi in _PICT_RANGES):
        return _PICT
    return _OTHER


def _breaks(before: int, after: int, pict_zwj: bool, ri_odd: bool) -> bool:
    """Whether UAX #29 puts a boundary between characters of properties ``before``
    and ``after``; ``pict_zwj``: ``before`` is a ZWJ ending ExtPict Extend* ZWJ;
    ``ri_odd``: an odd number of regional indicators precede ``after``."""
    if before == _CR and after == _LF:  # GB3
        return False
    if before in (_CR, _LF, _CONTROL) or after in (_CR, _LF, _CONTROL):  # GB4, GB5
        return True
    if before == _L and after in (_L, _V, _LV, _LVT):  # GB6
        return False
    if before in (_LV, _V) and after in (_V, _T):  # GB7
        return False
    if before in (_LVT, _T) and after == _T:  # GB8
        return False
    if after in (_EXTEND, _ZWJ, _SPACING) or before == _PREPEND:  # GB9, GB9a, GB9b
        return False
    if pict_zwj and after == _PICT:  # GB11
        return False
    return not (before == _RI and after == _RI and ri_odd)  # GB12, GB13; else GB999


def graphemes(text: str) -> list[str]:
    """``text`` split into extended grapheme clusters (UAX #29)."""
    clusters: list[str] = []
    start = 0
    prev = -1
    in_pict = False  # inside ExtPict Extend* (ZWJ)?
    pict_zwj = False
    ri_run = 0
    for i, char in enumerate(text):
        prop = _break_property(char)
        if i and _breaks(prev, prop, pict_zwj, ri_run % 2 == 1):
            clusters.append(text[start:i])
            start = i
        pict_zwj = in_pict and prop == _ZWJ
        in_pict = prop == _PICT or (in_pict and prop == _EXTEND)
        ri_run = ri_run + 1 if prop == _RI else 0
        prev = prop
    if text:
        clusters.append(text[start:])
    return clusters


def length(text: str, index_type: str) -> int:
    """The length of ``text`` in the unit of ``index_type`` (:data:`INDEX_TYPES`)."""
    if index_type == "unicodeCodePoint":
        return len(text)
    if index_type == "utf16CodeUnit":
        return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)
    return len(graphemes(text))


def clean_word(text: str) -> str:
    """A recognised word as it goes into the content: white space runs (line breaks,
    tabs) made single spaces, marks that would join the character before it (a
    combining mark, a joiner or a spacing mark at the start) and prepended
    characters at the end removed; empty when nothing is left."""
    word = " ".join(text.split())
    start, end = 0, len(word)
    while start < end and _break_property(word[start]) in (_EXTEND, _ZWJ, _SPACING):
        start += 1
    while end > start and _break_property(word[end - 1]) == _PREPEND:
        end -= 1
    return word[start:end]


class ContentBuilder:
    """Writes an analyze result's ``content`` and the spans of its pieces.

    :meth:`add` appends text and returns its span ``{"offset", "length"}`` in the unit
    of ``index_type``; :meth:`span` gives the span between two offsets. Pieces must
    be words cleaned by :func:`clean_word` or white space, so that every piece starts
    and ends on a grapheme boundary.
    """

    def __init__(self, index_type: str = INDEX_TYPES[0]) -> None:
        if index_type not in INDEX_TYPES:
            raise ValueError(f"unknown string index type {index_type!r}")
        self.index_type = index_type
        self._parts: list[str] = []
        #: Length of the content so far, in the unit of ``index_type``.
        self.offset = 0

    def add(self, text: str) -> dict[str, int]:
        """Append ``text``; its span."""
        start = self.offset
        self._parts.append(text)
        self.offset += length(text, self.index_type)
        return {"offset": start, "length": self.offset - start}

    @staticmethod
    def span(start: int, end: int) -> dict[str, int]:
        """The span from offset ``start`` to ``end`` (both in the content's unit)."""
        return {"offset": start, "length": end - start}

    @property
    def content(self) -> str:
        return "".join(self._parts)
