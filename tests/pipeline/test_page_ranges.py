import pytest

from app.errors import OcrError
from app.pipeline.page_ranges import parse_page_ranges


@pytest.mark.parametrize(
    ("spec", "count", "expected"),
    [
        (None, 3, [1, 2, 3]),
        ("", 2, [1, 2]),
        ("   ", 2, [1, 2]),
        ("1-3,7", 10, [1, 2, 3, 7]),
        ("5-", 7, [5, 6, 7]),
        ("-2", 7, [1, 2]),
        (" 2 - 4 , 9 ", 9, [2, 3, 4, 9]),
        ("7,1-2,2,1", 7, [1, 2, 7]),
        ("3-3", 3, [3]),
        ("1", 1, [1]),
    ],
)
def test_valid_ranges(spec, count, expected):
    assert parse_page_ranges(spec, count) == expected


@pytest.mark.parametrize(
    "spec",
    ["0", "0-2", "11", "3-11", "5-3", "a", "1;2", "1,,2", "-", "1-2-3", "1.5", "+1", ",", "-0"],
)
def test_invalid_ranges(spec):
    with pytest.raises(OcrError) as exc:
        parse_page_ranges(spec, 10)
    assert exc.value.code == "invalid_pages"
    assert exc.value.field == "pages"
    assert exc.value.http_status == 400


def test_no_pages_document():
    with pytest.raises(OcrError) as exc:
        parse_page_ranges(None, 0)
    assert exc.value.code == "invalid_pages"
