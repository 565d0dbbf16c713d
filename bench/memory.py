"""Memory benchmark (issue 3): worker RSS while OCRing a 200-page PDF.

Run from the repository root::

    .venv/bin/python bench/memory.py                 # 200 pages
    .venv/bin/python bench/memory.py --pages 60      # quicker check
    .venv/bin/python bench/memory.py --concurrency 2 # 2 pool children (page fan-out)

What it does:

1. Generates ``bench/.cache/memory/pages-<N>.pdf`` once: N text pages, each
   1275x1650 px at 150 DPI (US Letter), rendered with Pillow and DejaVuSans
   (``--lines`` lines of text, default 18, page number on top). Pages are
   rendered and written one at a time (a one-page PDF each, appended with
   pypdf), so the generator never holds more than one page image.
2. Starts a real ``celery worker --concurrency=N --pool=prefork`` subprocess
   (``--concurrency``, default 1)
   against a scratch SQLite database, media folder and embedded broker under
   ``bench/.cache/memory/`` (queue of its own), after a one-page warm-up job.
3. Submits the PDF with ``services.job_create`` (as the API does) and, every
   0.2 s, samples the worker's pool child VmRSS and VmHWM (``/proc/<pid>/status``)
   and ``Job.pages_done``. With ``--concurrency N`` > 1 (one warm-up job per child),
   every pool child is sampled and each figure is that of the largest child at that
   moment: with page fan-out several children share one job's pages.

Printed: RSS in MB (MiB) of the child before the job, at the first sample with
10, 50, 100 and 200 pages done, the maximum sampled RSS while pages 1-50, 51-100,
101-150 and 151-200 ran (the instantaneous figure swings within a page), the peak
(VmHWM), and the growth per 100 pages between 50 and 200 done. Goal: peak under
600 MB and no growth with page count. With ``--concurrency N`` > 1 also the peak RSS
(VmHWM) of each pool child and of the largest one.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402

SCRATCH = _data.CACHE / "memory"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "while",
    "seven",
    "wizards",
    "quietly",
    "pack",
    "boxes",
    "of",
    "liquor",
    "jugs",
    "and",
    "a",
    "brave",
    "sphinx",
    "judges",
    "every",
    "vow",
    "of",
    "black",
    "quartz",
    "memory",
    "pages",
    "worker",
    "process",
    "steady",
    "resident",
    "size",
    "should",
    "not",
    "grow",
    "with",
    "count",
]


def make_pdf(pages: int, lines: int) -> Path:
    """A ``pages``-page PDF of rendered text, built one page at a time (cached)."""
    import io

    from PIL import Image, ImageDraw, ImageFont
    from pypdf import PdfReader, PdfWriter

    path = SCRATCH / f"pages-{pages}-{lines}.pdf"
    if path.exists():
        return path
    font = ImageFont.truetype(FONT, 22)  # about 10.5 pt at 150 DPI
    writer = PdfWriter()
    for number in range(1, pages + 1):
        image = Image.new("L", (1275, 1650), 255)
        draw = ImageDraw.Draw(image)
        draw.text((120, 110), f"Page {number} of {pages}", font=font, fill=0)
        for row in range(lines):
            start = (number * 7 + row * 5) % len(WORDS)
            text = " ".join((WORDS * 2)[start : start + 11])
            draw.text((120, 180 + row * 40), text.capitalize() + ".", font=font, fill=0)
        buf = io.BytesIO()
        image.save(buf, "PDF", resolution=150)
        image.close()
        writer.add_page(PdfReader(buf).pages[0])
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        writer.write(fh)
    tmp.rename(path)
    return path


def status_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])
    return out


def child_pids(parent: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout
    return sorted(int(p) for p in out.split())


def largest(pids: list[int]) -> dict[str, int]:
    """VmRSS and VmHWM, each the largest over the live processes of ``pids``."""
    out = {"VmRSS": 0, "VmHWM": 0}
    for pid in pids:
        try:
            kb = status_kb(pid)
        except (FileNotFoundError, ProcessLookupError):  # a child replaced meanwhile
            continue
        for key in out:
            out[key] = max(out[key], kb[key])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--lines", type=int, default=18)
    parser.add_argument("--concurrency", type=int, default=1, help="worker pool processes")
    args = parser.parse_args()

    SCRATCH.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    pdf = make_pdf(args.pages, args.lines)
    print(
        f"PDF: {pdf.name}, {pdf.stat().st_size / 1e6:.1f} MB, {args.pages} pages "
        f"(generated or cached in {time.perf_counter() - started:.1f} s)",
        flush=True,
    )

    run = SCRATCH / "run"
    shutil.rmtree(run, ignore_errors=True)
    (run / "media").mkdir(parents=True)
    queue = f"bench-mem-{uuid.uuid4().hex[:8]}"
    env = {
        "OCR_VAR_DIR": str(run / "var"),
        "OCR_MEDIA_ROOT": str(run / "media"),
        "DATABASE_URL": f"sqlite:///{run / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "OCR_QUEUE": queue,
        "OCR_PROVIDER_QUEUE": queue,
        "OCR_MAX_UPLOAD_BYTES": str(500 * 1024 * 1024),
        "OCR_TASK_SOFT_TIME_LIMIT": "7200",
        "OMP_THREAD_LIMIT": "1",
    }
    _data.django_setup(**env)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from app import services
    from app.models import Job

    call_command("migrate", "--noinput", verbosity=0)
    user = get_user_model().objects.create_user("bench-memory", password="x-bench-memory-1")

    log = run / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "onlineocr",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={args.concurrency}",
            "--pool=prefork",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=_data.ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(_data.ROOT)},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {log}")
            time.sleep(0.2)

        def submit(data: bytes, name: str) -> Job:
            if "engine" in {f.name for f in dataclasses.fields(services.JobRequest)}:
                request = services.JobRequest(
                    data=data, filename=name, engine="tesseract", languages=("eng",)
                )
            else:  # typed options (app.pipeline.options.JobOptions)
                from app.pipeline.options import JobOptions

                options = JobOptions.from_request({}, engine="tesseract", languages="eng")
                request = services.JobRequest(data=data, filename=name, options=options)
            return services.job_create(owner=user, request=request)

        def wait(job: Job, samples: list | None = None, pids: list[int] | None = None) -> Job:
            while True:
                job.refresh_from_db()
                if samples is not None and pids:
                    kb = largest(pids)
                    samples.append((job.pages_done, kb["VmRSS"], kb["VmHWM"], time.monotonic()))
                if job.status in ("done", "failed", "canceled"):
                    return job
                time.sleep(0.2)

        # Warm-up, one page per child: each loads the engine and Django's models.
        crom = _data.resource("crom.png").read_bytes()
        for warm in [submit(crom, "crom.png") for _ in range(args.concurrency)]:
            warm = wait(warm)
            assert warm.status == "done", warm.error_message
        pids = child_pids(worker.pid)
        assert len(pids) == args.concurrency, f"pool children: {pids}"
        if args.concurrency == 1:
            before = status_kb(pids[0])
            print(f"worker child pid {pids[0]}: RSS after warm-up {before['VmRSS'] / 1024:.0f} MB")
        else:
            print(
                f"worker children pids {pids}: RSS after warm-up "
                + ", ".join(f"{status_kb(p)['VmRSS'] / 1024:.0f}" for p in pids)
                + " MB"
            )

        samples: list[tuple[int, int, int, float]] = []
        t0 = time.monotonic()
        job = wait(submit(pdf.read_bytes(), pdf.name), samples, pids)
        elapsed = time.monotonic() - t0
        if job.status != "done":
            raise RuntimeError(f"job {job.status}: {job.error_code} {job.error_message}")
        if child_pids(worker.pid) != pids:
            print("warning: a pool child was replaced during the job")
        print(
            f"job done: {job.pages_done} pages in {elapsed:.0f} s ({elapsed / args.pages:.2f} s/page)"
        )

        def at(pages: int) -> tuple[int, int] | None:
            for done, rss, hwm, _ in samples:
                if done >= pages:
                    return rss, hwm
            return None

        marks = sorted({m for m in (10, 50, 100, 200, args.pages) if m <= args.pages})
        print(f"{'pages done':>10} {'RSS MB':>8} {'peak so far MB':>15}")
        rows = {}
        for mark in marks:
            got = at(mark)
            if got:
                rows[mark] = got
                print(f"{mark:>10} {got[0] / 1024:>8.0f} {got[1] / 1024:>15.0f}")
        # Instantaneous RSS swings by 100+ MB within one page (image, upscaled copy,
        # Tesseract's buffers), so the trend is judged on per-window maxima.
        windows = [(1, 50), (51, 100), (101, 150), (151, args.pages)]
        for lo_w, hi_w in windows:
            in_w = [r for d, r, _, _ in samples if lo_w <= d + 1 <= hi_w]
            if in_w and lo_w <= args.pages:
                print(f"max RSS while pages {lo_w}-{hi_w} ran: {max(in_w) / 1024:.0f} MB")
        peak = max(h for _, _, h, _ in samples) / 1024
        if args.concurrency > 1:
            each = {p: largest([p])["VmHWM"] / 1024 for p in pids}
            print(
                "peak RSS (VmHWM) per pool child: "
                + ", ".join(f"pid {p} {mb:.0f} MB" for p, mb in each.items())
            )
            print(f"peak RSS (VmHWM) of the largest pool child {peak:.0f} MB (goal < 600 MB)")
        else:
            print(f"peak RSS (VmHWM) {peak:.0f} MB (goal < 600 MB)")
        lo, hi = min(50, args.pages), args.pages
        if lo in rows and hi in rows and hi > lo:
            growth = (rows[hi][0] - rows[lo][0]) / 1024 / (hi - lo) * 100
            print(f"RSS growth from {lo} to {hi} pages done: {growth:+.1f} MB per 100 pages")
        max_rss = max(r for _, r, _, _ in samples) / 1024
        print(f"max sampled RSS {max_rss:.0f} MB over {len(samples)} samples")
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()


if __name__ == "__main__":
    main()
