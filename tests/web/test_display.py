"""The helpers the browser pages use to say things in words (app/web/display.py)."""

from __future__ import annotations

from app.web import display


def test_a_jobs_header_names_its_engine_and_languages_in_words():
    assert display.engine_label("auto") == "Automatic engine"
    assert display.engine_label("ppocr") == "PP-OCR"
    assert display.engine_label("clova") == "Clova"
    assert display.job_languages(["eng", "deu"], []) == ["English", "German"]
    # languages=auto: what the pages were found to be in, once they are read.
    assert display.job_languages(["auto"], []) == []  # nothing vague before a page is read
    assert display.engine_label("mrz") == "MRZ"
    pages = [{"detected_languages": ["deu"]}, {"detected_languages": ["deu", "eng"]}, {}]
    assert display.job_languages(["auto"], pages) == ["detected: German, English"]
