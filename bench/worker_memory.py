"""Worker memory benchmark (issue 11): RSS over many jobs with random ``languages``.

Run from the repository root::

    .venv/bin/python bench/worker_memory.py                  # 500 jobs
    .venv/bin/python bench/worker_memory.py --jobs 150       # quicker check
    .venv/bin/python bench/worker_memory.py --max-models 1000 --jobs 60   # unbounded, to compare

What it does:

Each distinct ordering of the languages (and each ``oem``) is a Tesseract
model set of its own: 13,699 orderings of the seven installed packs (eng deu
fra spa por vie kor). This runs ``--jobs`` OCR calls through the Tesseract
engine in this one process, as a worker's pool child runs them
(``TesseractEngine.recognize_page``, tesserocr backend, the engine built from
the ``OCR_*`` settings with ``OCR_TESSERACT_MAX_MODELS=--max-models``), each
on a freshly rendered 3-line page (Pillow, DejaVuSans 28 px) with a random
ordering of 1 to ``--max-langs`` languages (seeded, ``--seed``), so nearly
every job asks for a model set that is not loaded.

Printed: the process's VmRSS in MB (MiB, ``/proc/self/status``) every
``--every`` jobs, the number of model sets loaded, and the ratio of RSS to the
baseline measured in the same run: the RSS after the first ``--baseline``
jobs (default 20, by when the LRU is full and the allocator warmed up). Then
the peak (VmHWM). Goal: the ratio stays near 1.0 (flat) to the last job;
before the bound every new ordering added ~40-75 MB, never released.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402

LANGUAGES = ("eng", "deu", "fra", "spa", "por", "vie", "kor")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = [
    "Every ordering of languages is a model set",
    "of its own, and a worker must not keep them",
    "all: memory stays flat after the first jobs.",
]


def status_kb() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])
    return out


def page(number: int):
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 28)
    image = Image.new("L", (900, 220), 255)
    draw = ImageDraw.Draw(image)
    for row, text in enumerate(LINES):
        draw.text((40, 30 + row * 55), f"{text} {number}" if row == 2 else text, font=font, fill=0)
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--max-models", type=int, default=3)
    parser.add_argument("--max-langs", type=int, default=3)
    parser.add_argument("--baseline", type=int, default=20)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    _data.django_setup(OCR_TESSERACT_MAX_MODELS=str(args.max_models))
    from app.engines.base import EngineOptions
    from app.engines.registry import engine_config
    from app.engines.tesseract import build

    engine = build(engine_config())
    if engine.backend != "tesserocr":
        raise SystemExit("tesserocr is not importable: the CLI backend keeps no model loaded")
    installed = set(engine.recognition_languages())
    pool = [lang for lang in LANGUAGES if lang in installed]
    rng = random.Random(args.seed)
    orderings: set[tuple[str, ...]] = set()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {args.jobs} jobs, languages from "
        f"{'+'.join(pool)} (1-{args.max_langs} per job, random order), "
        f"OCR_TESSERACT_MAX_MODELS={engine.config.max_models}",
        flush=True,
    )
    print(f"RSS before the first job: {status_kb()['VmRSS'] / 1024:.0f} MB")
    print(f"{'jobs':>6} {'RSS MB':>8} {'ratio':>7} {'loaded':>7} {'s/job':>7}")
    baseline = None
    started = last = time.perf_counter()
    last_number = 0
    for number in range(1, args.jobs + 1):
        k = rng.randint(1, min(args.max_langs, len(pool)))
        languages = tuple(rng.sample(pool, k))
        orderings.add(languages)
        image = page(number)
        engine.recognize_page(
            image, page_number=1, options=EngineOptions(languages=languages, psm=6)
        )
        image.close()
        if number == args.baseline:
            baseline = status_kb()["VmRSS"]
        if number % args.every == 0 or number in (1, args.baseline) or number == args.jobs:
            rss = status_kb()["VmRSS"]
            ratio = f"{rss / baseline:.2f}" if baseline else "-"
            now = time.perf_counter()
            per_job = (now - last) / (number - last_number)
            print(
                f"{number:>6} {rss / 1024:>8.0f} {ratio:>7} "
                f"{len(engine.loaded_models()):>7} {per_job:>7.2f}",
                flush=True,
            )
            last, last_number = now, number
    kb = status_kb()
    print(
        f"{len(orderings)} distinct orderings in {time.perf_counter() - started:.0f} s; "
        f"final RSS {kb['VmRSS'] / 1024:.0f} MB = {kb['VmRSS'] / baseline:.2f}x the RSS after "
        f"{args.baseline} jobs; peak (VmHWM) {kb['VmHWM'] / 1024:.0f} MB"
        if baseline
        else "fewer jobs than --baseline: no ratio"
    )
    engine.close()


if __name__ == "__main__":
    main()
