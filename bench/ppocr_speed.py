"""PP-OCR vs Tesseract (issue 16): seconds per page, CER, word recall, worker RSS.

Run from the repository root::

    .venv/bin/python bench/ppocr_speed.py            # speed and accuracy, then memory
    .venv/bin/python bench/ppocr_speed.py --repeat 5

Pages: a rendered page (32 lines of pangrams, DejaVuSans 40 px, grey, made with
``tests.imaging.render_text``) and OCRmyPDF's ``linn.png`` scan (2550 x 3300,
two columns; reference ``bench/reference/linn.txt``; fetched by ``bench/_data.py``).
Each engine is the worker's (``app.engines.registry``: Tesseract through
tesserocr, one thread; PP-OCR with its one-thread onnxruntime sessions), called
directly on the same image (``recognize_page``, defaults, no preprocessing), once
to warm up and then ``--repeat`` times; the median is printed. CER and word
recall as ``bench/accuracy.py`` counts them.

Memory: a fresh Python process (as a worker's pool child) builds both engines,
reads the rendered page with each and prints its VmRSS and VmHWM
(``/proc/self/status``, MiB). Goal: under 1 GB with both engines loaded.

Timings depend on the machine's load: the load average is printed before the runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402

MEMORY_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
import django
django.setup()
from app.engines import registry
from app.engines.base import EngineOptions
from tests.imaging import render_text
from tests.pipeline.helpers import PANGRAMS

def status():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return [int(fields[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM")]

page = render_text(PANGRAMS * 4, size=40).image
print("start", *status())
for name in ("tesseract", "ppocr"):
    registry.get_engine(name).recognize_page(page, page_number=1, options=EngineOptions())
    print(name, *status())
"""


def _page():
    from tests.imaging import render_text
    from tests.pipeline.helpers import PANGRAMS

    rendered = render_text(PANGRAMS * 4, size=40)
    return rendered.image, rendered.text


def _cer(reference: str, text: str) -> float:
    ref = _data.normalize(reference)
    return _data.levenshtein(ref, _data.normalize(text)) / max(1, len(ref))


def _time(engine, image, repeat: int) -> tuple[float, str]:
    from app.engines.base import EngineOptions

    options = EngineOptions()
    text = engine.recognize_page(image, page_number=1, options=options).text  # warm-up
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        engine.recognize_page(image, page_number=1, options=options)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    _data.django_setup()
    from accuracy import word_recall
    from PIL import Image

    from app.engines import registry

    engines = {name: registry.get_engine(name) for name in ("tesseract", "ppocr")}
    rendered, rendered_text = _page()
    scan = Image.open(_data.resource("linn.png"))
    scan.load()
    pages = {
        "rendered page": (rendered, rendered_text),
        "linn.png": (scan, (_data.BENCH / "reference" / "linn.txt").read_text()),
    }
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    print("| page | engine | seconds (median) | CER | word recall |")
    print("|---|---|---|---|---|")
    for label, (image, reference) in pages.items():
        for name, engine in engines.items():
            seconds, text = _time(engine, image, args.repeat)
            print(
                f"| {label} ({image.width}x{image.height}) | {name} | {seconds:.2f} "
                f"| {_cer(reference, text):.3f} | {word_recall(reference, text):.3f} |"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.no_memory:
        return
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT.format(root=str(_data.ROOT))],
        capture_output=True,
        text=True,
        env=dict(os.environ, DJANGO_SETTINGS_MODULE="onlineocr.settings"),
        cwd=_data.ROOT,
        check=True,
    )
    print("| after | VmRSS MiB | VmHWM MiB |")
    print("|---|---|---|")
    for line in out.stdout.split("\n"):
        if line.strip():
            what, rss, hwm = line.split()
            print(f"| {what} | {rss} | {hwm} |")


if __name__ == "__main__":
    main()
