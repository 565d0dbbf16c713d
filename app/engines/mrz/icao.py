"""ICAO Doc 9303 machine readable zones: layouts, check digits, field parsing.

Pure functions, no image or OCR code. Sources (ICAO Doc 9303, 8th edition):

* Part 3, section 4.9: check digits. Each character has a value (``0``-``9``
  are 0-9, ``A``-``Z`` are 10-35, the filler ``<`` is 0); the values are
  multiplied by the repeating weights 7, 3, 1, summed, and the check digit is
  the sum modulo 10.
* Part 4: TD3 (passports), 2 lines of 44 characters.
* Part 5: TD1 (ID cards), 3 lines of 30 characters.
* Part 6: TD2, 2 lines of 36 characters.
* Part 7: machine readable visas, MRV-A (2 x 44) and MRV-B (2 x 36).

The OCR reads the zone with the alphabet ``A-Z0-9<``. Characters that OCR
confuses (``O``/``0``, ``I``/``1``, ``B``/``8`` ...) are fixed only where the
field type makes the fix unambiguous: a letter in a purely numeric field (dates,
check digits) becomes the digit it looks like, and a digit in a purely
alphabetic field (document type, country codes, names, sex) becomes the letter.
Alphanumeric fields (document number, optional data) are never changed, and no
character is ever changed to make a check digit pass: a wrong check digit comes
out as ``valid_* = False``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

FILLER = "<"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"

#: Letters OCR reads in place of digits, fixed in numeric fields.
TO_DIGIT = str.maketrans(
    {"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "Z": "2", "S": "5",
     "G": "6", "B": "8", "A": "4", "T": "7"}
)  # fmt: skip
#: Digits OCR reads in place of letters, fixed in alphabetic fields.
TO_ALPHA = str.maketrans(
    {"0": "O", "1": "I", "2": "Z", "4": "A", "5": "S", "6": "G", "8": "B", "7": "T"}
)

#: format -> (number of lines, characters per line).
LAYOUTS: dict[str, tuple[int, int]] = {
    "TD1": (3, 30),
    "TD2": (2, 36),
    "TD3": (2, 44),
    "MRVA": (2, 44),
    "MRVB": (2, 36),
}


def char_value(char: str) -> int:
    """The value of one MRZ character (Doc 9303 part 3, 4.9): 0-9, A=10..Z=35, ``<``=0.

    Raises ``ValueError`` for a character outside the MRZ alphabet.
    """
    if char.isdigit():
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == FILLER:
        return 0
    raise ValueError(f"not an MRZ character: {char!r}")


def check_digit(data: str) -> str:
    """The check digit (``"0"``-``"9"``) of ``data`` (Doc 9303 part 3, weights 7, 3, 1)."""
    weights = (7, 3, 1)
    return str(sum(char_value(c) * weights[i % 3] for i, c in enumerate(data)) % 10)


def is_valid(data: str, digit: str, *, filler_ok: bool = False) -> bool:
    """Whether ``digit`` is the check digit of ``data``.

    With ``filler_ok`` a ``<`` check digit is accepted when ``data`` is all
    fillers (Doc 9303 part 4: an unused TD3 personal number may have ``<``).
    """
    if filler_ok and digit == FILLER and set(data) <= {FILLER}:
        return True
    try:
        return digit == check_digit(data)
    except ValueError:
        return False


def to_digits(text: str) -> str:
    """``text`` with letters that look like digits replaced (numeric fields only)."""
    return text.translate(TO_DIGIT)


def to_alpha(text: str) -> str:
    """``text`` with digits that look like letters replaced (alphabetic fields only)."""
    return text.translate(TO_ALPHA)


def parse_date(yymmdd: str, *, kind: str, today: dt.date | None = None) -> str | None:
    """``YYMMDD`` as ISO ``YYYY-MM-DD``, or None when it is not a date.

    ``kind`` is ``"birth"`` (the century that puts the date not after
    ``today``) or ``"expiry"`` (always 20YY).
    """
    if len(yymmdd) != 6 or not yymmdd.isdigit():
        return None
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    today = today or dt.date.today()
    if kind == "birth":
        year = 2000 + yy
        if (year, mm, dd) > (today.year, today.month, today.day):
            year -= 100
    else:
        year = 2000 + yy
    try:
        return dt.date(year, mm, dd).isoformat()
    except ValueError:
        return None


def parse_names(field: str) -> tuple[str, str]:
    """``SURNAME<<GIVEN<NAMES<<<`` as ``("SURNAME", "GIVEN NAMES")`` (Doc 9303 part 3, 4.6)."""
    field = field.rstrip(FILLER)
    surname, _, given = field.partition(FILLER * 2)
    return surname.replace(FILLER, " ").strip(), given.replace(FILLER, " ").strip()


def _clean(text: str) -> str:
    return text.replace(FILLER, " ").strip()


def _sex(char: str) -> str:
    char = to_alpha(char)
    if char in ("M", "F"):
        return char
    return "X"  # "X" or "<": unspecified (Doc 9303 part 4, 4.2.2)


def fit_line(text: str, length: int, *, names: bool = False) -> str:
    """Bring an OCR line to ``length`` characters by fixing its filler runs.

    OCR miscounts runs of ``<`` (never the data): a name line is padded or
    trimmed at its end; any other line has its longest run of at least two
    fillers lengthened or shortened. Other lines are returned unchanged.
    """
    text = "".join(c for c in text.upper() if c in ALPHABET)
    diff = length - len(text)
    if diff == 0:
        return text
    if names:
        return (text + FILLER * diff) if diff > 0 else _trim_end(text, length)
    runs = _filler_runs(text)
    if not runs:
        return text
    start, end = max(runs, key=lambda r: (r[1] - r[0], r[0]))
    if end - start < 2 or end - start + diff < 1:
        return text
    return text[:start] + FILLER * (end - start + diff) + text[end:]


def _trim_end(text: str, length: int) -> str:
    extra = len(text) - length
    tail = len(text) - len(text.rstrip(FILLER))
    if tail >= extra:
        return text[:length]
    return text


def _filler_runs(text: str) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, c in enumerate(text + "x"):
        if c == FILLER and start is None:
            start = i
        elif c != FILLER and start is not None:
            runs.append((start, i))
            start = None
    return runs


@dataclass(frozen=True, slots=True)
class _Check:
    name: str
    data: str
    digit: str
    filler_ok: bool = False

    @property
    def ok(self) -> bool:
        return is_valid(self.data, self.digit, filler_ok=self.filler_ok)


def detect_format(lines: Sequence[str]) -> str | None:
    """The layout of ``lines`` by count and length: TD1, TD2, TD3, MRVA, MRVB or None.

    2 x 44 is TD3 unless the document code starts with ``V`` (MRV-A);
    2 x 36 is TD2 unless it starts with ``V`` (MRV-B).
    """
    lengths = [len(ln) for ln in lines]
    visa = bool(lines) and to_alpha(lines[0][:1]) == "V"
    if lengths == [30, 30, 30]:
        return "TD1"
    if lengths == [44, 44]:
        return "MRVA" if visa else "TD3"
    if lengths == [36, 36]:
        return "MRVB" if visa else "TD2"
    return None


def parse(lines: Sequence[str], *, today: dt.date | None = None) -> dict[str, Any] | None:
    """Parse MRZ ``lines`` (already of the right lengths) into the result dict.

    Returns None when the lines fit no layout. Otherwise the dict has
    ``mrz_detected`` (True), ``type_doc``, ``format``, ``country``,
    ``surname``, ``names``, ``number``, ``nationality``, ``date_of_birth``,
    ``expiration_date`` (ISO dates or None), ``sex`` (M/F/X),
    ``optional_data``, ``raw`` (the lines after confusion fixes),
    ``valid_number``, ``valid_date_of_birth``, ``valid_expiration_date``,
    ``valid_composite`` (None for visas, which have none),
    ``valid_personal_number`` (TD3 only, else None) and ``valid_score``
    (0-100: the percentage of the layout's check digits that validate).
    """
    lines = [ln.upper() for ln in lines]
    fmt = detect_format(lines)
    if fmt is None:
        return None
    if fmt == "TD1":
        return _parse_td1(lines, today)
    return _parse_two_line(lines, fmt, today)


def _names_line(line: str) -> str:
    """A line of document code, issuing state and name (alphabetic except ``<``)."""
    return to_alpha(line)


def _parse_two_line(lines: list[str], fmt: str, today: dt.date | None) -> dict[str, Any]:
    l1 = _names_line(lines[0])
    l2 = lines[1]
    width = len(l1)
    # line 2 (Doc 9303 parts 4, 6, 7): number(9) cd nat(3) dob(6) cd sex expiry(6) cd ...
    number, cd_number = l2[0:9], to_digits(l2[9])
    nationality = to_alpha(l2[10:13])
    dob, cd_dob = to_digits(l2[13:19]), to_digits(l2[19])
    sex = to_alpha(l2[20])
    expiry, cd_expiry = to_digits(l2[21:27]), to_digits(l2[27])
    checks = [
        _Check("number", number, cd_number),
        _Check("date_of_birth", dob, cd_dob),
        _Check("expiration_date", expiry, cd_expiry),
    ]
    personal: _Check | None = None
    composite: _Check | None = None
    if fmt == "TD3":
        optional, cd_optional = l2[28:42], to_digits(l2[42]) if l2[42] != FILLER else FILLER
        cd_composite = to_digits(l2[43])
        rest = optional + cd_optional + cd_composite
        personal = _Check("personal_number", optional, cd_optional, filler_ok=True)
        checks.append(personal)
    elif fmt == "TD2":
        optional, cd_composite = l2[28:35], to_digits(l2[35])
        rest = optional + cd_composite
    else:  # MRV-A / MRV-B: optional data to the end, no composite check digit
        optional, cd_composite = l2[28:], ""
        rest = optional
    if cd_composite:
        data = number + cd_number + dob + cd_dob + expiry + cd_expiry + rest[:-1]
        composite = _Check("composite", data, cd_composite)
        checks.append(composite)
    raw2 = number + cd_number + nationality + dob + cd_dob + sex + expiry + cd_expiry + rest
    surname, names = parse_names(l1[5:width])
    return _result(
        fmt=fmt,
        type_doc=l1[0:2],
        country=l1[2:5],
        surname=surname,
        names=names,
        number=number,
        nationality=nationality,
        dob=dob,
        sex=sex,
        expiry=expiry,
        optional=optional,
        raw=[l1, raw2],
        checks=checks,
        composite=composite,
        personal=personal,
        today=today,
    )


def _parse_td1(lines: list[str], today: dt.date | None) -> dict[str, Any]:
    l1, l2, l3 = lines
    type_doc, country = to_alpha(l1[0:2]), to_alpha(l1[2:5])
    number, cd_number, optional1 = l1[5:14], l1[14], l1[15:30]
    # Doc 9303 part 5, note j: a number longer than 9 characters continues in the
    # optional data, its check digit follows it and the number check digit is "<".
    full_number, number_data = number, number
    if cd_number == FILLER and optional1.strip(FILLER):
        ext = optional1.split(FILLER, 1)[0]
        if len(ext) >= 2:
            full_number = number + ext[:-1]
            number_data, cd_number = full_number, to_digits(ext[-1])
            optional1 = optional1[len(ext) :]
    else:
        cd_number = to_digits(cd_number)
    dob, cd_dob = to_digits(l2[0:6]), to_digits(l2[6])
    sex = to_alpha(l2[7])
    expiry, cd_expiry = to_digits(l2[8:14]), to_digits(l2[14])
    nationality, optional2 = to_alpha(l2[15:18]), l2[18:29]
    cd_composite = to_digits(l2[29])
    raw1 = type_doc + country + l1[5:14] + (l1[14] if l1[14] == FILLER else cd_number)
    raw1 += l1[15:30]
    raw2 = dob + cd_dob + sex + expiry + cd_expiry + nationality + optional2 + cd_composite
    raw3 = to_alpha(l3)
    composite = _Check("composite", raw1[5:30] + raw2[0:7] + raw2[8:15] + raw2[18:29], cd_composite)
    checks = [
        _Check("number", number_data, cd_number),
        _Check("date_of_birth", dob, cd_dob),
        _Check("expiration_date", expiry, cd_expiry),
        composite,
    ]
    surname, names = parse_names(raw3)
    optional = _clean(optional1) + (" " if _clean(optional1) and _clean(optional2) else "")
    optional += _clean(optional2)
    return _result(
        fmt="TD1",
        type_doc=type_doc,
        country=country,
        surname=surname,
        names=names,
        number=full_number,
        nationality=nationality,
        dob=dob,
        sex=sex,
        expiry=expiry,
        optional=optional,
        raw=[raw1, raw2, raw3],
        checks=checks,
        composite=composite,
        personal=None,
        today=today,
    )


def _result(
    *,
    fmt: str,
    type_doc: str,
    country: str,
    surname: str,
    names: str,
    number: str,
    nationality: str,
    dob: str,
    sex: str,
    expiry: str,
    optional: str,
    raw: list[str],
    checks: list[_Check],
    composite: _Check | None,
    personal: _Check | None,
    today: dt.date | None,
) -> dict[str, Any]:
    by_name = {c.name: c.ok for c in checks}
    score = round(100 * sum(by_name.values()) / len(checks))
    return {
        "mrz_detected": True,
        "type_doc": _clean(to_alpha(type_doc)),
        "format": fmt,
        "country": _clean(to_alpha(country)),
        "surname": surname,
        "names": names,
        "number": _clean(number),
        "nationality": _clean(nationality),
        "date_of_birth": parse_date(dob, kind="birth", today=today),
        "expiration_date": parse_date(expiry, kind="expiry", today=today),
        "sex": _sex(sex),
        "optional_data": _clean(optional),
        "raw": raw,
        "valid_number": by_name["number"],
        "valid_date_of_birth": by_name["date_of_birth"],
        "valid_expiration_date": by_name["expiration_date"],
        "valid_composite": composite.ok if composite else None,
        "valid_personal_number": personal.ok if personal else None,
        "valid_score": score,
    }


def find_mrz(
    text_lines: Sequence[str], *, today: dt.date | None = None
) -> tuple[dict[str, Any], list[int]] | None:
    """Find and parse an MRZ among OCR output lines (spaces and stray characters allowed).

    Tries every layout on each run of 2 or 3 consecutive lines of at least 20
    MRZ characters whose lengths are within 3 of the layout's (fixed by
    :func:`fit_line`) and returns the parse with the best ``valid_score``
    (ties: more lines of exact length, then the longer layout) with the
    indices of the lines it used in ``text_lines``; None when nothing fits.
    """
    cleaned = [
        (i, "".join(c for c in ln.upper() if c in ALPHABET)) for i, ln in enumerate(text_lines)
    ]
    cleaned = [(i, ln) for i, ln in cleaned if len(ln) >= 20]
    best: tuple[dict[str, Any], list[int]] | None = None
    best_key: tuple[int, int, int] = (-1, -1, -1)
    for fmt, (count, length) in LAYOUTS.items():
        for start in range(len(cleaned) - count + 1):
            group = [ln for _, ln in cleaned[start : start + count]]
            if any(abs(len(ln) - length) > 3 for ln in group):
                continue
            name_idx = 2 if fmt == "TD1" else 0
            fitted = [fit_line(ln, length, names=(j == name_idx)) for j, ln in enumerate(group)]
            if any(len(ln) != length for ln in fitted):
                continue
            result = parse(fitted, today=today)
            if result is None or result["format"] != fmt:
                continue
            exact = sum(len(a) == len(b) for a, b in zip(group, fitted, strict=True))
            key = (result["valid_score"], exact, count * length)
            if key > best_key:
                best_key = key
                best = (result, [i for i, _ in cleaned[start : start + count]])
    return best


def parse_text(text_lines: Sequence[str], *, today: dt.date | None = None) -> dict[str, Any] | None:
    """The MRZ result of :func:`find_mrz` without the line indices, or None."""
    found = find_mrz(text_lines, today=today)
    return found[0] if found else None
