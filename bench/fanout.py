"""Page fan-out benchmark: one multi-page job on all worker processes, against baselines.

Run from the repository root (PostgreSQL and Redis on 127.0.0.1 for ``--broker redis``)::

    .venv/bin/python bench/fanout.py                   # full: 8 and 40 pages, 2 rounds
    .venv/bin/python bench/fanout.py --quick           # smoke run: 4 and 8 pages, 1 round
    .venv/bin/python bench/fanout.py --skip-40         # only part 1 (8-page job)
    .venv/bin/python bench/fanout.py --broker redis    # Redis + PostgreSQL instead

Options: ``--rounds N`` (default 2; every measurement is repeated N times, the set-ups
taking turns, and the median is printed), ``--pages8 N`` / ``--pages40 N`` (sizes of the
two documents, default 8 and 40), ``--delay S`` (part 4, default 3), ``--page-timeout S``
(a job may take its page count x S + 120 s, default 60), ``--option KEY=VALUE`` (a job
option sent with every job, repeatable, e.g. ``--option rotate=off --option deskew=false``
to do what the CLI does; by default jobs have the API's default options).

The document: 8 real scans from OCRmyPDF's test resources (``bench/_data.py``), one page
each: ``linn.png``, ``epson.pdf``, ``masks.pdf``, ``multipage.pdf`` page 5, ``skew.pdf``,
``c03-29.pdf``, ``typewriter.png``, ``kcs.pdf`` (PDF pages rendered at 300 DPI by the
service's renderer), each embedded losslessly at 300 DPI as one page of
``bench/.cache/fanout/fanout-scans-<N>.pdf`` (built once; N pages cycle through the 8).
The CLI baseline reads the PNGs the service's renderer makes of that PDF at 300 DPI
(``bench/.cache/pages/fanout-scans-<N>-300/``, rendered once, not timed).

Workers: real ``celery -A onlineocr worker --pool=prefork --concurrency=N -Q <queue>``
subprocesses (as ``make worker``/``make run``; plus ``-n <name>@%h --without-gossip
--without-mingle`` as the other benchmarks), ``OMP_THREAD_LIMIT=1``, against a scratch
SQLite database, media folder and embedded filesystem broker under
``bench/.cache/fanout/run/`` (or Redis db 12 + PostgreSQL ``onlineocr_bench_fanout``),
a queue of their own per set-up. Each set-up is warmed up with one 1-page job per worker
process before anything is timed. Jobs are submitted with ``services.job_create`` (as the
API does); progress is read from the database only: ``Job.status``/``finished_at`` and
the ``Page`` rows' ``created_at``/``duration``. Times are from the client clock just
before ``job_create`` to ``Job.finished_at`` (same host clock).

Printed (figures as ratios against baselines measured in the same run):

1. 8-page job on one worker with ``--concurrency=$(nproc)``: wall time (submit -> done)
   vs ``tesseract page.png -`` (default settings, ``OMP_THREAD_LIMIT=1``) on the same 8
   page images, nproc processes at a time: ratio (goal <= 1.0x). Time to the first page
   result (first ``Page`` row stored) vs a 1-page job (page 1) alone on the same idle
   worker: ratio (goal <= 1.5x).
2. 40-page job (the 8 pages x 5) on one worker, ``--concurrency 1`` vs ``2``: ratio of
   the wall times (goal <= 0.55x).
3. "Two worker hosts": two ``celery worker`` commands (``-n host1@%h``, ``-n host2@%h``),
   ``--concurrency 1`` each, same broker and database: the 40-page job's wall time vs one
   command with ``--concurrency 1`` (a table with parts 2 and 3).
4. Fairness: on the 2-process worker, a 1-page job submitted ``--delay`` s after the
   40-page job: its latency (submit -> done) vs the same 1-page job alone on the idle
   worker (ratio). The 40-page job is then abandoned (workers stopped).

The load average is printed before, between the parts and after: this host has 2 cores
that other work shares, which skews every figure (the ratios less than the seconds).
Worker logs: ``bench/.cache/fanout/run/logs/``. Workers are always stopped on exit
(SIGTERM, then SIGKILL of their process groups).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402

SCRATCH = _data.CACHE / "fanout"
RUN = SCRATCH / "run"
DPI = 300
#: (resource, page of a PDF or None for an image): 8 distinct real scans.
SOURCES: list[tuple[str, int | None]] = [
    ("linn.png", None),
    ("epson.pdf", 1),
    ("masks.pdf", 1),
    ("multipage.pdf", 5),
    ("skew.pdf", 1),
    ("c03-29.pdf", 1),
    ("typewriter.png", None),
    ("kcs.pdf", 1),
]
NPROC = len(os.sched_getaffinity(0))
REDIS_URL = "redis://127.0.0.1:6379/12"
PG_DB = "onlineocr_bench_fanout"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
FINISHED = ("done", "failed", "canceled")


# -- documents ---------------------------------------------------------------------------


def scans() -> list[Path]:
    """The 8 scans as 300 DPI PNG files (cached in ``bench/.cache/fanout/scans/``)."""
    out_dir = SCRATCH / "scans"
    paths = [out_dir / f"{k + 1:02d}-{Path(name).stem}.png" for k, (name, _) in enumerate(SOURCES)]
    if (out_dir / ".complete").exists():
        return paths
    _data.django_setup()
    from PIL import Image

    from app.pipeline import frames, pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    for path, (name, page) in zip(paths, SOURCES, strict=True):
        if page is None:
            with Image.open(_data.resource(name)) as im:
                image = frames.grey_if_grey(im.convert("RGB"))
        else:
            [(_, image, used)] = pdf.render_pages(
                _data.resource(name), [page], DPI, max_pixels=80_000_000
            )
            assert used == DPI, (name, used)
        image.save(path, dpi=(DPI, DPI))
        image.close()
    (out_dir / ".complete").write_text("ok")
    return paths


def document(pages: int) -> Path:
    """A ``pages``-page PDF cycling through :func:`scans`, each embedded at 300 DPI (cached).

    reportlab stores the pixels losslessly (Flate) and each scan once: the pages that
    repeat a scan share its image.
    """
    path = SCRATCH / f"fanout-scans-{pages}.pdf"
    if path.exists():
        return path
    from PIL import Image
    from reportlab.pdfgen import canvas

    images = scans()
    tmp = path.with_suffix(".tmp")
    pdf = canvas.Canvas(str(tmp), pageCompression=1)
    for k in range(pages):
        png = images[k % len(images)]
        with Image.open(png) as im:
            size = (im.width * 72 / DPI, im.height * 72 / DPI)
        pdf.setPageSize(size)
        pdf.drawImage(str(png), 0, 0, width=size[0], height=size[1])
        pdf.showPage()
    pdf.save()
    tmp.rename(path)
    return path


# -- CLI baseline --------------------------------------------------------------------------


def run_cli(images: list[Path], parallel: int) -> float:
    """Wall seconds of ``tesseract IMG -`` over ``images``, ``parallel`` at a time."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(path: Path) -> None:
        subprocess.run(["tesseract", str(path), "-"], capture_output=True, check=True, env=env)

    started = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, images))
    return time.perf_counter() - started


# -- service -------------------------------------------------------------------------------


class JobTimeout(RuntimeError):
    pass


class Workers:
    """``len(concurrency)`` ``celery worker`` commands on one fresh queue, each in its own
    process group (session), so that stopping them can kill every pool child too."""

    def __init__(self, bench: Bench, label: str, concurrency: list[int]) -> None:
        self.bench = bench
        self.label = label
        self.concurrency = concurrency
        self.queue = f"bench-fanout-{uuid.uuid4().hex[:8]}"
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    @property
    def processes(self) -> int:
        return sum(self.concurrency)

    def start(self) -> Workers:
        env = {**self.bench.env, "OCR_QUEUE": self.queue, "OCR_PROVIDER_QUEUE": self.queue}
        names = (
            [f"{self.queue}@%h"]
            if len(self.concurrency) == 1
            else [f"host{k + 1}-{self.queue}@%h" for k in range(len(self.concurrency))]
        )
        for k, (n, name) in enumerate(zip(self.concurrency, names, strict=True)):
            log = RUN / "logs" / f"{self.label}-{k + 1}-{self.queue}.log"
            self.logs.append(log)
            self.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "onlineocr",
                        "worker",
                        "--loglevel=INFO",
                        f"--concurrency={n}",
                        "--pool=prefork",
                        "-Q",
                        self.queue,
                        "-n",
                        name,
                        "--without-gossip",
                        "--without-mingle",
                    ],
                    cwd=_data.ROOT,
                    env=env,
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 90
        for proc, log in zip(self.procs, self.logs, strict=True):
            while "ready." not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start: {log}")
                time.sleep(0.2)
        # The bench process enqueues with its own settings: point them at this queue.
        from django.conf import settings

        settings.OCR_QUEUE = settings.OCR_PROVIDER_QUEUE = self.queue
        # Warm-up, not timed: one 1-page job per process, all at once, so that every
        # pool child has loaded the engine and Django's models.
        jobs = [self.bench.submit(self.bench.one_page) for _ in range(self.processes)]
        for job, t0 in jobs:
            self.bench.wait(job, t0, timeout=180)
        return self

    def stop(self, cold: bool = False) -> None:
        """Warm shutdown (SIGTERM; SIGQUIT with ``cold``: running tasks are abandoned),
        then SIGKILL to each process group after a grace period."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGQUIT if cold else signal.SIGTERM)
        deadline = time.monotonic() + (5 if cold else 30)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        self.kill()
        self.bench.purge(self.queue)

    def kill(self) -> None:
        for proc in self.procs:
            # The session leader's pid is the group id: this kills its pool children too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                print(f"warning: worker {proc.pid} did not die", file=sys.stderr)


class Bench:
    """The scratch database/media/broker, the bench user and job submission/observation."""

    def __init__(self, broker: str, options: dict[str, object], page_timeout: float) -> None:
        shutil.rmtree(RUN, ignore_errors=True)
        (RUN / "media").mkdir(parents=True)
        (RUN / "logs").mkdir()
        env = {
            "OCR_VAR_DIR": str(RUN / "var"),
            "OCR_MEDIA_ROOT": str(RUN / "media"),
            "OCR_MAX_UPLOAD_BYTES": str(500 * 1024 * 1024),
            "OMP_THREAD_LIMIT": "1",
            "PYTHONPATH": str(_data.ROOT),
            "DJANGO_SETTINGS_MODULE": "onlineocr.settings",
        }
        if broker == "redis":
            import psycopg

            with psycopg.connect(
                "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
            ) as conn:
                if not conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,)
                ).fetchone():
                    conn.execute(f"CREATE DATABASE {PG_DB}")
            env.update(DATABASE_URL=PG_URL, CELERY_BROKER_URL=REDIS_URL)
        else:
            env.update(
                DATABASE_URL=f"sqlite:///{RUN / 'db.sqlite3'}", CELERY_BROKER_URL="filesystem://"
            )
        self.env = {**os.environ, **env}
        self.options = options
        self.page_timeout = page_timeout
        _data.django_setup(**env)
        # The filesystem transport has no host: kombu warns about "localhost" once.
        logging.getLogger("kombu.connection").setLevel(logging.ERROR)
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)
        users = get_user_model().objects
        self.user = users.filter(username="bench-fanout").first() or users.create_user(
            "bench-fanout", password="x-bench-fanout-1"
        )
        self.one_page = document(1).read_bytes()

    def submit(self, data: bytes, name: str = "scans.pdf"):
        """``(job, t0)``: the job as ``services.job_create`` makes it; t0 just before."""
        from app import services

        fields = {f.name for f in dataclasses.fields(services.JobRequest)}
        if "engine" in fields:  # the request as it was before typed JobOptions
            request = services.JobRequest(
                data=data,
                filename=name,
                engine="tesseract",
                languages=("eng",),
                options=dict(self.options),
            )
        else:
            from app.pipeline.options import JobOptions

            options = JobOptions.from_request(self.options, engine="tesseract", languages="eng")
            request = services.JobRequest(data=data, filename=name, options=options)
        t0 = time.time()
        return services.job_create(owner=self.user, request=request), t0

    def wait(self, job, t0: float, timeout: float | None = None) -> dict[str, float]:
        """Poll the job every 0.1 s until it ends; its figures (seconds after ``t0``).

        ``wall``: ``finished_at`` - t0; ``first``: the first ``Page`` row's
        ``created_at`` - t0; ``work``: the pages' summed ``duration``.
        """
        from app.models import Page

        pages = max(job.page_count, 1)
        limit = timeout or pages * self.page_timeout + 120
        while True:
            job.refresh_from_db()
            if job.status in FINISHED:
                break
            if time.time() - t0 > limit:
                raise JobTimeout(
                    f"job {job.id} still {job.status} ({job.pages_done}/{job.page_count} "
                    f"pages) after {limit:.0f} s"
                )
            time.sleep(0.1)
        seen = time.time()
        if job.status != "done":
            raise RuntimeError(f"job {job.id} {job.status}: {job.error_code} {job.error_message}")
        rows = list(Page.objects.filter(job_id=job.id).values_list("created_at", "duration"))
        end = job.finished_at.timestamp() if job.finished_at else seen
        return {
            "wall": end - t0,
            "first": min(c.timestamp() for c, _ in rows) - t0 if rows else float("nan"),
            "work": sum(d or 0.0 for _, d in rows),
            "pages": len(rows),
        }

    def run(self, data: bytes, name: str) -> dict[str, float]:
        job, t0 = self.submit(data, name)
        return self.wait(job, t0)

    def purge(self, queue: str) -> None:
        """Drop the messages left on ``queue`` (an abandoned job's tasks)."""
        try:
            from onlineocr.celery import app

            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge(queue)
        except Exception as exc:  # noqa: BLE001 (best effort: the queue is never used again)
            print(f"note: purging {queue} failed: {exc!r}", file=sys.stderr)


# -- report helpers ------------------------------------------------------------------------


def load() -> str:
    return "load avg " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values)


# -- parts ---------------------------------------------------------------------------------


def part1(bench: Bench, pdf: Path, rounds: int) -> None:
    pngs = _data.rasterize_pdf(pdf, DPI)
    data = pdf.read_bytes()
    print(
        f"\n[1] {len(pngs)}-page job on 1 worker --concurrency={NPROC} vs the tesseract CLI, "
        f"{NPROC} at a time ({load()})",
        flush=True,
    )
    run_cli(pngs[:1], 1)  # warm-up (binary, page cache), not timed
    workers = Workers(bench, f"c{NPROC}", [NPROC])
    cli, cli1, svc, first, alone, work = [], [], [], [], [], []
    try:
        workers.start()
        for k in range(rounds):
            cli1.append(run_cli(pngs, 1))
            cli.append(run_cli(pngs, NPROC))
            r = bench.run(data, pdf.name)
            svc.append(r["wall"])
            first.append(r["first"])
            work.append(r["work"])
            one = bench.run(bench.one_page, "page1.pdf")
            alone.append(one["wall"])
            print(
                f"  round {k + 1}: CLI 1 at a time {cli1[-1]:.1f} s, CLI {cli[-1]:.1f} s | service {r['wall']:.1f} s, first page "
                f"{r['first']:.1f} s, page work {r['work']:.1f} s | 1-page job alone "
                f"{one['wall']:.1f} s ({load()})",
                flush=True,
            )
    finally:
        workers.stop()
    s, c, f, a = med(svc), med(cli), med(first), med(alone)
    print(f"  median of {rounds} round(s):")
    print(f"    service wall, submit -> done           {s:7.1f} s")
    print(f"    CLI wall, {NPROC} processes at a time        {c:7.1f} s")
    print(f"    ratio service / CLI                    {s / c:7.2f}x  (goal <= 1.0x)")
    c1 = med(cli1)
    print(f"    CLI wall, 1 process at a time          {c1:7.1f} s")
    print(f"    this machine's scaling: CLI {NPROC} / CLI 1  {c / c1:7.2f}x")
    print(f"    first page, submit -> first Page row   {f:7.1f} s")
    print(f"    one page alone (1-page job of page 1)  {a:7.1f} s")
    print(f"    ratio first page / one page alone      {f / a:7.2f}x  (goal <= 1.5x)")
    print(
        f"    page work (summed Page.duration) {med(work):.1f} s; page work / wall = "
        f"{med(work) / s:.2f} processes busy on average",
        flush=True,
    )


def part234(bench: Bench, pdf: Path, rounds: int, delay: float) -> None:
    data = pdf.read_bytes()
    pages = len(_pdf_pages(pdf))
    print(
        f"\n[2-4] {pages}-page job ({pdf.name}, {pdf.stat().st_size / 1e6:.1f} MB): worker "
        f"--concurrency 1 vs 2 vs two worker commands; fairness ({load()})",
        flush=True,
    )
    setups = [
        ("1 command, --concurrency 1", "c1", [1]),
        ("1 command, --concurrency 2", "c2", [2]),
        ("2 commands (-n host1/host2), -c 1 each", "hosts2", [1, 1]),
    ]
    walls: dict[str, list[float]] = {key: [] for _, key, _ in setups}
    works: dict[str, list[float]] = {key: [] for _, key, _ in setups}
    small_alone: list[float] = []
    small_busy: list[float] = []
    for k in range(rounds):
        for _, key, conc in setups:
            workers = Workers(bench, key, conc)
            cold = False
            try:
                workers.start()
                r = bench.run(data, pdf.name)
                walls[key].append(r["wall"])
                works[key].append(r["work"])
                line = f"  round {k + 1}, {key}: {r['wall']:.1f} s (page work {r['work']:.1f} s)"
                if key == "c2":
                    alone = bench.run(bench.one_page, "page1.pdf")["wall"]
                    big, _ = bench.submit(data, pdf.name)
                    time.sleep(delay)
                    small, t0 = bench.submit(bench.one_page, "page1.pdf")
                    busy = bench.wait(small, t0)["wall"]
                    big.refresh_from_db()
                    cold = big.status not in FINISHED  # abandon the rest of the big job
                    small_alone.append(alone)
                    small_busy.append(busy)
                    line += (
                        f"; 1-page job alone {alone:.1f} s, {delay:g} s after a {pages}-page "
                        f"job {busy:.1f} s (big job then at {big.pages_done}/{pages} pages)"
                    )
                print(f"{line} ({load()})", flush=True)
            finally:
                workers.stop(cold=cold)
    base = med(walls["c1"])
    print(f"  median of {rounds} round(s), the {pages}-page job, submit -> done:")
    print(f"    {'set-up':<40} {'processes':>9} {'wall s':>8} {'ratio':>7}")
    for label, key, conc in setups:
        w = med(walls[key])
        goal = "  (goal <= 0.55x)" if sum(conc) == 2 else ""
        print(f"    {label:<40} {sum(conc):>9} {w:>8.1f} {w / base:>6.2f}x{goal}")
    print(
        "    page work (summed Page.duration) per set-up: "
        + ", ".join(f"{key} {med(v):.1f} s" for key, v in works.items())
    )
    a, b = med(small_alone), med(small_busy)
    print(
        f"  fairness (2 processes): 1-page job alone {a:.1f} s; submitted {delay:g} s after the "
        f"{pages}-page job {b:.1f} s; ratio {b / a:.2f}x (rounds: {spread(small_busy)} s)",
        flush=True,
    )


def _pdf_pages(pdf: Path) -> list[int]:
    from pypdf import PdfReader

    return list(range(len(PdfReader(pdf).pages)))


def _typed(value: str) -> object:
    """A job option's value as the API's serializer gives it: bool, int or str."""
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return int(value) if value.isdigit() else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--pages8", type=int)
    parser.add_argument("--pages40", type=int)
    parser.add_argument("--skip-40", action="store_true", help="only part 1")
    parser.add_argument("--quick", action="store_true", help="4 and 8 pages, 1 round")
    parser.add_argument("--broker", choices=["filesystem", "redis"], default="filesystem")
    parser.add_argument("--delay", type=float, default=3.0)
    parser.add_argument("--page-timeout", type=float, default=60.0)
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 2)
    pages8 = args.pages8 or (4 if args.quick else len(SOURCES))
    pages40 = args.pages40 or (8 if args.quick else 5 * len(SOURCES))
    options = {key: _typed(value) for key, value in (o.split("=", 1) for o in args.option)}

    # SIGTERM ends the run through the finally blocks (workers stopped).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(
        f"fanout benchmark {datetime.now():%Y-%m-%d %H:%M:%S}, {NPROC} CPUs, {load()}, "
        f"broker {args.broker}, job options {options or 'API defaults'}",
        flush=True,
    )
    started = time.monotonic()
    # Django first (scratch database), then the documents (rendering imports app/).
    bench = Bench(args.broker, options, args.page_timeout)
    pdf8 = document(pages8)
    pdf40 = document(pages40)
    print(
        f"documents: {pdf8.name} ({pdf8.stat().st_size / 1e6:.1f} MB), {pdf40.name} "
        f"({pdf40.stat().st_size / 1e6:.1f} MB); scans: "
        + ", ".join(name if page is None else f"{name} p{page}" for name, page in SOURCES),
        flush=True,
    )
    part1(bench, pdf8, rounds)
    if not args.skip_40:
        part234(bench, pdf40, rounds, args.delay)
    print(f"\ndone in {(time.monotonic() - started) / 60:.1f} min, {load()}")


if __name__ == "__main__":
    main()
