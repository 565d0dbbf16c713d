"""The one table of error codes (``app.errors.ERROR_CODES``) covers every code the app produces."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from app.api.errors import _DRF_CODES
from app.errors import ERROR_CODES, ERROR_STATUS, ErrorCode, OcrError, error_message

APP = Path(__file__).resolve().parent.parent / "app"

#: Where a code is written in the source: ``OcrError("code"``, ``code="code"``,
#: ``error_code = "code"``, ``{"code": "code"}`` and ``error_response("code"``.
_CODE_PATTERNS = (
    re.compile(r'OcrError\(\s*"([a-z_]+)"'),
    re.compile(r'\bcode\s*=\s*"([a-z_]+)"'),
    re.compile(r'\berror_code\s*=\s*"([a-z_]+)"'),
    re.compile(r'"code":\s*"([a-z_]+)"'),
    re.compile(r'error_response\(\s*"([a-z_]+)"'),
)


def _codes_in_source() -> dict[str, set[str]]:
    """Every code written in app/ (migrations aside), with the files that write it."""
    found: dict[str, set[str]] = {}
    for path in sorted(APP.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        for pattern in _CODE_PATTERNS:
            for match in pattern.finditer(source):
                found.setdefault(match.group(1), set()).add(str(path.relative_to(APP.parent)))
    return found


def _codes_produced() -> dict[str, set[str]]:
    found = _codes_in_source()
    for code in _DRF_CODES.values():
        found.setdefault(code, set()).add("app/api/errors.py (_DRF_CODES)")
    # Validation errors without a code of their own; simplejwt's InvalidToken.
    for code in ("invalid", "token_not_valid"):
        found.setdefault(code, set()).add("app/api/errors.py")
    return found


def test_the_scan_finds_the_codes_it_should() -> None:
    found = _codes_in_source()
    # A broken pattern would find nothing and pass the test below vacuously.
    for code in ("invalid_pdf", "encrypted_pdf", "too_many_pixels", "engine_crash", "timeout"):
        assert code in found
    assert len(found) >= 20


@pytest.mark.parametrize("code", sorted(_codes_produced()))
def test_every_code_produced_is_in_the_table(code: str) -> None:
    where = ", ".join(sorted(_codes_produced()[code]))
    assert code in ERROR_CODES, f"{code!r} (raised in {where}) is missing from ERROR_CODES"
    entry = ERROR_CODES[code]
    assert 400 <= entry.http_status <= 599
    assert entry.message.strip(), f"{code!r} has no message"


def test_table_entries_are_well_formed() -> None:
    for code, entry in ERROR_CODES.items():
        assert isinstance(entry, ErrorCode) and entry.code == code
        assert re.fullmatch(r"[a-z][a-z_]*", code)
        assert entry.message[0].isupper() and entry.message.endswith("."), code
        assert entry.message != "The job failed."
    with pytest.raises(dataclasses.FrozenInstanceError):
        ERROR_CODES["timeout"].http_status = 200  # type: ignore[misc]


def test_status_mapping_is_derived_from_the_table() -> None:
    assert {c: e.http_status for c, e in ERROR_CODES.items()} == ERROR_STATUS
    assert OcrError("encrypted_pdf", "x").http_status == 400
    assert OcrError("too_many_pixels", "x").http_status == 413
    assert OcrError("quota_exceeded", "x").http_status == 429
    assert OcrError("no_such_code", "x").http_status == 400


def test_error_message_reads_the_table() -> None:
    assert error_message("encrypted_pdf") == (
        "The PDF is password-protected. Remove the password and upload it again."
    )
    assert error_message("") == ""
    assert error_message("no_such_code") == "The job failed."
