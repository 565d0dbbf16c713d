"""Load test of the production-like stack (not part of the test run).

Starts ``scripts/serve.sh`` on its own port, database and queues, then:

1. 300 submissions from 30 concurrent clients through nginx against 1 OCR
   worker process, until every job is finished;
2. the same against 2 worker processes, killing one with ``kill -9`` (its whole
   process group, as if the host died) in the middle of the run and restarting
   it a few seconds later: its unacknowledged job comes back after the broker's
   visibility timeout (late acks) and finishes.

Reports accepted, done, failed, lost (must be 0), submit latency p50/p99,
pages per second per worker, and the jobs delivered more than once with
whether their text matches the other runs of the same image.

Usage: .venv/bin/python bench/load.py [--submissions 300] [--clients 30] [--port 28080]
Needs PostgreSQL and Redis on loopback (as ``make serve``).
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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
    """One phase's figures."""

    workers: int
    accepted: int = 0
    refused: int = 0
    latencies: list[float] = field(default_factory=list)
    job_ids: list[tuple[str, int]] = field(default_factory=list)  # (job id, image index)
    seconds: float = 0.0


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
                "OCR_MEDIA_ROOT": str(ROOT / "var" / "bench-media"),
                "OCR_ACCESS_TOKEN_SECONDS": "7200",
                "OCR_BROKER_VISIBILITY_TIMEOUT": str(args.visibility),
                "OCR_TASK_SOFT_TIME_LIMIT": "60",
                "OMP_THREAD_LIMIT": "1",
            }
        )
        self.extra: subprocess.Popen | None = None
        self.images = make_images()

    # --- stack ---------------------------------------------------------------
    def start(self) -> None:
        subprocess.run(["scripts/serve.sh", "start"], cwd=ROOT, env=self.env, check=True)

    def stop(self) -> None:
        self.stop_extra(signal.SIGTERM)
        subprocess.run(["scripts/serve.sh", "stop"], cwd=ROOT, env=self.env, check=False)
        subprocess.run(
            ["dropdb", "--if-exists", "--force", "-U", "postgres", "-h", "127.0.0.1", self.db]
        )

    def start_extra(self) -> None:
        log = (self.serve_dir / "worker-extra.log").open("a")
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
            if (self.serve_dir / "worker-extra.log").read_text().count(
                "ready."
            ) >= self.extra_starts:
                return
            time.sleep(0.2)
        raise RuntimeError("extra worker did not start")

    extra_starts = 0

    def stop_extra(self, sig: int) -> None:
        if self.extra and self.extra.poll() is None:
            os.killpg(self.extra.pid, sig)
            self.extra.wait(timeout=60)
        self.extra = None

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

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            futures = [pool.submit(client, c) for c in range(clients)]
            if during:
                during()
            for f in futures:
                f.result()
        self.wait_finished(run)
        run.seconds = time.perf_counter() - started

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
                "SELECT id::text, status, text, attempts, page_count FROM ocr_job "
                "WHERE id = ANY(%s::uuid[])",
                (ids,),
            ).fetchall()
        by_id = {r[0]: r for r in rows}
        image_of = dict(run.job_ids)
        done = [r for r in rows if r[1] == "done"]
        texts: dict[int, set[str]] = {}
        for r in done:
            texts.setdefault(image_of[r[0]], set()).add(r[2])
        redelivered = [r for r in rows if r[3] > 1]
        consistent = all(len(texts[image_of[r[0]]]) == 1 for r in redelivered if r[1] == "done")
        lat = sorted(run.latencies)
        pages = sum(r[4] for r in done)
        out = {
            "phase": label,
            "workers": run.workers,
            "accepted": run.accepted,
            "refused": run.refused,
            "done": len(done),
            "failed": sum(1 for r in rows if r[1] == "failed"),
            "lost": run.accepted - sum(1 for r in rows if r[1] in ("done", "failed")),
            "missing_rows": len(ids) - len(by_id),
            "p50_ms": round(statistics.median(lat) * 1000),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000),
            "seconds": round(run.seconds, 1),
            "pages_per_s_per_worker": round(pages / run.seconds / run.workers, 2),
            "redelivered": len(redelivered),
            "redelivered_same_text": consistent,
            "images_with_differing_text": sum(1 for t in texts.values() if len(t) > 1),
        }
        print(out, flush=True)
        return out

    def main(self) -> int:
        results = []
        try:
            self.start()
            headers = self.login()
            one = Run(workers=1)
            self.submit_all(one, headers)
            results.append(self.report(one, "1 worker"))

            self.extra_starts = 1
            self.start_extra()
            two = Run(workers=2)

            def chaos() -> None:
                time.sleep(self.args.kill_after)
                # Kill while a job is running on it (its last task line is "received").
                log = self.serve_dir / "worker-extra.log"
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    lines = [
                        ln
                        for ln in log.read_text().splitlines()
                        if "ocr.job[" in ln or "ocr.page[" in ln
                    ]
                    if lines and lines[-1].endswith("received"):
                        break
                    time.sleep(0.01)
                running = lines[-1].split("[")[1].split("]")[0] if lines else "?"
                print(f"killing while task {running} runs", flush=True)
                pid = self.extra.pid if self.extra else None
                print(f"kill -9 worker process group {pid}", flush=True)
                self.stop_extra(signal.SIGKILL)
                time.sleep(3)
                self.extra_starts = 2
                self.start_extra()
                print("worker restarted", flush=True)

            self.submit_all(two, headers, during=chaos)
            results.append(self.report(two, "2 workers, one killed -9 and restarted"))
        finally:
            self.stop()
        print(
            "\n| phase | accepted | done | failed | lost | submit p50 | submit p99 | wall s | pages/s per worker | redelivered (same text) |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in results:
            print(
                f"| {r['phase']} | {r['accepted']} | {r['done']} | {r['failed']} | {r['lost']} | "
                f"{r['p50_ms']} ms | {r['p99_ms']} ms | {r['seconds']} | {r['pages_per_s_per_worker']} | "
                f"{r['redelivered']} ({'yes' if r['redelivered_same_text'] else 'NO'}) |"
            )
        return (
            0
            if all(r["lost"] == 0 and r["images_with_differing_text"] == 0 for r in results)
            else 1
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--port", type=int, default=28080)
    parser.add_argument("--kill-after", type=float, default=8.0, help="seconds into phase 2")
    parser.add_argument("--visibility", type=int, default=20, help="broker visibility timeout, s")
    sys.exit(Bench(parser.parse_args()).main())
