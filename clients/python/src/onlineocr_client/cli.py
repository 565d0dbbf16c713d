"""``onlineocr-client``: OCR files, read history, cancel jobs and list keys from a shell.

The service and the credential come from ``--url`` and ``--api-key`` (or ``--token``),
else from the environment: ``ONLINEOCR_URL``, ``ONLINEOCR_API_KEY``
(``ONLINEOCR_TOKEN``).

Exit codes: 0 success (files skipped because their output exists count as success),
1 a file or a request failed (its name and error code are printed on stderr),
2 a usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from onlineocr_client import __version__
from onlineocr_client.client import EXPORT_FORMATS, Client
from onlineocr_client.errors import JobFailedError, OnlineOcrError
from onlineocr_client.models import Batch, BatchJob, Job

#: Output file name = input stem + this (``scan.png`` -> ``scan.txt``, ``scan.ocr.pdf``).
SUFFIXES = {
    "txt": ".txt",
    "json": ".json",
    "pdf": ".ocr.pdf",
    "hocr": ".hocr",
    "alto": ".alto.xml",
    "tsv": ".tsv",
}


#: Most bytes of documents ``ocr --batch`` sends in one batch (the service's default
#: limit, OCR_MAX_BATCH_BYTES, is 200 MB).
BATCH_BYTES = 100 * 1024 * 1024


def output_path(source: Path, out_dir: Path, fmt: str) -> Path:
    """Where ``ocr`` writes the ``fmt`` export of ``source``: ``out_dir/<stem><suffix>``."""
    return out_dir / (source.stem + SUFFIXES[fmt])


@dataclass
class Outcome:
    """What became of one input file."""

    source: Path
    output: Path
    state: str  # done, skipped, failed
    code: str = ""
    message: str = ""
    job_id: str = ""


class _Bars:
    """A progress bar per file (pages done of page count) and one for all files."""

    KEEP_ROWS = 20  # finished files keep their row up to this many files

    def __init__(self, console: Console, enabled: bool, total: int) -> None:
        self.progress = Progress(
            TextColumn("{task.description}", justify="left"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self.lock = threading.Lock()
        self.overall = self.progress.add_task("files", total=total, status="")
        self.tasks: dict[Path, TaskID] = {}
        self.total = total

    def __enter__(self) -> _Bars:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def add(self, source: Path) -> None:
        with self.lock:
            self.tasks[source] = self.progress.add_task(
                source.name, total=None, status="uploading", visible=True
            )

    def update(self, source: Path, *, done: int, total: int | None, status: str) -> None:
        with self.lock:
            task = self.tasks.get(source)
            if task is not None:
                self.progress.update(task, completed=done, total=total, status=status)

    def finish(self, source: Path, status: str) -> None:
        with self.lock:
            task = self.tasks.pop(source, None)
            if task is not None:
                if self.total > self.KEEP_ROWS:
                    # Many files: only the running ones keep a row (each result is
                    # printed on its own line anyway).
                    self.progress.remove_task(task)
                elif status == "done":
                    total = self.progress.tasks[task].total or 1
                    self.progress.update(task, total=total, completed=total, status=status)
                else:
                    self.progress.update(task, status=status)
            self.progress.advance(self.overall)


def _client(args: argparse.Namespace) -> Client:
    return Client(
        args.url,
        api_key=args.api_key or None,
        token=args.token or None,
        timeout=args.timeout,
    )


def _job_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {
        "languages": args.languages,
        "engine": args.engine,
        "psm": args.psm,
        "pages": args.pages,
    }
    return {k: v for k, v in options.items() if v is not None}


def _plan(args: argparse.Namespace) -> tuple[list[Outcome], list[tuple[Path, Path]]]:
    """Outcomes decided without the service (skips, missing files, clashing names) and
    the (source, output) pairs left to OCR."""
    out_dir = Path(args.output_dir)
    decided: list[Outcome] = []
    todo: list[tuple[Path, Path]] = []
    claimed: dict[Path, Path] = {}
    for name in args.files:
        source = Path(name)
        output = output_path(source, out_dir, args.format)
        if output in claimed:
            decided.append(
                Outcome(
                    source,
                    output,
                    "failed",
                    "duplicate_output",
                    f"{claimed[output]} already writes {output}",
                )
            )
            continue
        claimed[output] = source
        if not source.is_file():
            decided.append(Outcome(source, output, "failed", "file_not_found", "no such file"))
        elif output.exists() and not args.force:
            decided.append(Outcome(source, output, "skipped"))
        else:
            todo.append((source, output))
    return decided, todo


def _ocr_one(
    client: Client, args: argparse.Namespace, source: Path, output: Path, bars: _Bars
) -> Outcome:
    bars.add(source)

    def progress(job: Job) -> None:
        bars.update(source, done=job.pages_done, total=job.page_count, status=job.status)

    job_id = ""
    try:
        job = client.submit(source, **_job_options(args))
        job_id = job.id
        progress(job)
        job = client.wait(job, timeout=args.wait_timeout, on_progress=progress)
        if job.status != "done":
            raise JobFailedError(job)
        client.export(job.id, args.format, output)
    except OnlineOcrError as exc:
        bars.finish(source, "failed")
        return Outcome(source, output, "failed", exc.code, exc.message, job_id)
    except OSError as exc:
        bars.finish(source, "failed")
        return Outcome(source, output, "failed", "file_error", str(exc), job_id)
    bars.finish(source, "done")
    return Outcome(source, output, "done", job_id=job.id)


def _ocr_batch(
    client: Client, args: argparse.Namespace, todo: list[tuple[Path, Path]], bars: _Bars
) -> list[Outcome]:
    for source, _ in todo:
        bars.add(source)
    try:
        batch = client.batch([source for source, _ in todo], **_job_options(args))
    except OnlineOcrError as exc:
        # The service checks a batch whole and names the item at fault in ``field``
        # (``image[2]``): that file gets the error, the others were not sent.
        match = re.fullmatch(r"(?:image|items)\[(\d+)\]", exc.field or "")
        culprit = int(match.group(1)) if match else None
        if culprit is not None and culprit >= len(todo):
            culprit = None
        outcomes = []
        for index, (source, output) in enumerate(todo):
            bars.finish(source, "failed")
            if culprit is None or index == culprit:
                outcomes.append(Outcome(source, output, "failed", exc.code, exc.message))
            else:
                outcomes.append(
                    Outcome(
                        source,
                        output,
                        "failed",
                        "batch_refused",
                        f"not sent: the batch was refused for {todo[culprit][0].name}",
                    )
                )
        return outcomes

    def progress(current: Batch) -> None:
        for source, job in _match_jobs(current, todo).items():
            bars.update(source, done=job.pages_done, total=job.page_count, status=job.status)

    outcomes: list[Outcome] = []
    try:
        batch = client.wait_batch(batch.id, timeout=args.wait_timeout, on_progress=progress)
    except OnlineOcrError as exc:
        for source, output in todo:
            bars.finish(source, "failed")
            outcomes.append(Outcome(source, output, "failed", exc.code, exc.message))
        return outcomes
    pairs = _match_jobs(batch, todo)
    for source, output in todo:
        job = pairs.get(source)
        if job is None:
            outcomes.append(
                Outcome(source, output, "failed", "missing_job", "the batch has no job for it")
            )
            bars.finish(source, "failed")
            continue
        if job.status != "done":
            code = job.error.code if job.error else job.status
            message = job.error.message if job.error else f"the job ended {job.status}"
            outcomes.append(Outcome(source, output, "failed", code, message, job.id))
            bars.finish(source, "failed")
            continue
        try:
            client.export(job.id, args.format, output)
        except OnlineOcrError as exc:
            outcomes.append(Outcome(source, output, "failed", exc.code, exc.message, job.id))
            bars.finish(source, "failed")
            continue
        outcomes.append(Outcome(source, output, "done", job_id=job.id))
        bars.finish(source, "done")
    return outcomes


def _chunks(
    todo: list[tuple[Path, Path]], size: int, max_bytes: int
) -> list[list[tuple[Path, Path]]]:
    """``todo`` cut into batches of at most ``size`` files and ``max_bytes`` bytes (a
    bigger file goes alone), under the service's limits on one batch."""
    chunks: list[list[tuple[Path, Path]]] = [[]]
    total = 0
    for pair in todo:
        length = pair[0].stat().st_size
        current = chunks[-1]
        if current and (len(current) >= size or total + length > max_bytes):
            chunks.append([])
            total = 0
        chunks[-1].append(pair)
        total += length
    return [chunk for chunk in chunks if chunk]


def _match_jobs(batch: Batch, todo: list[tuple[Path, Path]]) -> dict[Path, BatchJob]:
    """The batch's job for each source: in submission order when the counts agree,
    else by file name."""
    if len(batch.jobs) == len(todo):
        return {source: job for (source, _), job in zip(todo, batch.jobs, strict=True)}
    by_name = {job.filename: job for job in batch.jobs}
    return {source: by_name[source.name] for source, _ in todo if source.name in by_name}


def cmd_ocr(args: argparse.Namespace, console: Console) -> int:
    decided, todo = _plan(args)
    Path(args.output_dir).mkdir(parents=True, exist_ok=True)
    for outcome in decided:
        _report(outcome)
    outcomes = list(decided)
    show = not args.no_progress and console.is_terminal
    if todo:
        with _client(args) as client, _Bars(console, show, len(todo)) as bars:
            if args.batch:
                for chunk in _chunks(todo, args.batch_size, BATCH_BYTES):
                    for outcome in _ocr_batch(client, args, chunk, bars):
                        _report(outcome)
                        outcomes.append(outcome)
            else:
                with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                    futures = [
                        pool.submit(_ocr_one, client, args, source, output, bars)
                        for source, output in todo
                    ]
                    try:
                        for future in as_completed(futures):
                            outcome = future.result()
                            _report(outcome)
                            outcomes.append(outcome)
                    except KeyboardInterrupt:
                        pool.shutdown(wait=False, cancel_futures=True)
                        raise
    done = sum(o.state == "done" for o in outcomes)
    skipped = sum(o.state == "skipped" for o in outcomes)
    failed = sum(o.state == "failed" for o in outcomes)
    print(f"{done} done, {skipped} skipped, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


def _report(outcome: Outcome) -> None:
    if outcome.state == "done":
        print(f"done\t{outcome.source}\t{outcome.output}", flush=True)
    elif outcome.state == "skipped":
        print(f"skipped\t{outcome.source}\t{outcome.output} exists", flush=True)
    else:
        print(
            f"failed\t{outcome.source}\t{outcome.code}: {outcome.message}",
            file=sys.stderr,
            flush=True,
        )


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def cmd_history(args: argparse.Namespace, console: Console) -> int:
    limit = args.limit
    with _client(args) as client:
        page_size = min(100, limit) if limit else None
        jobs = client.history(search=args.search, status=args.status, page_size=page_size)
        for count, job in enumerate(jobs, 1):
            if args.json:
                print(json.dumps(job.raw))
            else:
                pages = f"{job.pages_done}/{job.page_count if job.page_count is not None else '?'}"
                print(f"{job.id}\t{job.status}\t{_when(job.created_at)}\t{pages}\t{job.filename}")
            if limit and count >= limit:
                break
    return 0


def cmd_get(args: argparse.Namespace, console: Console) -> int:
    with _client(args) as client:
        job = client.get(args.id)
    if args.json:
        print(json.dumps(job.raw, indent=2))
        return 0
    pages = f"{job.pages_done}/{job.page_count if job.page_count is not None else '?'}"
    print(f"id: {job.id}")
    print(f"status: {job.status}")
    print(f"filename: {job.filename}")
    print(f"engine: {job.engine} ({'+'.join(job.languages)})")
    print(f"pages: {pages}")
    print(f"created: {_when(job.created_at)}")
    print(f"finished: {_when(job.finished_at)}")
    if job.error:
        print(f"error: {job.error.code}: {job.error.message}")
    if job.text:
        print()
        print(job.text)
    return 0


def cmd_cancel(args: argparse.Namespace, console: Console) -> int:
    with _client(args) as client:
        job = client.cancel(args.id)
    print(f"{job.id}\t{job.status}")
    return 0


def cmd_keys(args: argparse.Namespace, console: Console) -> int:
    with _client(args) as client:
        keys = client.keys()
    for key in keys:
        if args.json:
            print(json.dumps(key.raw))
            continue
        state = "expired" if key.expired else "active"
        print(
            f"{key.id}\t{key.prefix}\t{key.name}\t{state}\tcreated {_when(key.created_at)}"
            f"\texpires {_when(key.expires_at)}\tlast used {_when(key.last_used_at)}"
        )
    return 0


def cmd_engines(args: argparse.Namespace, console: Console) -> int:
    with _client(args) as client:
        engines = client.engines()
    for engine in engines:
        available = "available" if engine.available else "unavailable"
        default = "\tdefault" if engine.default else ""
        print(
            f"{engine.name}\t{available}\t{engine.version}\t{'+'.join(engine.languages)}{default}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onlineocr-client",
        description="Client of an onlineocr OCR service.",
        epilog="Environment: ONLINEOCR_URL, ONLINEOCR_API_KEY, ONLINEOCR_TOKEN.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--url",
        default=os.environ.get("ONLINEOCR_URL"),
        help="the service's URL (default $ONLINEOCR_URL)",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("ONLINEOCR_API_KEY"),
        help="an API key (default $ONLINEOCR_API_KEY)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("ONLINEOCR_TOKEN"),
        help="a JWT access token instead of a key (default $ONLINEOCR_TOKEN)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per HTTP request (default 60)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ocr = commands.add_parser(
        "ocr",
        help="OCR files and write one export per file",
        description="OCR files and write <stem><suffix> per file into the output folder "
        "(scan.png -> scan.txt; pdf: scan.ocr.pdf). Files whose output exists are "
        "skipped, so an interrupted run can be started again.",
    )
    ocr.add_argument("files", nargs="+", metavar="FILES", help="images or PDFs")
    ocr.add_argument("-l", "--languages", help="e.g. eng+deu (default: the service's)")
    ocr.add_argument("--format", choices=EXPORT_FORMATS, default="txt", help="(default txt)")
    ocr.add_argument(
        "-o", "--output-dir", default=".", metavar="DIR", help="(default: this folder)"
    )
    ocr.add_argument(
        "--batch", action="store_true", help="send all files as one batch, then export each job"
    )
    ocr.add_argument(
        "--batch-size",
        type=int,
        default=100,
        metavar="N",
        help="with --batch: at most N files (and 100 MB) per batch, sent one after another "
        "(default 100)",
    )
    ocr.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="files submitted at once (default 1)"
    )
    ocr.add_argument("--engine", help="OCR engine (default: the service's)")
    ocr.add_argument("--psm", type=int, help="Tesseract page segmentation mode")
    ocr.add_argument("--pages", help="pages of multi-page documents, e.g. 1-3,7")
    ocr.add_argument("--force", action="store_true", help="redo files whose output exists")
    ocr.add_argument("--no-progress", action="store_true", help="no progress bars")
    ocr.add_argument(
        "--wait-timeout",
        type=float,
        default=1800.0,
        metavar="S",
        help="seconds to wait for each job or the batch (default 1800)",
    )
    ocr.set_defaults(func=cmd_ocr)

    history = commands.add_parser("history", help="list your jobs, newest first")
    history.add_argument("--search", metavar="TEXT", help="in file names and recognised text")
    history.add_argument(
        "--status", choices=["pending", "processing", "done", "failed", "canceled"]
    )
    history.add_argument("--limit", type=int, metavar="N", help="at most N jobs")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.set_defaults(func=cmd_history)

    get = commands.add_parser("get", help="a job's status and text")
    get.add_argument("id")
    get.add_argument("--json", action="store_true", help="the job as JSON")
    get.set_defaults(func=cmd_get)

    cancel = commands.add_parser("cancel", help="cancel an unfinished job")
    cancel.add_argument("id")
    cancel.set_defaults(func=cmd_cancel)

    keys = commands.add_parser("keys", help="list your API keys")
    keys.add_argument("--json", action="store_true", help="one JSON object per line")
    keys.set_defaults(func=cmd_keys)

    engines = commands.add_parser("engines", help="list the service's engines")
    engines.set_defaults(func=cmd_engines)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line tool with ``argv`` (default ``sys.argv[1:]``); return the exit
    code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("give the service's URL with --url or ONLINEOCR_URL")
    if getattr(args, "jobs", 1) < 1 or getattr(args, "batch_size", 1) < 1:
        parser.error("--jobs and --batch-size must be at least 1")
    console = Console(stderr=True)
    try:
        return int(args.func(args, console))
    except OnlineOcrError as exc:
        field = f" (field {exc.field})" if exc.field else ""
        print(f"error: {exc.code}: {exc.message}{field}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; run the same command again to go on", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
