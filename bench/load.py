"""Load test of the production-like stack (not part of the test run).

Starts ``scripts/serve.sh`` on its own port, database and queues, then, for each
worker set-up of ``--compare-workers`` (default: 1 OCR worker process, then 2) and for
each of ``--rounds`` rounds (default 1; even rounds run the batch first):

1. singles: 300 single-page submissions (``POST /api/ocr/``, 12 distinct 760x180 PNGs
   in turn) from 30 concurrent clients through nginx, until every job is finished;
2. batch: the same 300 images as one batch (``POST /api/batches/``, one multipart
   request with the field ``image`` 300 times), then ``GET /api/batches/{id}/?wait=30``
   until it ends;

and finally (chaos) the singles again against 2 worker processes, killing one with
``kill -9`` (its whole process group, as if the host died) in the middle of the run
and restarting it a few seconds later: its unacknowledged job comes back after the
broker's visibility timeout (late acks) and finishes.

Reports, per singles phase: accepted, done, failed, lost (must be 0), submit latency
p50/p99, pages per second per worker, and the jobs delivered more than once with
whether their text matches the other runs of the same image. Per batch: the time of
the POST itself (upload, checks, storing 300 jobs, the answer), the batch's final
status and counts (all done, 0 lost) and whether each job's text matches the singles'
text of the same image. Then one table, singles next to the batch: when the first job
started, the mean job time (``started_at`` -> ``finished_at``: the worker's own time
per job, which shows CPU contention), the wall time from the client's clock before the
first submission (the POST) to the last job's ``finished_at`` (the batch's
``finished_at``; the server writes both with the same machine's clock) and as seen by
the client (every job seen finished by polling the database every 0.5 s; ``?wait``
answering the end), pages/s over the former, and the ratio batch/singles of the wall
times (the median over rounds).

Usage: .venv/bin/python bench/load.py [--submissions 300] [--clients 30] [--port 28080]
       [--compare-workers 1,2] [--rounds 1] [--skip-chaos] [--batch-only]
       [--kill-after S] [--visibility 20]
``--submissions`` is also the batch's size. ``--compare-workers 1``: the comparison on 1
worker only. ``--skip-chaos``: no kill -9 phase. ``--batch-only``: only the batches (no
singles, no chaos, no ratio). The kill comes when half of the chaos phase's submissions
are in (or ``--kill-after`` seconds into it), 10 ms after a job arrived at the worker
(a note says so when no job was delivered twice). Exits 1 when a job was lost, a text
differs or a batch did not end ``done`` with every job done. The default runs
everything: about 2 minutes on the 2-core machine.
Needs PostgreSQL and Redis on loopback and nginx installed (as ``make serve``).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
import requests
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
]
ENDED = ("done", "failed", "canceled")


def make_images(n: int = 12) -> list[bytes]:
    """``n`` distinct one-page PNGs of two short lines of text."""
    face = ImageFont.truetype(FONT, 30)
    out = []
    for i in range(n):
        image = Image.new("L", (760, 180), 255)
        draw = ImageDraw.Draw(image)
        draw.text((40, 40), f"Invoice {1000 + i} {WORDS[i % 12]}", font=face, fill=0)
        draw.text((40, 100), f"Total {i * 7 + 3} euros {WORDS[(i + 5) % 12]}", font=face, fill=0)
        buf = io.BytesIO()
        image.save(buf, "PNG")
        out.append(buf.getvalue())
    return out


@dataclass
class Run:
    """One singles phase's figures."""

    workers: int
    accepted: int = 0
    refused: int = 0
    refused_codes: list[int] = field(default_factory=list)  # HTTP status of each refusal
    latencies: list[float] = field(default_factory=list)
    job_ids: list[tuple[str, int]] = field(default_factory=list)  # (job id, image index)
    seconds: float = 0.0  # first submit -> every job seen finished (polling)
    started_wall: float = 0.0  # time.time() before the first submit


@dataclass
class BatchRun:
    """One batch phase's figures."""

    workers: int
    http_status: int = 0
    batch_id: str = ""
    post_seconds: float = 0.0  # the POST alone: upload, checks, 300 jobs stored, answer
    seconds_seen: float = 0.0  # before the POST -> ``?wait`` answered the end
    started_wall: float = 0.0  # time.time() before the POST
    body: dict = field(default_factory=dict)  # the last GET's answer
    error: str = ""


@dataclass
class Pair:
    """The singles and the batch of one round on one worker set-up."""

    workers: int
    round: int
    batch_first: bool
    singles: dict[str, object] | None = None
    batch: dict[str, object] | None = None


def since(moment: datetime | str | None, t0: float) -> float | None:
    """Seconds from ``t0`` (``time.time()``) to ``moment`` (aware datetime or ISO text):
    the server writes its times with the same machine's clock."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.timestamp() - t0


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        tag = uuid.uuid4().hex[:6]
        self.args = args
        self.url = f"http://127.0.0.1:{args.port}"
        self.db = f"onlineocr_bench_{tag}"
        self.serve_dir = ROOT / "var" / "bench-serve"
        self.queue = f"bench-{tag}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("OCR_", "DJANGO_"))}
        self.env.update(
            {
                "NGINX_PORT": str(args.port),
                "SERVE_DIR": str(self.serve_dir),
                "SERVE_NAME": f"bench-{tag}",
                "SERVE_OCR_CONCURRENCY": "1",
                "SERVE_PROVIDER_CONCURRENCY": "1",
                "SERVE_BEAT": "0",
                "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{self.db}",
                "CELERY_BROKER_URL": os.environ.get(
                    "CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"
                ),
                "OCR_QUEUE": self.queue,
                "OCR_PROVIDER_QUEUE": f"{self.queue}-provider",
                "OCR_WEBHOOK_QUEUE": f"{self.queue}-webhooks",
                "OCR_MEDIA_ROOT": str(ROOT / "var" / "bench-media"),
                "OCR_ACCESS_TOKEN_SECONDS": "7200",
                "OCR_BROKER_VISIBILITY_TIMEOUT": str(args.visibility),
                "OCR_TASK_SOFT_TIME_LIMIT": "60",
                "OMP_THREAD_LIMIT": "1",
            }
        )
        self.extra: subprocess.Popen | None = None
        self.extra_log = self.serve_dir / "worker-extra.log"
        self.extra_log_from = 0  # offset of the extra worker's current start in its log
        self.images = make_images()
        self.texts: dict[int, set[str]] = {}  # image index -> texts of the singles' jobs

    # --- stack ---------------------------------------------------------------
    def start(self) -> None:
        subprocess.run(["scripts/serve.sh", "start"], cwd=ROOT, env=self.env, check=True)

    def stop(self) -> None:
        self.stop_extra(signal.SIGTERM)
        subprocess.run(["scripts/serve.sh", "stop"], cwd=ROOT, env=self.env, check=False)
        subprocess.run(
            ["dropdb", "--if-exists", "--force", "-U", "postgres", "-h", "127.0.0.1", self.db]
        )

    def extra_log_text(self) -> str:
        """The extra worker's log since its current start (the file is appended to)."""
        with self.extra_log.open("rb") as f:
            f.seek(self.extra_log_from)
            return f.read().decode(errors="replace")

    def start_extra(self) -> None:
        """A second OCR worker process on the bench's queue, in its own process group."""
        self.serve_dir.mkdir(parents=True, exist_ok=True)
        log = self.extra_log.open("a")
        self.extra_log_from = self.extra_log.stat().st_size
        self.extra = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "onlineocr",
                "worker",
                "-Q",
                self.queue,
                "-c",
                "1",
                "--pool=prefork",
                "-n",
                f"extra-{uuid.uuid4().hex[:4]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "ready." in self.extra_log_text():
                return
            time.sleep(0.2)
        raise RuntimeError("extra worker did not start")

    def stop_extra(self, sig: int) -> None:
        if self.extra and self.extra.poll() is None:
            os.killpg(self.extra.pid, sig)
            self.extra.wait(timeout=60)
        self.extra = None

    def workers(self, n: int) -> None:
        """``n`` OCR worker processes: serve.sh's one, plus the extra one for 2."""
        if n == 2 and self.extra is None:
            self.start_extra()
        elif n == 1 and self.extra is not None:
            self.stop_extra(signal.SIGTERM)

    # --- load ----------------------------------------------------------------
    def login(self) -> dict[str, str]:
        creds = {"username": "bench", "password": "A-long-bench-passphrase-1"}
        requests.post(f"{self.url}/api/register/", json=creds, timeout=30)
        r = requests.post(f"{self.url}/api/token_obtain_pair/", json=creds, timeout=30)
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access']}"}

    def submit_all(self, run: Run, headers: dict[str, str], during=None) -> None:
        n, clients = self.args.submissions, self.args.clients

        def client(c: int) -> None:
            session = requests.Session()
            for i in range(c, n, clients):
                idx = i % len(self.images)
                t0 = time.perf_counter()
                r = session.post(
                    f"{self.url}/api/ocr/",
                    headers=headers,
                    files={"image": (f"p{idx}.png", self.images[idx], "image/png")},
                    data={"languages": "eng"},
                    timeout=60,
                )
                run.latencies.append(time.perf_counter() - t0)
                if r.status_code == 202:
                    run.accepted += 1
                    run.job_ids.append((r.json()["id"], idx))
                else:
                    run.refused += 1
                    run.refused_codes.append(r.status_code)

        run.started_wall = time.time()
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            futures = [pool.submit(client, c) for c in range(clients)]
            if during:
                during()
            for f in futures:
                f.result()
        self.wait_finished(run)
        run.seconds = time.perf_counter() - started

    def submit_batch(self, batch: BatchRun, headers: dict[str, str]) -> None:
        """The same images as :meth:`submit_all` (image ``i % 12`` for the i-th), as one
        multipart batch; the body is encoded before the clock starts."""
        n = self.args.submissions
        files = [
            (
                "image",
                (
                    f"b{i:04d}-p{i % len(self.images)}.png",
                    self.images[i % len(self.images)],
                    "image/png",
                ),
            )
            for i in range(n)
        ]
        session = requests.Session()
        prepared = session.prepare_request(
            requests.Request(
                "POST",
                f"{self.url}/api/batches/",
                headers=headers,
                files=files,
                data={"languages": "eng"},
            )
        )
        batch.started_wall = time.time()
        t0 = time.perf_counter()
        r = session.send(prepared, timeout=120)
        batch.post_seconds = time.perf_counter() - t0
        batch.http_status = r.status_code
        if r.status_code != 202:
            batch.error = r.text[:500]
            return
        batch.body = r.json()
        batch.batch_id = batch.body["id"]
        deadline = time.monotonic() + 900
        while batch.body["status"] not in ENDED and time.monotonic() < deadline:
            g = session.get(
                f"{self.url}/api/batches/{batch.batch_id}/",
                params={"wait": 30},
                headers=headers,
                timeout=90,
            )
            if g.status_code != 200:  # e.g. 503 while uWSGI respawns a worker: ask again
                print(f"GET batch: HTTP {g.status_code}, asking again", flush=True)
                time.sleep(1)
                continue
            batch.body = g.json()
        batch.seconds_seen = time.perf_counter() - t0

    def counts(self, ids: list[str]) -> dict[str, int]:
        with psycopg.connect(self.env["DATABASE_URL"]) as conn:
            rows = conn.execute(
                "SELECT status, count(*) FROM ocr_job WHERE id = ANY(%s::uuid[]) GROUP BY status",
                (ids,),
            ).fetchall()
        return dict(rows)

    def wait_finished(self, run: Run, timeout: float = 900) -> None:
        ids = [j for j, _ in run.job_ids]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            c = self.counts(ids)
            if c.get("done", 0) + c.get("failed", 0) >= len(ids):
                return
            time.sleep(0.5)

    def report(self, run: Run, label: str) -> dict[str, object]:
        ids = [j for j, _ in run.job_ids]
        with psycopg.connect(self.env["DATABASE_URL"]) as conn:
            rows = conn.execute(
                "SELECT id::text, status, text, attempts, page_count, started_at, finished_at "
                "FROM ocr_job WHERE id = ANY(%s::uuid[])",
                (ids,),
            ).fetchall()
        by_id = {r[0]: r for r in rows}
        image_of = dict(run.job_ids)
        done = [r for r in rows if r[1] == "done"]
        texts: dict[int, set[str]] = {}
        for r in done:
            texts.setdefault(image_of[r[0]], set()).add(r[2])
            self.texts.setdefault(image_of[r[0]], set()).add(r[2])
        redelivered = [r for r in rows if r[3] > 1]
        consistent = all(len(texts[image_of[r[0]]]) == 1 for r in redelivered if r[1] == "done")
        lat = sorted(run.latencies)
        pages = sum(r[4] for r in done)
        starts = [r[5] for r in rows if r[5] is not None]
        ends = [r[6] for r in rows if r[6] is not None]
        spans = [(r[6] - r[5]).total_seconds() for r in done if r[5] and r[6]]
        to_last_end = since(max(ends), run.started_wall) if ends else None
        out = {
            "phase": label,
            "workers": run.workers,
            "accepted": run.accepted,
            "refused": run.refused,
            "refused_codes": dict(Counter(run.refused_codes)),
            "done": len(done),
            "failed": sum(1 for r in rows if r[1] == "failed"),
            "lost": run.accepted - sum(1 for r in rows if r[1] in ("done", "failed")),
            "missing_rows": len(ids) - len(by_id),
            "p50_ms": round(statistics.median(lat) * 1000),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000),
            "seconds": round(run.seconds, 1),
            "pages": pages,
            "pages_per_s_per_worker": round(pages / run.seconds / run.workers, 2),
            "first_start_s": round(since(min(starts), run.started_wall), 1) if starts else None,
            "job_ms": round(1000 * statistics.mean(spans)) if spans else None,
            "to_last_end_s": round(to_last_end, 1) if to_last_end else None,
            "redelivered": len(redelivered),
            "redelivered_same_text": consistent,
            "images_with_differing_text": sum(1 for t in texts.values() if len(t) > 1),
        }
        print(out, flush=True)
        return out

    def report_batch(self, batch: BatchRun) -> dict[str, object]:
        n = self.args.submissions
        body = batch.body
        rows = []
        if batch.batch_id:
            with psycopg.connect(self.env["DATABASE_URL"]) as conn:
                rows = conn.execute(
                    "SELECT filename, status, text, attempts, page_count, started_at, finished_at "
                    "FROM ocr_job WHERE batch_id = %s::uuid",
                    (batch.batch_id,),
                ).fetchall()
        done = [r for r in rows if r[1] == "done"]
        differing = 0
        for r in done:
            m = re.search(r"-p(\d+)\.", r[0])
            singles = self.texts.get(int(m.group(1))) if m else None
            if singles is not None and r[2] not in singles:
                differing += 1
        pages = sum(r[4] for r in done)
        starts = [r[5] for r in rows if r[5] is not None]
        spans = [(r[6] - r[5]).total_seconds() for r in done if r[5] and r[6]]
        to_end = since(body.get("finished_at"), batch.started_wall)
        wall = to_end if to_end is not None else batch.seconds_seen
        out = {
            "phase": f"batch, {batch.workers} worker{'s' if batch.workers > 1 else ''}",
            "workers": batch.workers,
            "http_status": batch.http_status,
            "error": batch.error,
            "post_s": round(batch.post_seconds, 2),
            "status": body.get("status"),
            "job_count": body.get("job_count", 0),
            "counts": body.get("counts"),
            "page_count": body.get("page_count"),
            "pages_done": body.get("pages_done"),
            "rows": len(rows),
            "done": len(done),
            "failed": sum(1 for r in rows if r[1] == "failed"),
            "lost": n - sum(1 for r in rows if r[1] in ("done", "failed")),
            "redelivered": sum(1 for r in rows if r[3] > 1),
            "first_start_s": round(since(min(starts), batch.started_wall), 1) if starts else None,
            "job_ms": round(1000 * statistics.mean(spans)) if spans else None,
            "to_finished_at_s": round(to_end, 1) if to_end is not None else None,
            "seen_ended_s": round(batch.seconds_seen, 1),
            "pages": pages,
            "pages_per_s": round(pages / wall, 2) if wall else 0.0,
            "differs_from_singles": differing,
        }
        print(out, flush=True)
        return out

    def run_batch(self, workers: int, headers: dict[str, str]) -> dict[str, object]:
        batch = BatchRun(workers=workers)
        self.submit_batch(batch, headers)
        return self.report_batch(batch)

    def chaos(self, run: Run) -> None:
        """Once half the submissions are in (or ``--kill-after`` seconds into the phase),
        kill the extra worker's process group while a task runs on it; restart it 3 s
        later."""
        if self.args.kill_after is None:
            deadline = time.monotonic() + 120
            while run.accepted + run.refused < self.args.submissions // 2:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
        else:
            time.sleep(self.args.kill_after)
        # Kill while a job is running on it (its last task line is "received"), 10 ms
        # after it arrived so that the job is claimed (a job takes ~30 ms on 2 cores).
        deadline = time.monotonic() + 10
        running = None
        while time.monotonic() < deadline:
            lines = [
                ln
                for ln in self.extra_log_text().splitlines()
                if "ocr.job[" in ln or "ocr.page[" in ln
            ]
            if lines and lines[-1].endswith("received"):
                running = lines[-1].split("[")[1].split("]")[0]
                time.sleep(0.01)
                break
            time.sleep(0.01)
        if running:
            print(f"killing while task {running} runs", flush=True)
        else:
            print("no task runs on the extra worker: killing it anyway (may miss)", flush=True)
        pid = self.extra.pid if self.extra else None
        print(f"kill -9 worker process group {pid}", flush=True)
        self.stop_extra(signal.SIGKILL)
        time.sleep(3)
        self.start_extra()
        print("worker restarted", flush=True)

    def main(self) -> int:
        args = self.args
        results: list[dict[str, object]] = []
        pairs: list[Pair] = []
        try:
            self.start()
            headers = self.login()
            for w in args.compare_workers:
                self.workers(w)
                for rnd in range(1, args.rounds + 1):
                    label = f"{w} worker{'s' if w > 1 else ''}"
                    if args.rounds > 1:
                        label += f", round {rnd}"
                    pair = Pair(workers=w, round=rnd, batch_first=rnd % 2 == 0)
                    if pair.batch_first or args.batch_only:
                        pair.batch = self.run_batch(w, headers)
                    if not args.batch_only:
                        run = Run(workers=w)
                        self.submit_all(run, headers)
                        pair.singles = self.report(run, label)
                        results.append(pair.singles)
                    if pair.batch is None:
                        pair.batch = self.run_batch(w, headers)
                    pairs.append(pair)
            if not (args.skip_chaos or args.batch_only):
                self.workers(2)
                two = Run(workers=2)
                self.submit_all(two, headers, during=lambda: self.chaos(two))
                killed = self.report(two, "2 workers, one killed -9 and restarted")
                killed["kill_missed"] = killed["redelivered"] == 0
                results.append(killed)
        finally:
            self.stop()
        return 0 if self.tables(results, pairs) else 1

    def tables(self, results: list[dict[str, object]], pairs: list[Pair]) -> bool:
        """Print the singles' table and the comparison; True when nothing was lost, every
        batch ended ``done`` with every job done and every text matched."""
        args, n, ok = self.args, self.args.submissions, True
        if results:
            print(
                "\n| phase | accepted | done | failed | lost | submit p50 | submit p99 | wall s "
                "| pages/s per worker | redelivered (same text) |"
            )
            print("|---|---|---|---|---|---|---|---|---|---|")
        for r in results:
            print(
                f"| {r['phase']} | {r['accepted']} | {r['done']} | {r['failed']} | {r['lost']} | "
                f"{r['p50_ms']} ms | {r['p99_ms']} ms | {r['seconds']} | "
                f"{r['pages_per_s_per_worker']} | "
                f"{r['redelivered']} ({'yes' if r['redelivered_same_text'] else 'NO'}) |"
            )
            ok = ok and r["lost"] == 0 and r["images_with_differing_text"] == 0
        for r in results:
            if r["refused"]:
                print(
                    f"note: {r['phase']}: refused submissions by HTTP status {r['refused_codes']}"
                )
        if any(r.get("kill_missed") for r in results):
            print(
                "note: the kill -9 hit no claimed job (attempts 1 everywhere): it came before "
                "the worker claimed its job or after the job ended, so only 'lost 0' was tested"
            )
        print(
            f"\n| workers | round | {n} pages as | jobs | done | failed | lost | submit | "
            "first job starts s | mean job ms | wall s to last finished_at | "
            "wall s seen by client | pages/s |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        ratios: dict[int, list[tuple[float, float]]] = {}
        for pair in pairs:
            s, b, w = pair.singles, pair.batch, pair.workers
            rows = []
            if s is not None:
                wall = s["to_last_end_s"]
                rows.append(
                    f"{n} single submissions, {args.clients} clients | {s['accepted']} | "
                    f"{s['done']} | {s['failed']} | {s['lost']} | "
                    f"p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms | {s['first_start_s']} | "
                    f"{s['job_ms']} | {wall} | {s['seconds']} | "
                    f"{round(s['pages'] / wall, 2) if wall else '-'} |"
                )
            rows.append(
                f"1 batch (one multipart POST) | {b['job_count']} | {b['done']} | "
                f"{b['failed']} | {b['lost']} | POST {b['post_s']} s | {b['first_start_s']} | "
                f"{b['job_ms']} | {b['to_finished_at_s']} | {b['seen_ended_s']} | "
                f"{b['pages_per_s']} |"
            )
            if pair.batch_first:
                rows.reverse()
            for row in rows:
                print(f"| {w} | {pair.round} | {row}")
            ok = ok and b["status"] == "done" and b["lost"] == 0 and b["done"] == n
            ok = ok and b["differs_from_singles"] == 0
            if s is not None and s["to_last_end_s"] and b["to_finished_at_s"]:
                ratios.setdefault(w, []).append(
                    (b["to_finished_at_s"] / s["to_last_end_s"], b["seen_ended_s"] / s["seconds"])
                )
        for w, values in ratios.items():
            each = ", ".join(f"{end:.2f}" for end, _ in values)
            end = statistics.median(v[0] for v in values)
            seen = statistics.median(v[1] for v in values)
            print(
                f"batch/singles wall time, {w} worker{'s' if w > 1 else ''}: {end:.2f} to the "
                f"last end, {seen:.2f} as seen by the client"
                + (
                    f" (medians of {len(values)} rounds; to the last end: {each})"
                    if len(values) > 1
                    else ""
                )
            )
        return ok


def worker_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or any(c not in (1, 2) for c in counts):
        raise argparse.ArgumentTypeError("a comma-separated list of 1 and/or 2")
    return sorted(set(counts))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300, help="also the batch's size")
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--port", type=int, default=28080)
    parser.add_argument(
        "--compare-workers",
        type=worker_counts,
        default=[1, 2],
        help="OCR worker processes for the singles/batch comparison: 1, 2 or 1,2 (default)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="singles/batch comparisons per worker set-up (even rounds: the batch first)",
    )
    parser.add_argument("--skip-chaos", action="store_true", help="no kill -9 phase")
    parser.add_argument(
        "--batch-only", action="store_true", help="only the batch phases (no singles, no chaos)"
    )
    parser.add_argument(
        "--kill-after",
        type=float,
        default=None,
        help="seconds into the chaos phase (default: when half the submissions are in)",
    )
    parser.add_argument("--visibility", type=int, default=20, help="broker visibility timeout, s")
    sys.exit(Bench(parser.parse_args()).main())
