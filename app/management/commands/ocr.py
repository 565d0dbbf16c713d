"""``python manage.py ocr FILE...``: OCR local files with the service's own pipeline.

Runs on this machine (no queue, no database) through the same document pipeline
as a job (:func:`app.pipeline.document.read_pages`) with the same options and
limits, so a file reads the same here and as a job. Prints the text of each
file, or the result schema with ``--json``. ``--jobs N`` reads the pages of a
multi-page file in N processes at once (pages are handed out one at a time; the
result is in page order).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from app.engines import registry
from app.errors import OcrError
from app.pipeline import document
from app.pipeline.options import PIPELINE_OPTION_NAMES, JobOptions
from app.pipeline.schema import Document, PageResult
from app.services.jobs import check_engine_options, limits


def _read_one(source: bytes, content_type: str, options: JobOptions, number: int) -> dict:
    """Read page ``number`` in a pool process (the engine loads once per process)."""
    engine = registry.get_engine(options.engine)
    pages = document.read_pages(
        source,
        content_type,
        engine=engine,
        options=options,
        limits=limits(),
        numbers=[number],
    )
    return next(pages).result.to_dict()


def ocr_bytes(data: bytes, options: JobOptions, *, jobs: int = 1) -> Document:
    """OCR a document's bytes as a job would, its pages in ``jobs`` processes.

    Raises ``OcrError``: a submission's checks first (engine, options, document,
    page ranges), then the first page's error, with ``page`` set.
    """
    check_engine_options(options)
    engine = registry.get_engine(options.engine)
    info = document.inspect(data, limits())
    numbers = options.page_numbers(info.page_count)
    if jobs > 1 and len(numbers) > 1:
        n = len(numbers)
        with ProcessPoolExecutor(max_workers=min(jobs, n)) as pool:
            dicts = pool.map(_read_one, [data] * n, [info.content_type] * n, [options] * n, numbers)
            pages = [PageResult.from_dict(d) for d in dicts]
    else:
        pages = [
            outcome.result
            for outcome in document.read_pages(
                data,
                info.content_type,
                engine=engine,
                options=options,
                limits=limits(),
                numbers=numbers,
            )
        ]
    return document.document_of(pages, engine=engine, options=options)


class Command(BaseCommand):
    help = "OCR local image (or PDF) files and print their text (or --json)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "-l",
            "--languages",
            default=settings.OCR_DEFAULT_LANGUAGES,
            help="Tesseract languages, e.g. eng+deu",
        )
        parser.add_argument("--engine", default=settings.OCR_DEFAULT_ENGINE)
        parser.add_argument("--psm", type=int, default=None, help="page segmentation mode")
        parser.add_argument("--oem", type=int, default=None, help="OCR engine mode")
        parser.add_argument("--pages", default=None, help="page ranges, e.g. 1-3,7")
        parser.add_argument("--rotate", choices=["auto", "off"], default=None)
        parser.add_argument(
            "--no-deskew",
            dest="deskew",
            action="store_false",
            default=None,
            help="do not straighten small skew angles",
        )
        parser.add_argument(
            "--clean", action="store_true", default=None, help="binarise and denoise first"
        )
        parser.add_argument("--dpi", type=int, default=None, help="image resolution (images)")
        parser.add_argument(
            "--pdf-text",
            dest="pdf_text",
            choices=["ocr", "use"],
            default=None,
            help="use: take a PDF page's own text layer instead of OCR",
        )
        parser.add_argument(
            "-j",
            "--jobs",
            type=int,
            default=1,
            help=f"processes for the pages of a multi-page file (this machine has "
            f"{os.cpu_count()} CPUs)",
        )
        parser.add_argument("--json", action="store_true", help="print the result schema")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["jobs"] < 1:
            raise CommandError("--jobs must be 1 or more")
        job_options = JobOptions.from_request(
            {name: options[name] for name in PIPELINE_OPTION_NAMES},
            engine=options["engine"],
            languages=options["languages"],
        )
        failed = 0
        results = []
        for path in options["files"]:
            try:
                doc = ocr_bytes(path.read_bytes(), job_options, jobs=options["jobs"])
            except OSError as exc:
                failed += 1
                self.stderr.write(f"{path}: cannot read: {exc.strerror or exc}")
                continue
            except OcrError as exc:
                failed += 1
                where = f"page {exc.page}: " if exc.page else ""
                self.stderr.write(f"{path}: {exc.code}: {where}{exc.message}")
                continue
            if options["json"]:
                results.append({"file": str(path), **doc.to_dict()})
            else:
                if len(options["files"]) > 1:
                    self.stdout.write(f"==> {path} <==")
                self.stdout.write(doc.text)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    results if len(results) != 1 else results[0], ensure_ascii=False, indent=2
                )
            )
        if failed:
            raise CommandError(f"{failed} file(s) failed")
