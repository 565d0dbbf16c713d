"""docs/errors.md lists exactly the error codes of app/errors.py, with their statuses."""

from __future__ import annotations

import re
from pathlib import Path

from app import errors

ERRORS_DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"

#: A row of the codes table: ``| `code` | status | meaning |``.
_ROW = re.compile(r"^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|")


def _code_table() -> dict[str, int]:
    """code -> HTTP status from ``ERROR_CODES`` (or ``ERROR_STATUS`` where it is the table)."""
    codes = getattr(errors, "ERROR_CODES", None)
    if codes is not None:
        return {code: entry.http_status for code, entry in codes.items()}
    return dict(errors.ERROR_STATUS)


def _documented() -> list[tuple[str, int]]:
    rows = []
    for line in ERRORS_DOC.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            rows.append((match.group(1), int(match.group(2))))
    return rows


def test_every_code_is_documented_with_its_status():
    documented = dict(_documented())
    table = _code_table()
    missing = sorted(set(table) - set(documented))
    assert not missing, f"codes missing from docs/errors.md: {missing}"
    wrong = {
        code: (documented[code], status)
        for code, status in table.items()
        if documented[code] != status
    }
    assert not wrong, f"docs/errors.md status differs from the table (doc, table): {wrong}"


def test_no_documented_code_is_unknown():
    rows = _documented()
    unknown = sorted({code for code, _ in rows} - set(_code_table()))
    assert not unknown, f"codes in docs/errors.md that are not in the table: {unknown}"
    codes = [code for code, _ in rows]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    assert not duplicates, f"codes listed twice in docs/errors.md: {duplicates}"


def test_the_service_ships_with_engine_and_languages_auto():
    """README and docs promise engine=auto and languages=auto as the defaults."""
    from tests.conftest import SHIPPED_DEFAULTS

    assert SHIPPED_DEFAULTS == ("auto", "auto")
