"""``languages=auto`` (app/pipeline/langdetect.py) with real Tesseract on rendered text.

German, French and Dutch pages are rendered with their accented letters, some
degraded as a scan or a phone would (blur, noise, JPEG), and read with
``languages=auto``: the language is found, the accented words come out right
(and wrong with ``eng``, which shows the checks can fail), the page reports it.
"""

from __future__ import annotations

import io
import re
import shutil

import pytest
from PIL import Image

from app.engines.base import EngineOptions
from app.engines.tesseract import find_tessdata, installed_languages, parse_osd_script
from app.pipeline import langdetect
from app.pipeline.document import Limits, read_pages
from app.pipeline.options import JobOptions
from app.pipeline.page import PageSettings, ocr_page
from app.pipeline.schema import Block, Line, PageResult, Word
from tests.imaging import cer, degrade, render_text

NEEDED = {"eng", "deu", "fra", "nld", "osd"}
pytestmark = pytest.mark.skipif(not shutil.which("tesseract"), reason="needs Debian tesseract")


def test_the_language_packs_are_installed():
    """Not a skip: CI must install them (the Makefile's OCR_LANGS)."""
    missing = NEEDED - set(installed_languages(find_tessdata()))
    assert not missing, f"apt-get install {' '.join(f'tesseract-ocr-{m}' for m in missing)}"


GERMAN = [
    "Über die Brücke fährt der Bus nur bis zur Straße,",
    "danach müssen die Gäste zu Fuß weitergehen.",
    "Die Größe der Räume hängt von der Anzahl der",
    "Schüler ab, die während des Jahres kommen.",
]
FRENCH = [
    "Le comité se réunira de nouveau jeudi prochain,",
    "après la fête de l'école et la réunion des élèves.",
    "Veuillez apporter les formulaires signés et vos reçus;",
    "les demandes tardives ne seront pas réglées avant mars.",
]
DUTCH = [
    "Het café aan de overkant is één van de oudste",
    "van de stad; de eigenaar is zeer geïnteresseerd",
    "in de coördinatie van ideeën voor het feest.",
    "Wij danken iedereen die heeft geholpen.",
]
ENGLISH = [
    "The committee will meet again next Thursday morning",
    "to review the budget and the new school buildings.",
    "Please bring the signed forms and your receipts.",
]

#: language -> (lines, how the image is spoiled, accented words that must come out right).
CASES = {
    "deu": (GERMAN, "clean", ["Über", "Brücke", "Straße", "Größe", "Räume", "während"]),
    "fra": (FRENCH, "scan", ["réunira", "fête", "élèves", "reçus", "réglées"]),
    "nld": (DUTCH, "phone", ["café", "één", "geïnteresseerd", "coördinatie", "ideeën"]),
}


def spoiled(lines: list[str], how: str) -> Image.Image:
    """The rendered page, as is, scanned (blur, noise) or sent from a phone (+ JPEG q 70)."""
    image = render_text(lines, size=30).image
    if how == "clean":
        return image
    image = degrade(image, blur=0.9, noise=14, seed=3)
    if how == "phone":
        buf = io.BytesIO()
        image.convert("RGB").save(buf, "JPEG", quality=70)
        image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return image


def read(engine, image: Image.Image, languages: tuple[str, ...]) -> PageResult:
    """The page through the document pipeline, as a job reads it."""
    buf = io.BytesIO()
    image.save(buf, "PNG")
    outcome = read_pages(
        buf.getvalue(),
        "image/png",
        engine=engine,
        options=JobOptions(languages=languages),
        limits=Limits(),
        numbers=[1],
    )
    return next(iter(outcome)).result


@pytest.mark.parametrize("language", sorted(CASES))
def test_auto_finds_the_language_and_reads_the_accents(engine, language):
    lines, how, accented = CASES[language]
    image = spoiled(lines, how)
    english = read(engine, image, ("eng",))
    auto = read(engine, image, ("auto",))

    found = auto.to_dict()
    assert found["detected_languages"] == [language]
    assert found["languages"] == [language]
    words = set(re.findall(r"\w+", auto.text))
    assert all(w in words for w in accented), auto.text
    assert cer("\n".join(lines), auto.text) < 0.01, auto.text
    # The same page read with English alone loses the accents: these checks can fail.
    eng_words = set(re.findall(r"\w+", english.text))
    assert sum(w in eng_words for w in accented) <= len(accented) // 2, english.text
    assert cer("\n".join(lines), english.text) > 2 * cer("\n".join(lines), auto.text)
    assert "detected_languages" not in english.to_dict()


def test_english_stays_one_reading(engine):
    image = render_text(ENGLISH, size=30).image
    languages_read: list[tuple[str, ...]] = []

    def counted(languages: tuple[str, ...]) -> PageResult:
        languages_read.append(languages)
        return ocr_page(
            engine,
            image,
            number=1,
            dpi=None,
            options=EngineOptions(languages=languages),
            settings=PageSettings(),
        )

    page = langdetect.read_auto(counted, installed=engine.info().languages)
    assert languages_read == [("eng",)]
    assert page.detected_languages == ["eng"] and page.languages == ["eng"]
    assert cer("\n".join(ENGLISH), page.text) < 0.01


def test_a_language_whose_pack_is_missing_keeps_the_first_reading_and_is_reported(engine):
    image = render_text(DUTCH, size=30).image
    installed = [lang for lang in engine.info().languages if lang != "nld"]
    languages_read: list[tuple[str, ...]] = []

    def counted(languages: tuple[str, ...]) -> PageResult:
        languages_read.append(languages)
        return read(engine, image, languages)

    page = langdetect.read_auto(counted, installed=installed)
    assert languages_read == [("eng",)]
    assert page.detected_languages == ["nld"] and page.languages == ["eng"]


def test_the_engine_names_the_script_of_a_rendered_page(engine):
    image = render_text(GERMAN * 3, size=30).image
    script, confidence = engine.detect_script(image, dpi=300)
    assert script == "Latin" and confidence > 0
    assert parse_osd_script("Rotate: 0\n") is None


def _page(text: str, confidence: float) -> PageResult:
    words = [Word(bbox=[0, 0, 10, 10], text=w, confidence=confidence) for w in text.split()]
    return PageResult.from_blocks(
        number=1, width=100, height=100, blocks=[Block.from_lines([Line.from_words(words)])]
    )


def test_a_page_of_another_script_is_read_with_that_scripts_pack():
    """A Cyrillic page read with ``eng`` is noise: OSD's script picks ``rus``."""
    readings = {
        ("eng",): _page("Mpunet, kak Aena? Cero4HA xopowas noroaa", 41.0),
        ("rus",): _page("Привет, как дела? Сегодня хорошая погода, и мы идём гулять", 91.0),
    }
    asked: list[tuple[str, ...]] = []

    def fake_read(languages: tuple[str, ...]) -> PageResult:
        asked.append(languages)
        return readings[languages]

    page = langdetect.read_auto(
        fake_read, installed=("eng", "rus"), script_of=lambda: ("Cyrillic", 4.2)
    )
    assert asked == [("eng",), ("rus",)]
    assert page.script == "Cyrillic" and page.languages == ["rus"]
    assert page.detected_languages == ["rus"]
    # Without the pack: the first reading stays, with its script reported.
    asked.clear()
    page = langdetect.read_auto(fake_read, installed=("eng",), script_of=lambda: ("Cyrillic", 4.2))
    assert asked == [("eng",)] and page.languages == ["eng"] and page.script == "Cyrillic"


def test_job_options_read_auto_with_english_first():
    options = JobOptions.from_job_fields(engine="tesseract", languages="auto", options={})
    assert options.detect_languages and options.languages_joined == "auto"
    assert options.for_engine().languages == langdetect.FIRST_READING
    assert not JobOptions(languages=("eng",)).detect_languages


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_job_with_languages_auto_reports_the_detected_languages(auth_client, celery_worker):
    from tests.api.helpers import upload
    from tests.conftest import wait_for_job

    rendered = render_text(GERMAN, size=30)
    response = auth_client.post("/api/ocr/", {"image": upload(rendered.png()), "languages": "auto"})
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["id"], timeout=120)
    assert job.status == "done", job.error_message
    body = auth_client.get(f"/api/ocr/{job.id}/").json()
    assert body["languages"] == ["auto"]
    page = body["result"]["pages"][0]
    assert page["detected_languages"] == ["deu"] and page["languages"] == ["deu"]
    assert "Straße" in page["text"] and "Brücke" in page["text"]
    pages = auth_client.get(f"/api/ocr/{job.id}/pages/").json()
    listed = pages["results"] if isinstance(pages, dict) else pages
    assert listed[0]["result"]["detected_languages"] == ["deu"]


@pytest.mark.django_db
def test_auto_mixed_with_codes_is_refused(auth_client):
    from tests.api.helpers import upload

    response = auth_client.post(
        "/api/ocr/", {"image": upload(render_text().png()), "languages": "auto+deu"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_language"
