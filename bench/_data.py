"""Shared helpers for the benchmarks: real scans, PDF rasterising, CER, Django setup.

The scans are OCRmyPDF's test resources (``tests/resources/*`` of the
``ocrmypdf==17.13.0`` sdist on PyPI). :func:`resources` downloads the sdist
once with ``pip download --no-deps --no-binary :all:`` and extracts only that
folder into ``bench/.cache/resources/`` (git-ignored; never committed).

Not a benchmark itself; imported by ``bench/throughput.py``,
``bench/accuracy.py`` and ``bench/memory.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CACHE = BENCH / ".cache"
RESOURCES = CACHE / "resources"
PAGES = CACHE / "pages"
OCRMYPDF_VERSION = "17.13.0"
_PREFIX = f"ocrmypdf-{OCRMYPDF_VERSION}/tests/resources/"


def resources() -> Path:
    """The folder holding OCRmyPDF's ``tests/resources`` files (fetched on first use)."""
    marker = RESOURCES / ".complete"
    if marker.exists():
        return RESOURCES
    sdist_dir = CACHE / "sdist"
    tarball = sdist_dir / f"ocrmypdf-{OCRMYPDF_VERSION}.tar.gz"
    if not tarball.exists():
        sdist_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"ocrmypdf=={OCRMYPDF_VERSION}",
                "-d",
                str(sdist_dir),
            ],
            check=True,
        )
    RESOURCES.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith(_PREFIX):
                continue
            name = member.name[len(_PREFIX) :]
            if "/" in name or not name:
                continue
            src = tar.extractfile(member)
            assert src is not None
            (RESOURCES / name).write_bytes(src.read())
    marker.write_text(OCRMYPDF_VERSION)
    return RESOURCES


def resource(name: str) -> Path:
    """Path of one resource file, e.g. ``resource("linn.png")``."""
    path = resources() / name
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


def rasterize_pdf(path: Path, dpi: int = 300) -> list[Path]:
    """The PDF's pages as PNG files at ``dpi`` (pypdfium2, as the service renders), cached.

    Uses the service's own renderer (``app.pipeline.pdf.render_pages``) so the
    CLI baseline reads exactly the pixels the service reads.
    """
    out_dir = PAGES / f"{path.stem}-{dpi}"
    done = out_dir / ".complete"
    if done.exists():
        return sorted(out_dir.glob("*.png"))
    django_setup()
    from app.pipeline import pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    for number, image, used_dpi in pdf.render_pages(path, None, dpi, max_pixels=80_000_000):
        image.save(out_dir / f"page-{number:03d}.png", dpi=(used_dpi, used_dpi))
        image.close()
    done.write_text("ok")
    return sorted(out_dir.glob("*.png"))


def django_setup(**env: str) -> None:
    """Configure Django (``onlineocr.settings``) in this process; ``env`` overrides first."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for key, value in env.items():
        os.environ[key] = value
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onlineocr.settings")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def levenshtein(a: str, b: str) -> int:
    """Edit distance between two strings (insertions, deletions, substitutions).

    Row-by-row dynamic programming vectorised with numpy: the left-neighbour
    term ``cur[j-1] + 1`` is a running minimum of ``cur - j``, so each row is a
    few array operations (fast enough for whole multi-page documents).
    """
    import numpy as np

    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    bb = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    idx = np.arange(len(b) + 1, dtype=np.int64)
    prev = idx.copy()
    for i, ch in enumerate(a.encode("utf-32-le").decode("utf-32-le"), 1):
        cost = (bb != ord(ch)).astype(np.int64)
        cur = np.empty_like(prev)
        cur[0] = i
        cur[1:] = np.minimum(prev[1:] + 1, prev[:-1] + cost)
        cur = np.minimum.accumulate(cur - idx) + idx
        prev = cur
    return int(prev[-1])


def normalize(text: str) -> str:
    """Text compared by CER: whitespace runs collapsed to one space, ends stripped.

    Layout (line breaks, blank lines, form feeds) is not what CER measures here;
    the characters and the word separations are.
    """
    return " ".join(text.split())


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values``, linear interpolation."""
    if not values:
        return float("nan")
    data = sorted(values)
    pos = (len(data) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)
