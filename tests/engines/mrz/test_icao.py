"""ICAO Doc 9303 parsing and check digits (pure, no OCR)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.engines.mrz import icao
from tests.engines.mrz import samples

TODAY = dt.date(2025, 6, 1)


def _td3(number: str, nat: str, dob: str, sex: str, expiry: str, personal: str) -> list[str]:
    """A TD3 line 2 built field by field with correct check digits."""
    personal = personal.ljust(14, "<")
    cd_personal = icao.check_digit(personal) if personal.strip("<") else "<"
    body = (
        number + icao.check_digit(number) + nat + dob + icao.check_digit(dob) + sex + expiry
        + icao.check_digit(expiry) + personal + cd_personal
    )  # fmt: skip
    composite = body[0:10] + body[13:20] + body[21:43]
    line1 = "P<D<<MUSTERMANN<<ERIKA".ljust(44, "<")
    return [line1, body + icao.check_digit(composite)]


@pytest.mark.parametrize(
    ("data", "digit"),
    [
        ("L898902C3", "6"),  # part 4 specimen
        ("740812", "2"),
        ("120415", "9"),
        ("ZE184226B<<<<<", "1"),
        ("D23145890", "7"),  # part 5 specimen
        ("<<<<<<", "0"),
        ("AB2134<<<", "5"),  # part 3, 4.9 worked example
    ],
)
def test_check_digit_matches_icao_examples(data: str, digit: str) -> None:
    assert icao.check_digit(data) == digit


def test_char_values() -> None:
    assert [icao.char_value(c) for c in "09AZ<"] == [0, 9, 10, 35, 0]
    with pytest.raises(ValueError):
        icao.char_value("a")


def test_td3_specimen() -> None:
    r = icao.parse(samples.TD3, today=TODAY)
    assert r is not None
    assert {k: r[k] for k in ("type_doc", "format", "country", "surname", "names")} == {
        "type_doc": "P", "format": "TD3", "country": "UTO", "surname": "ERIKSSON",
        "names": "ANNA MARIA",
    }  # fmt: skip
    assert r["number"] == "L898902C3"
    assert r["nationality"] == "UTO"
    assert r["date_of_birth"] == "1974-08-12"
    assert r["expiration_date"] == "2012-04-15"
    assert r["sex"] == "F"
    assert r["optional_data"] == "ZE184226B"
    assert r["raw"] == samples.TD3
    assert r["valid_number"] and r["valid_date_of_birth"] and r["valid_expiration_date"]
    assert r["valid_composite"] is True and r["valid_personal_number"] is True
    assert r["valid_score"] == 100
    assert r["mrz_detected"] is True


def test_td1_specimen() -> None:
    r = icao.parse(samples.TD1, today=TODAY)
    assert r is not None
    assert (r["format"], r["type_doc"], r["country"], r["number"]) == (
        "TD1", "I", "UTO", "D23145890",
    )  # fmt: skip
    assert (r["surname"], r["names"], r["nationality"], r["sex"]) == (
        "ERIKSSON", "ANNA MARIA", "UTO", "F",
    )  # fmt: skip
    assert (r["date_of_birth"], r["expiration_date"]) == ("1974-08-12", "2012-04-15")
    assert r["optional_data"] == ""
    assert r["valid_composite"] is True and r["valid_score"] == 100


def test_td2_specimen() -> None:
    r = icao.parse(samples.TD2, today=TODAY)
    assert r is not None
    assert (r["format"], r["type_doc"], r["number"], r["surname"]) == (
        "TD2", "I", "D23145890", "ERIKSSON",
    )  # fmt: skip
    assert (r["date_of_birth"], r["expiration_date"], r["sex"]) == ("1974-08-12", "2012-04-15", "F")
    assert r["valid_composite"] is True and r["valid_score"] == 100


@pytest.mark.parametrize(("lines", "fmt"), [(samples.MRVA, "MRVA"), (samples.MRVB, "MRVB")])
def test_visa_specimens(lines: list[str], fmt: str) -> None:
    r = icao.parse(lines, today=TODAY)
    assert r is not None
    assert (r["format"], r["type_doc"], r["country"], r["nationality"]) == (fmt, "V", "UTO", "XXX")
    assert r["number"] == "L8988901C"
    assert r["date_of_birth"] == "1940-09-07"
    # expiry dates are always read as 20YY (the 1996 specimen comes out as 2096)
    assert r["expiration_date"] == "2096-12-10"
    assert r["valid_composite"] is None  # visas have no composite check digit
    assert r["valid_score"] == 100
    assert r["optional_data"] == ("6ZE184226B" if fmt == "MRVA" else "")


def test_composed_td3_with_fillers_and_german_code() -> None:
    lines = _td3("C01X00T47", "D<<", "640812", "F", "310101", "")
    r = icao.parse(lines, today=TODAY)
    assert r is not None
    assert (r["country"], r["nationality"], r["surname"], r["names"]) == (
        "D", "D", "MUSTERMANN", "ERIKA",
    )  # fmt: skip
    assert r["valid_personal_number"] is True  # "<" allowed for an empty personal number
    assert r["valid_score"] == 100
    assert r["expiration_date"] == "2031-01-01"


def test_wrong_check_digit_is_reported_not_fixed() -> None:
    line2 = samples.TD3[1][:9] + "5" + samples.TD3[1][10:]  # number check digit 6 -> 5
    r = icao.parse([samples.TD3[0], line2], today=TODAY)
    assert r is not None
    assert r["valid_number"] is False
    assert r["valid_composite"] is False  # the composite covers the number's digit
    assert r["valid_date_of_birth"] is True and r["valid_expiration_date"] is True
    assert r["raw"][1][9] == "5"
    assert r["number"] == "L898902C3"
    assert r["valid_score"] == 60  # 3 of 5 check digits


def test_confusions_fixed_only_by_field_type() -> None:
    # O->0 and I->1 in the birth date, B->8 in a check digit, 0->O in the
    # nationality and names; the alphanumeric document number keeps its "O".
    line1 = "P<UT0ERIKSS0N<<ANNA<MAR1A<<<<<<<<<<<<<<<<<<<"
    line2 = "LO98902C36UTO74O8I22F12041S9ZE184226B<<<<<1O"
    r = icao.parse([line1, line2], today=TODAY)
    assert r is not None
    assert r["country"] == "UTO" and r["surname"] == "ERIKSSON" and r["names"] == "ANNA MARIA"
    assert r["date_of_birth"] == "1974-08-12"
    assert r["expiration_date"] == "2012-04-15"
    assert r["number"] == "LO98902C3"  # not touched: letters and digits are both legal
    assert r["valid_number"] is False  # ... so its check digit fails
    assert r["valid_date_of_birth"] is True and r["valid_expiration_date"] is True
    assert r["raw"][1][13:21] == "7408122F"


def test_td1_long_document_number() -> None:
    # Doc 9303 part 5: number "D23145890734" continues in the optional data,
    # the number check digit position holds "<", its digit follows the extension.
    number = "D23145890734"
    cd = icao.check_digit(number)
    line1 = ("I<UTO" + number[:9] + "<" + number[9:] + cd).ljust(30, "<")
    line2_body = "7408122F1204159UTO<<<<<<<<<<<"
    composite = line1[5:30] + line2_body[0:7] + line2_body[8:15] + line2_body[18:29]
    line2 = line2_body + icao.check_digit(composite)
    r = icao.parse([line1, line2, samples.TD1[2]], today=TODAY)
    assert r is not None
    assert r["number"] == number
    assert r["valid_number"] is True and r["valid_composite"] is True
    assert r["optional_data"] == ""


@pytest.mark.parametrize(
    ("yymmdd", "kind", "iso"),
    [
        ("740812", "birth", "1974-08-12"),
        ("250601", "birth", "2025-06-01"),  # today is not in the future
        ("250602", "birth", "1925-06-02"),  # tomorrow would be: previous century
        ("991231", "expiry", "2099-12-31"),
        ("300229", "expiry", None),  # 2030 is no leap year
        ("7408<<", "birth", None),
        ("741308", "birth", None),
    ],
)
def test_dates(yymmdd: str, kind: str, iso: str | None) -> None:
    assert icao.parse_date(yymmdd, kind=kind, today=TODAY) == iso


def test_sex_unspecified_is_x() -> None:
    line2 = samples.TD3[1][:20] + "<" + samples.TD3[1][21:]
    r = icao.parse([samples.TD3[0], line2], today=TODAY)
    assert r is not None and r["sex"] == "X"


def test_fit_line_fixes_filler_runs_only() -> None:
    assert icao.fit_line("P<UTOERIKSSON<<ANNA<MARIA<<<<", 44, names=True) == samples.TD3[0]
    assert icao.fit_line(samples.TD3[0] + "<<", 44, names=True) == samples.TD3[0]
    short = samples.TD3[1].replace("B<<<<<1", "B<<<<1")
    assert icao.fit_line(short, 44) == samples.TD3[1]
    assert icao.fit_line("ABCDEFGHIJ", 12) == "ABCDEFGHIJ"  # nothing to stretch


def test_find_mrz_in_noisy_ocr_lines() -> None:
    text = [
        "UTOPIA PASSPORT",
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<",  # two fillers short
        "L898902C36 UTO7408122F1204159ZE184226B<<<<<10",  # a stray space
        "",
    ]
    found = icao.find_mrz(text, today=TODAY)
    assert found is not None
    result, indices = found
    assert indices == [1, 2]
    assert result["raw"] == samples.TD3
    assert result["valid_score"] == 100


def test_no_mrz_in_plain_text() -> None:
    assert icao.parse_text(["HELLO WORLD", "THIS IS NOT A TRAVEL DOCUMENT"]) is None
    assert icao.parse(["TOO<SHORT", "LINES"]) is None
