"""``python manage.py ocr FILE...``: OCR local files with the service's pipeline.

Runs in this process (no queue, no database writes) and prints the text of
each file, or the result schema with ``--json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from app.errors import OcrError
from app.pipeline import ocr_file


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
        parser.add_argument("--pages", default=None, help="page ranges, e.g. 1-3,7")
        parser.add_argument("--json", action="store_true", help="print the result schema")

    def handle(self, *args, **options) -> None:
        failed = 0
        results = []
        for path in options["files"]:
            try:
                doc = ocr_file.ocr_path(
                    path,
                    engine=options["engine"],
                    languages=tuple(options["languages"].split("+")),
                    psm=options["psm"],
                    pages=options["pages"],
                )
            except OSError as exc:
                failed += 1
                self.stderr.write(f"{path}: cannot read: {exc.strerror or exc}")
                continue
            except OcrError as exc:
                failed += 1
                self.stderr.write(f"{path}: {exc.code}: {exc.message}")
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
