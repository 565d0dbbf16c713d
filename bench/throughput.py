"""Throughput benchmark (issue 2): the HTTP API + Celery workers vs. the Tesseract CLI.

Run from the repository root (PostgreSQL and Redis on 127.0.0.1 for ``redis``)::

    .venv/bin/python bench/throughput.py --broker filesystem   # embedded broker + SQLite
    .venv/bin/python bench/throughput.py --broker redis        # Redis + PostgreSQL
    .venv/bin/python bench/throughput.py --broker both         # one after the other

Options: ``--repeat N`` (each image is submitted N times in a burst, default 2),
``--rounds N`` (CLI passes and service bursts taking turns, default 3),
``--sequential N`` (small-image jobs in the latency phase, default 30),
``--latency-only`` (no CLI, no burst), ``--form KEY=VALUE`` (a job option sent with
every submission, repeatable: ``--form rotate=off --form deskew=false`` compares like
with like, as the CLI does neither), ``--settings MODULE`` (another Django settings
module for the server and worker, e.g. ``bench._tuned_settings``), ``--json FILE``.

What runs, all in this one run, on the same images and with the same parallelism:

1. For reference, once: ``tesseract IMG stdout`` over the image set with the
   environment as is (Debian's build starts OpenMP threads), two at a time.
2. Service, per broker set-up: scratch database and media folder, ``manage.py
   migrate``, ``manage.py runserver --noreload`` (threaded dev server), and one
   ``celery worker --concurrency=2 --pool=prefork`` (one process per core) on a
   queue of its own. Warm-up: four small jobs through the API, not timed (each
   worker child loads the Tesseract model once). Then ``--rounds`` rounds of:

   * CLI baseline: ``tesseract IMG stdout`` with default options and
     ``OMP_THREAD_LIMIT=1`` (one thread per process, as the workers run), two
     processes at a time (2 cores), over the image set ``--repeat`` times (two
     warm-up calls first, not timed);
   * burst: every image of the same list is POSTed to ``/api/ocr/`` (multipart,
     JWT) as fast as the client can, then the client polls the count of
     finished jobs (``/api/history/?status=done&page_size=1``, and ``failed``)
     every 0.5 s. Time = last job's ``finished_at`` - the client clock just
     before the first POST.

   The two sides take turns so that the host's changing speed (this VM shares
   its cores: the same page's CPU time varies by 20 % from minute to minute)
   hits both alike. Throughput = pages / summed time, per side; the ratio
   service/CLI is printed per round and over all rounds, with the CPU seconds
   each side used (CLI: sum of per-image times; service: worker process tree,
   web server).
3. Latency: small images (at most 1 MP) submitted one at a time with
   ``?wait=30``, so no job waits for a busy worker. Per-job overhead =
   (``finished_at`` - ``created_at``) - sum of its pages' ``duration`` (the
   page work: decoding, preprocessing, engine), in milliseconds; p50/p95
   printed. For the bursts, the worker-side overhead (``finished_at`` -
   ``started_at`` - page work) is printed too.

Printed: pages/s of both and the ratio service/CLI (goal >= 1.3), overhead p50
(goal < 20 ms with Redis + PostgreSQL) split into queueing (created -> started)
and worker-side time, and the load average before and after. The image set is
OCRmyPDF's ``tests/resources/*.png`` plus some of its PDFs' pages rasterised to
PNG at 300 DPI (``bench/_data.py``), all read as English.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402

PYTHON = sys.executable
PNGS = [
    "linn.png",
    "typewriter.png",
    "crom.png",
    "baiona.png",
    "baiona_alpha.png",
    "baiona_colormapped.png",
    "baiona_gray.png",
]
PDFS = ["c03-29.pdf", "francais.pdf", "kcs.pdf", "aspect.pdf", "3small.pdf", "vector.pdf"]
SMALL_PIXELS = 1_000_000
PG_URL = "postgres://postgres@127.0.0.1:5432/onlineocr_bench"
REDIS_URL = "redis://127.0.0.1:6379/13"


def image_set() -> list[Path]:
    images = [_data.resource(name) for name in PNGS]
    for name in PDFS:
        images.extend(_data.rasterize_pdf(_data.resource(name), 300))
    return images


def pixels(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as im:
        return im.width * im.height


# -- CLI baseline ---------------------------------------------------------------------


def run_cli(images: list[Path], parallel: int = 2, omp1: bool = True) -> tuple[float, list[float]]:
    """(wall seconds, per-image seconds) of ``tesseract IMG stdout``, ``parallel`` at a time.

    ``omp1``: with ``OMP_THREAD_LIMIT=1`` (one thread per process, as the workers
    run); otherwise the environment as it is (Debian's build uses OpenMP threads).
    """
    env = dict(os.environ)
    if omp1:
        env["OMP_THREAD_LIMIT"] = "1"
    else:
        env.pop("OMP_THREAD_LIMIT", None)

    def one(path: Path) -> float:
        started = time.perf_counter()
        subprocess.run(["tesseract", str(path), "stdout"], capture_output=True, check=True, env=env)
        return time.perf_counter() - started

    with ThreadPoolExecutor(parallel) as pool:  # warm-up (page cache, binary), not timed
        list(pool.map(one, images[:2]))
    started = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        each = list(pool.map(one, images))
    return time.perf_counter() - started, each


# -- service ---------------------------------------------------------------------------


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and its live descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after "pid (comm)": state ppid ... utime (14th field) stime (15th)
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += stats.get(current, (0, 0.0))[1]
        todo.extend(child for child, (parent, _) in stats.items() if parent == current)
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_postgres_db() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname='onlineocr_bench'").fetchone():
            c.execute("CREATE DATABASE onlineocr_bench")


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Service:
    """Scratch DB/media, a dev server and a 2-process worker for one broker set-up."""

    def __init__(self, broker: str, settings_module: str = "onlineocr.settings") -> None:
        self.broker = broker
        self.scratch = _data.CACHE / f"throughput-{broker}"
        shutil.rmtree(self.scratch, ignore_errors=True)
        (self.scratch / "media").mkdir(parents=True)
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        env = dict(os.environ)
        for key in ("DATABASE_URL", "CELERY_BROKER_URL"):
            env.pop(key, None)
        env.update(
            OCR_VAR_DIR=str(self.scratch / "var"),
            OCR_MEDIA_ROOT=str(self.scratch / "media"),
            OCR_QUEUE=queue,
            OCR_PROVIDER_QUEUE=queue,
            OCR_ACCESS_TOKEN_SECONDS="7200",
            OMP_THREAD_LIMIT="1",
            PYTHONPATH=str(_data.ROOT),
            DJANGO_SETTINGS_MODULE=settings_module,
        )
        if broker == "redis":
            ensure_postgres_db()
            env.update(DATABASE_URL=PG_URL, CELERY_BROKER_URL=REDIS_URL)
        else:
            env["DATABASE_URL"] = f"sqlite:///{self.scratch / 'db.sqlite3'}"
        self.env = env
        self.queue = queue
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        self.token = ""
        self.finished_before = 0

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by the web server and the worker tree."""
        return {
            "web": process_tree_cpu(self.procs[0].pid),
            "worker": process_tree_cpu(self.worker.pid),
        }

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=_data.ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    def start(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model as g;"
            "U=g(); u=U.objects.filter(username='bench').first() or "
            "U.objects.create_user('bench', password='bench-pass-123');"
            "u.set_password('bench-pass-123'); u.save()",
        )
        web_log = (self.scratch / "web.log").open("w")
        self.procs.append(
            subprocess.Popen(
                [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
                cwd=_data.ROOT,
                env=self.env,
                stdout=web_log,
                stderr=subprocess.STDOUT,
            )
        )
        self.worker_log = self.scratch / "worker.log"
        self.worker = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "onlineocr",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--pool=prefork",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=_data.ROOT,
            env=self.env,
            stdout=self.worker_log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.procs.append(self.worker)
        import requests

        deadline = time.monotonic() + 60
        ready = False
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"server or worker exited; see {self.scratch}")
            if "ready." in self.worker_log.read_text(errors="replace"):
                try:
                    requests.get(f"{self.base}/api/health/live/", timeout=2)
                    ready = True
                    break
                except requests.ConnectionError:
                    pass
            time.sleep(0.2)
        if not ready:
            raise RuntimeError(f"service did not start; see {self.scratch}")
        resp = requests.post(
            f"{self.base}/api/token_obtain_pair/",
            json={"username": "bench", "password": "bench-pass-123"},
            timeout=10,
        )
        resp.raise_for_status()
        self.token = resp.json()["access"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        # PostgreSQL's bench database outlives a run: count what is there already.
        self.finished_before = self.finished_count()

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)

    def submit(self, path: Path, wait: int = 0) -> dict:
        url = f"{self.base}/api/ocr/" + (f"?wait={wait}" if wait else "")
        with path.open("rb") as fh:
            resp = self.session.post(
                url, files={"image": (path.name, fh, "image/png")}, data=FORM, timeout=60
            )
        if resp.status_code not in (200, 202):
            raise RuntimeError(f"{path.name}: HTTP {resp.status_code}: {resp.text[:300]}")
        return resp.json()

    def job(self, job_id: str) -> dict:
        resp = self.session.get(f"{self.base}/api/ocr/{job_id}/", timeout=30)
        resp.raise_for_status()
        return resp.json()

    def engine_seconds(self, job_id: str) -> float:
        resp = self.session.get(f"{self.base}/api/ocr/{job_id}/pages/", timeout=30)
        resp.raise_for_status()
        body = resp.json()
        pages = body["results"] if isinstance(body, dict) and "results" in body else body
        return sum(p["duration"] or 0.0 for p in pages)

    def finished_count(self) -> int:
        """Jobs of the bench user that are done or failed (two one-row history queries)."""
        total = 0
        for status in ("done", "failed"):
            url = f"{self.base}/api/history/?page_size=1&status={status}"
            total += self.session.get(url, timeout=30).json()["count"]
        return total

    def wait_all(self, ids: set[str], timeout: float = 1800) -> dict[str, dict]:
        """Wait until every job in ``ids`` is finished; their history rows by id.

        Polls the count of finished jobs every 0.5 s (two one-row queries, so the
        polling costs the web process little CPU beside the workers), then reads
        the rows once.
        """
        expected = self.finished_before + len(ids)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.finished_count() < expected:
            time.sleep(0.5)
        done: dict[str, dict] = {}
        url = f"{self.base}/api/history/?page_size=100&ordering=-created_at"
        while url:
            body = self.session.get(url, timeout=30).json()
            for row in body["results"]:
                if row["id"] in ids and row["status"] in ("done", "failed", "canceled"):
                    done[row["id"]] = row
            url = body.get("next") if len(done) < len(ids) else None
        self.finished_before += len(ids)
        if len(done) < len(ids):
            raise RuntimeError(f"{len(ids) - len(done)} jobs unfinished after {timeout} s")
        failed = [r for r in done.values() if r["status"] != "done"]
        if failed:
            raise RuntimeError(f"{len(failed)} jobs failed, e.g. {failed[0]['error']}")
        return done


def burst(service: Service, images: list[Path]) -> dict[str, object]:
    """POST every image as fast as possible, wait for all; figures of that burst."""
    cpu_before = service.cpu_seconds()
    started = time.time()
    ids = [service.submit(path)["id"] for path in images]
    submitted = time.time() - started
    rows = service.wait_all(set(ids))
    cpu_after = service.cpu_seconds()
    ended = max(parse_time(r["finished_at"]) for r in rows.values())
    engine = {i: service.engine_seconds(i) for i in ids}
    return {
        "wall": ended - started,
        "pages": sum(r["page_count"] for r in rows.values()),
        "cpu_web": cpu_after["web"] - cpu_before["web"],
        "cpu_worker": cpu_after["worker"] - cpu_before["worker"],
        "submit_seconds": submitted,
        "engine_total": sum(engine.values()),
        "worker_overhead": [
            (parse_time(r["finished_at"]) - parse_time(r["started_at"]) - engine[i]) * 1000
            for i, r in rows.items()
        ],
    }


def run_service(
    broker: str,
    images: list[Path],
    small: list[Path],
    sequential: int,
    settings_module: str = "onlineocr.settings",
    rounds: int = 1,
) -> dict[str, object]:
    """Start the service, then ``rounds`` x (CLI pass, service burst), then the latency phase.

    The CLI and the service take turns on the same images, so a change in the
    host's speed during the run (other machines' load) hits both sides alike.
    """
    service = Service(broker, settings_module)
    try:
        service.start()
        # Warm-up, not timed: both worker children load the model.
        warm = [service.submit(small[0])["id"] for _ in range(4)]
        service.wait_all(set(warm))

        turns = []
        for k in range(rounds if images else 0):
            cli_wall, cli_each = run_cli(images, omp1=True)
            svc = burst(service, images)
            turns.append({"cli_wall": cli_wall, "cli_cpu": sum(cli_each), **svc})
            print(
                f"  round {k + 1}: CLI {len(images) / cli_wall:.2f} pages/s, service "
                f"{svc['pages'] / svc['wall']:.2f} pages/s, ratio "
                f"{svc['pages'] / svc['wall'] / (len(images) / cli_wall):.2f}",
                flush=True,
            )

        # Latency: one small image at a time, no queueing.
        overhead, e2e, queued, worker_side = [], [], [], []
        for k in range(sequential):
            body = service.submit(small[k % len(small)], wait=30)
            if body["status"] != "done":
                body = service.job(body["id"])
            total = parse_time(body["finished_at"]) - parse_time(body["created_at"])
            eng = service.engine_seconds(body["id"])
            e2e.append(total * 1000)
            overhead.append((total - eng) * 1000)
            wait_s = parse_time(body["started_at"]) - parse_time(body["created_at"])
            queued.append(wait_s * 1000)
            worker_side.append((total - wait_s - eng) * 1000)
        summed = {
            key: sum(t[key] for t in turns)
            for key in (
                "cli_wall",
                "cli_cpu",
                "wall",
                "pages",
                "cpu_web",
                "cpu_worker",
                "submit_seconds",
                "engine_total",
            )
        }
        return {
            **summed,
            "rounds": [{k: v for k, v in t.items() if not isinstance(v, list)} for t in turns],
            "worker_overhead": [ms for t in turns for ms in t["worker_overhead"]],
            "overhead": overhead,
            "e2e": e2e,
            "queued": queued,
            "worker_side": worker_side,
            "log": str(service.scratch),
        }
    finally:
        service.stop()


#: Form fields sent with every submission (``--form``).
FORM: dict[str, str] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--broker", choices=["filesystem", "redis", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sequential", type=int, default=30)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--settings",
        default="onlineocr.settings",
        help="Django settings module for the server and worker (experiments, e.g. "
        "bench._tuned_settings)",
    )
    parser.add_argument("--latency-only", action="store_true", help="skip the CLI and the burst")
    parser.add_argument(
        "--form",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an option sent with every job, e.g. --form rotate=off --form deskew=false "
        "(like the CLI: no orientation detection, no deskew)",
    )
    args = parser.parse_args()
    FORM.update(item.split("=", 1) for item in args.form)
    if FORM:
        print(f"job options: {FORM}")

    base = image_set()
    images = base * args.repeat
    small = [p for p in base if pixels(p) <= SMALL_PIXELS]
    brokers = ["filesystem", "redis"] if args.broker == "both" else [args.broker]
    p = _data.percentile
    print(
        f"image set: {len(base)} images x {args.repeat} = {len(images)} pages; "
        f"{len(small)} small (<= 1 MP) for the latency phase: {', '.join(x.name for x in small)}"
    )
    print(
        f"load average before: {os.getloadavg()[0]:.2f} (2 cores; other work on the host skews all figures)"
    )
    if args.latency_only:
        for broker in brokers:
            r = run_service(broker, [], small, args.sequential, args.settings)
            ov, q, ws = r["overhead"], r["queued"], r["worker_side"]
            print(
                f"{broker} ({args.settings}): overhead p50 {p(ov, 0.5):.1f} ms, p95 "
                f"{p(ov, 0.95):.1f} ms; created -> started p50 {p(q, 0.5):.1f} ms; "
                f"worker-side p50 {p(ws, 0.5):.1f} ms",
                flush=True,
            )
        return
    dflt_wall, dflt_each = run_cli(base, omp1=False)
    dflt_rate = len(base) / dflt_wall
    print(
        f"CLI  tesseract IMG stdout, default OpenMP threads, 2 at a time, once over the "
        f"{len(base)} images: {dflt_wall:.1f} s, {dflt_rate:.2f} pages/s (for reference)",
        flush=True,
    )
    results: dict[str, object] = {"cli_default_env": {"wall": dflt_wall, "pages_per_s": dflt_rate}}
    for broker in brokers:
        label = "filesystem broker + SQLite" if broker == "filesystem" else "Redis + PostgreSQL"
        print(
            f"\nservice ({label}), 1 worker --concurrency=2, taking turns with the CLI "
            f"(tesseract IMG stdout, OMP_THREAD_LIMIT=1, 2 at a time) for {args.rounds} rounds:",
            flush=True,
        )
        r = run_service(broker, images, small, args.sequential, args.settings, args.rounds)
        rate = r["pages"] / r["wall"]
        cli_rate = len(images) * args.rounds / r["cli_wall"]
        print(
            f"  CLI: {len(images) * args.rounds} pages in {r['cli_wall']:.1f} s = "
            f"{cli_rate:.2f} pages/s; service: {r['pages']} pages in {r['wall']:.1f} s = "
            f"{rate:.2f} pages/s; service/CLI = {rate / cli_rate:.2f}x (goal >= 1.3; vs the "
            f"default-env CLI {rate / dflt_rate:.2f}x); submitting took {r['submit_seconds']:.1f} s"
        )
        print(
            f"  CPU seconds: CLI (sum of per-image times) {r['cli_cpu']:.1f}; service: "
            f"worker tree {r['cpu_worker']:.1f} (of which page work {r['engine_total']:.1f} "
            f"by Page.duration), web server {r['cpu_web']:.1f}"
        )
        wo = r["worker_overhead"]
        print(
            f"  burst, worker-side overhead per job (finished - started - page work): "
            f"p50 {p(wo, 0.5):.1f} ms, p95 {p(wo, 0.95):.1f} ms"
        )
        ov, e2e = r["overhead"], r["e2e"]
        print(
            f"  latency, {len(ov)} small jobs one at a time: end-to-end p50 {p(e2e, 0.5):.1f} ms; "
            f"overhead (end-to-end - page work) p50 {p(ov, 0.5):.1f} ms, p95 "
            f"{p(ov, 0.95):.1f} ms, min {min(ov):.1f} ms (goal p50 < 20 ms)",
        )
        q, ws = r["queued"], r["worker_side"]
        print(
            f"    of which created -> started (commit, enqueue, broker, worker pick-up) "
            f"p50 {p(q, 0.5):.1f} ms; started -> finished minus page work (claim, read, "
            f"page row, finish) p50 {p(ws, 0.5):.1f} ms",
            flush=True,
        )
        results[broker] = {
            "pages_per_s": rate,
            "cli_pages_per_s": cli_rate,
            "ratio": rate / cli_rate,
            "ratio_default_env_cli": rate / dflt_rate,
            "overhead_p50_ms": p(ov, 0.5),
            "overhead_p95_ms": p(ov, 0.95),
            "worker_overhead_p50_ms": p(wo, 0.5),
            **{k: v for k, v in r.items() if not isinstance(v, list)},
        }
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
