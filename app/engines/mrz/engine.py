"""The local MRZ engine (``engine=mrz``): reads the machine readable zone of
passports, visas and ID cards (ICAO Doc 9303 TD1, TD2, TD3, MRV-A, MRV-B).

Per page:

1. :func:`app.engines.mrz.locate.find_regions` proposes up to 3 regions
   (stacks of 2 or 3 long text bands, best first) with their skew;
2. each region is cropped, straightened and scaled so a text band is about
   :data:`TARGET_BAND` pixels tall, then read by Tesseract (``eng``, psm 6,
   whitelist ``A-Z0-9<``, dictionaries off), upright and turned 180 degrees
   (the upside-down reading first when the region lies in the upper half);
3. :func:`app.engines.mrz.icao.find_mrz` fits the lines to a layout, fixes
   confusions by field type and checks every check digit; the reading with
   the best ``valid_score`` wins, stopping early at 100.

The page's ``mrz`` is the ICAO result plus ``bbox`` (``[l, t, r, b]`` of the
zone in the page image as returned, i.e. after ``rotation``); its blocks hold
the MRZ lines as corrected. Without an MRZ, ``mrz`` is
``{"mrz_detected": False}`` and the blocks hold an ordinary Tesseract reading
of the page (psm 3, no whitelist).

One ``PyTessBaseAPI`` is loaded per engine instance and serialised by a lock.
tesserocr's OSD entry points are never called (see :mod:`app.engines.tesseract`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from app.engines.base import EngineInfo, EngineOptions, OcrEngine
from app.engines.mrz import cells, icao
from app.engines.mrz.cells import Symbol
from app.engines.mrz.locate import Region, find_regions
from app.engines.tesseract import find_tessdata, parse_tsv  # its public helpers (__all__)
from app.errors import OcrError
from app.pipeline.schema import Block, Line, PageResult, Word, union_bbox

ENGINE_NAME = "mrz"
#: Height in pixels of one MRZ text band in the crop handed to Tesseract.
TARGET_BAND = 34.0
#: Band heights tried in turn while no reading has all check digits right.
BAND_HEIGHTS = (TARGET_BAND, 48.0)
WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
#: Tesseract variables set when the model loads: no dictionary for MRZ strings.
INIT_VARIABLES = {"load_system_dawg": "F", "load_freq_dawg": "F"}


@dataclass(frozen=True, slots=True)
class MrzConfig:
    """Engine configuration: the tessdata folder (None when not found)."""

    tessdata_dir: str | None

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> MrzConfig:
        return cls(tessdata_dir=find_tessdata(config.get("OCR_TESSDATA_DIR", "") or ""))


@dataclass(slots=True)
class _Reading:
    """One OCR attempt: the ICAO result and the MRZ lines in page pixels."""

    result: dict[str, Any]
    lines: list[Line]
    rotation: int


class MrzEngine(OcrEngine):
    """Reads the MRZ of a travel document image. See the module docstring.

    Accepts any languages (the MRZ alphabet does not depend on them: the base
    class's ``check_options``), takes no options of its own, and prepares its
    pages itself (``preprocess = False``; it turns an upside-down zone).
    """

    name = ENGINE_NAME
    kind = "local"

    def __init__(self, config: MrzConfig) -> None:
        self.config = config
        self._api: Any = None
        self._lock = threading.Lock()
        self._version = ""
        self._reason = ""
        try:
            import tesserocr

            self._tesserocr: Any = tesserocr
            self._version = tesserocr.tesseract_version().split()[1]
        except ImportError as exc:  # pragma: no cover - depends on the install
            self._tesserocr = None
            self._reason = f"tesserocr is not installed: {exc}"
        if not self._reason and not self._has_eng():
            self._reason = "no eng.traineddata found: install tesseract-ocr-eng"

    def _has_eng(self) -> bool:
        return (
            bool(self.config.tessdata_dir)
            and (Path(self.config.tessdata_dir or "") / "eng.traineddata").is_file()
        )

    # -- info -----------------------------------------------------------------------
    def info(self) -> EngineInfo:
        return EngineInfo(
            name=self.name,
            title="MRZ (passports, visas, ID cards)",
            available=not self._reason,
            version=self._version,
            languages=("eng",) if not self._reason else (),
            kind=self.kind,
            reason=self._reason,
        )

    # -- recognition --------------------------------------------------------------------
    def _get_api(self) -> Any:
        if self._api is None:
            if self._reason:
                raise OcrError("engine_unavailable", self._reason, field="engine")
            self._api = self._tesserocr.PyTessBaseAPI(
                path=str(self.config.tessdata_dir).rstrip("/") + "/",
                lang="eng",
                oem=self._tesserocr.OEM.LSTM_ONLY,
                init=True,
                variables=INIT_VARIABLES,
            )
        return self._api

    def _tsv(self, image: Image.Image, *, psm: int, whitelist: str, deadline: float) -> str:
        """Tesseract TSV of ``image`` (grey) in page segmentation mode ``psm``."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OcrError("timeout", "The MRZ reading did not finish in time.")
        with self._lock:
            api = self._get_api()
            try:
                api.SetVariable("tessedit_char_whitelist", whitelist)
                api.SetPageSegMode(psm)
                api.SetImage(image)
                if not api.Recognize(timeout=int(remaining * 1000)):
                    raise OcrError("timeout", "The MRZ reading did not finish in time.")
                return api.GetTSVText(0)
            finally:
                api.Clear()

    def _symbols(self, image: Image.Image, *, deadline: float) -> list[list[Symbol]]:
        """Tesseract's symbols of ``image`` (psm 6, MRZ whitelist), grouped by text line."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OcrError("timeout", "The MRZ reading did not finish in time.")
        tesserocr = self._tesserocr
        lines: list[list[Symbol]] = []
        with self._lock:
            api = self._get_api()
            try:
                api.SetVariable("tessedit_char_whitelist", WHITELIST)
                api.SetPageSegMode(tesserocr.PSM.SINGLE_BLOCK)
                api.SetImage(image)
                if not api.Recognize(timeout=int(remaining * 1000)):
                    raise OcrError("timeout", "The MRZ reading did not finish in time.")
                it = api.GetIterator()
                level = tesserocr.RIL.SYMBOL
                if it is None:
                    return lines
                while True:
                    text = (it.GetUTF8Text(level) or "").strip()
                    box = it.BoundingBox(level)
                    if it.IsAtBeginningOf(tesserocr.RIL.TEXTLINE) or not lines:
                        lines.append([])
                    if text and box:
                        lines[-1].append(Symbol(text, tuple(box), it.Confidence(level)))
                    if not it.Next(level):
                        break
            finally:
                api.Clear()
        return [ln for ln in lines if ln]

    def _char(self, image: Image.Image, *, deadline: float) -> str:
        """One character read from a cell image (psm 10, MRZ whitelist); may be ""."""
        tsv = self._tsv(image, psm=10, whitelist=WHITELIST, deadline=deadline)
        page = parse_tsv(tsv, page_number=1, width=image.width, height=image.height, dpi=None)
        return "".join(w.text for w in page.words())

    def recognize_page(
        self, image: Image.Image, *, page_number: int, options: EngineOptions
    ) -> PageResult:
        """Read the MRZ of ``image``; see the module docstring for the result."""
        self.check_options(options)
        deadline = time.monotonic() + options.timeout
        gray = image.convert("L")
        width, height = gray.size
        regions = find_regions(np.asarray(gray))
        best: _Reading | None = None
        flipped: Image.Image | None = None
        for region in regions:
            upper = (region.bbox[1] + region.bbox[3]) / 2 < height / 2
            for rotation in (180, 0) if upper else (0, 180):
                if rotation == 180 and flipped is None:
                    flipped = gray.rotate(180)
                page_img = flipped if rotation == 180 else gray
                box = region.bbox if rotation == 0 else _flip_box(region.bbox, width, height)
                reading = self._read_region(page_img, box, region, rotation, deadline)
                if reading and (best is None or _rank(reading) > _rank(best)):
                    best = reading
                if best and best.result["valid_score"] == 100:
                    break
            if best and best.result["valid_score"] == 100:
                break
        if best is None:
            return self._no_mrz(gray, page_number=page_number, options=options, deadline=deadline)
        mrz = dict(best.result)
        mrz["bbox"] = union_bbox(ln.bbox for ln in best.lines)
        block = Block.from_lines(best.lines)
        return PageResult.from_blocks(
            number=page_number,
            width=width,
            height=height,
            blocks=[block],
            dpi=options.dpi,
            rotation=best.rotation,
            skew=round(regions[0].angle, 2) if regions else 0.0,
            mrz=mrz,
        )

    def _read_region(
        self,
        page_img: Image.Image,
        box: tuple[int, int, int, int],
        region: Region,
        rotation: int,
        deadline: float,
    ) -> _Reading | None:
        """OCR one region of ``page_img`` (already turned by ``rotation``) at each of
        :data:`BAND_HEIGHTS` until every check digit validates; the best reading."""
        best: _Reading | None = None
        for band in BAND_HEIGHTS:
            reading = self._read_scaled(page_img, box, region, rotation, deadline, band)
            if reading and (best is None or _rank(reading) > _rank(best)):
                best = reading
            if best and best.result["valid_score"] == 100:
                break
        return best

    def _read_scaled(
        self,
        page_img: Image.Image,
        box: tuple[int, int, int, int],
        region: Region,
        rotation: int,
        deadline: float,
        band: float,
    ) -> _Reading | None:
        """One reading of a region scaled so a text band is ``band`` pixels tall."""
        crop = np.asarray(page_img.crop(box))
        h, w = crop.shape
        scale = min(3.0, max(0.4, band / max(region.line_height, 1.0)))
        # straighten: the band's skew is the same after a 180 degree turn
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -region.angle, scale)
        out_w, out_h = round(w * scale), round(h * scale)
        matrix[0, 2] += (out_w - w) / 2
        matrix[1, 2] += (out_h - h) / 2
        work = cv2.warpAffine(
            crop, matrix, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
        )
        binary = _binarise(work)
        sym_lines = self._symbols(Image.fromarray(work), deadline=deadline)
        work_img = Image.fromarray(work)

        def read_cell(cell: tuple[int, int, int, int]) -> str:
            pad = (cell[3] - cell[1]) // 3
            padded = (cell[0] - pad, cell[1] - pad, cell[2] + pad, cell[3] + pad)
            return self._char(work_img.crop(padded), deadline=deadline)

        ocr_lines = [cells.read_line(binary, syms, read_cell) for syms in sym_lines]
        confidences = [round(float(np.mean([s.confidence for s in syms])), 2) for syms in sym_lines]
        found = icao.find_mrz([text for text, _ in ocr_lines])
        if found is None:
            return None
        result, indices = found
        inverse = cv2.invertAffineTransform(matrix)
        lines = []
        for text, idx in zip(result["raw"], indices, strict=True):
            bbox = _map_box(list(ocr_lines[idx][1]), inverse, box)
            conf = confidences[idx]
            lines.append(
                Line(bbox=bbox, text=text, confidence=conf,
                     words=[Word(bbox=bbox, text=text, confidence=conf)])
            )  # fmt: skip
        return _Reading(result=result, lines=lines, rotation=rotation)

    def _no_mrz(
        self, gray: Image.Image, *, page_number: int, options: EngineOptions, deadline: float
    ) -> PageResult:
        """The page read as ordinary text, with ``mrz = {"mrz_detected": False}``."""
        tsv = self._tsv(gray, psm=3, whitelist="", deadline=deadline)
        page = parse_tsv(
            tsv, page_number=page_number, width=gray.width, height=gray.height, dpi=options.dpi
        )
        page.mrz = {"mrz_detected": False}
        return page

    def close(self) -> None:
        """Release the loaded model."""
        with self._lock:
            if self._api is not None:
                self._api.End()
                self._api = None


def _binarise(gray: np.ndarray) -> np.ndarray:
    """Ink mask (``True`` = dark) of a grey crop, by Otsu's threshold."""
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return mask > 0


def _rank(reading: _Reading) -> tuple[int, int]:
    return reading.result["valid_score"], len(reading.result["raw"])


def _flip_box(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """``box`` in the pixels of the image turned 180 degrees."""
    left, top, right, bottom = box
    return width - right, height - bottom, width - left, height - top


def _map_box(bbox: list[int], inverse: np.ndarray, box: tuple[int, int, int, int]) -> list[int]:
    """A box of the straightened crop back in page pixels (axis-aligned hull)."""
    left, top, right, bottom = bbox
    corners = np.array([[left, top, 1], [right, top, 1], [left, bottom, 1], [right, bottom, 1]])
    pts = corners @ inverse.T + np.array([box[0], box[1]])
    return [
        int(math.floor(pts[:, 0].min())),
        int(math.floor(pts[:, 1].min())),
        int(math.ceil(pts[:, 0].max())),
        int(math.ceil(pts[:, 1].max())),
    ]


def build(config: Mapping[str, Any]) -> MrzEngine:
    """Registry factory: an :class:`MrzEngine` from the ``OCR_*`` settings mapping."""
    return MrzEngine(MrzConfig.from_mapping(config))
