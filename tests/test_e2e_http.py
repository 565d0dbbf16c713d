"""End to end over real HTTP: a live server, the queue, a real worker process.

The README's curl session, in Python: register, get a token, OCR a page,
poll the status URL, list history, export, log out.
"""

import time

import pytest
import requests

from tests.imaging import cer, render_text

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_readme_session_over_http(live_server, celery_worker):
    base = live_server.url
    http = requests.Session()
    r = http.post(
        f"{base}/api/register/",
        json={"username": "dana", "email": "dana@example.com", "password": "river-stone-lamp-7"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    tokens = http.post(
        f"{base}/api/token_obtain_pair/",
        json={"username": "dana", "password": "river-stone-lamp-7"},
        timeout=10,
    ).json()
    http.headers["Authorization"] = f"Bearer {tokens['access']}"

    rendered = render_text()
    r = http.post(
        f"{base}/api/ocr/",
        files={"image": ("letter.png", rendered.png(), "image/png")},
        data={"languages": "eng", "metadata": '{"case": 7}'},
        timeout=10,
    )
    assert r.status_code == 202, r.text
    status_url = r.json()["url"]
    assert status_url.startswith(base)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = http.get(status_url, timeout=10).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "done", job
    assert cer(rendered.text, job["text"]) < 0.02
    assert job["metadata"] == {"case": 7}
    words = [
        w
        for p in job["result"]["pages"]
        for b in p["blocks"]
        for ln in b["lines"]
        for w in ln["words"]
    ]
    assert len(words) == len(rendered.word_boxes)

    history = http.get(f"{base}/api/history/?search=recognition", timeout=10).json()
    assert [j["id"] for j in history["results"]] == [job["id"]]

    txt = http.get(f"{base}/api/ocr/{job['id']}/export/?format=txt", timeout=10)
    assert txt.status_code == 200 and txt.text == job["text"]

    r = http.post(f"{base}/api/logout/", json={"refresh": tokens["refresh"]}, timeout=10)
    assert r.status_code == 204


def test_wait_over_http(live_server, celery_worker, user):
    from tests.factories import PASSWORD

    http = requests.Session()
    tokens = http.post(
        f"{live_server.url}/api/token_obtain_pair/",
        json={"username": user.username, "password": PASSWORD},
        timeout=10,
    ).json()
    http.headers["Authorization"] = f"Bearer {tokens['access']}"
    started = time.monotonic()
    r = http.post(
        f"{live_server.url}/api/ocr/?wait=25",
        files={"image": ("x.png", render_text(["Single step"]).png(), "image/png")},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "Single step"
    assert time.monotonic() - started < 25
