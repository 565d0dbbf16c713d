"""Frames of images as OCR pages: how many pages a file has, and the mode they take.

Policy: every frame of a TIFF is a page; for animated formats (GIF, WebP,
PNG) only the first frame is used, as a browser would show it. Pages are
converted to ``L`` or ``RGB`` (:func:`to_ocr_mode`); decoding them one at a
time is :func:`app.pipeline.inputs.iter_image_pages`. Pure functions, no Django.

A page has at most :data:`MAX_SIDE` pixels a side (:func:`check_sides`):
submission (``inputs``), PDF rendering (``pdf``), preprocessing
(``preprocess``) and the Tesseract engine all hold pages to it.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops

from app.errors import OcrError

#: Longest side, in pixels, of a page image OCR can read. Tesseract refuses a
#: wider or taller one: ``TessBaseAPI::FindLines`` (tesseract src/api/baseapi.cpp)
#: prints "Image too large: (W, H)" and returns -1, so that ``Recognize()``
#: fails the page, when ``ImageWidth() > MAX_INT16 || ImageHeight() > MAX_INT16``
#: (MAX_INT16 = 32767, src/ccutil/host.h). Measured with Debian's tesseract
#: 5.3.0: a 32767 x 20 px image is read, a 32768 x 20 px one is refused. The
#: pixel budget (``OCR_MAX_PIXELS``) does not catch it: 60000 x 30 px is 1.8 MP.
MAX_SIDE = 32_767


def check_sides(
    width: int, height: int, *, field: str | None = "image", what: str = "image"
) -> None:
    """Raise ``OcrError("too_many_pixels")`` (413) when a side of a ``width`` x
    ``height`` px image exceeds :data:`MAX_SIDE` pixels.

    ``what`` names the thing in the message (``"image"``, ``"page"``):
    "The image is 60,000 x 30 px; the longest side OCR can read is 32,767 px."
    """
    if max(width, height) > MAX_SIDE:
        raise OcrError(
            "too_many_pixels",
            f"The {what} is {width:,} x {height:,} px; "
            f"the longest side OCR can read is {MAX_SIDE:,} px.",
            field=field,
        )


#: Formats whose frames are pages; everything else contributes its first frame.
MULTIPAGE_FORMATS = frozenset({"TIFF"})


def frame_count(image: Image.Image) -> int:
    """Number of pages ``image`` (an opened Pillow image) contributes.

    All frames for TIFF, 1 for GIF/WebP/APNG and every single-frame format.
    """
    if (image.format or "").upper() in MULTIPAGE_FORMATS:
        return max(1, int(getattr(image, "n_frames", 1)))
    return 1


def to_ocr_mode(frame: Image.Image) -> Image.Image:
    """Return ``frame`` as an ``L`` (grey) or ``RGB`` image, alpha flattened on white.

    16/32-bit grey (``I;16``, ``I``, ``F``) beyond 0-255 is stretched from its
    own min-max range to 8 bits, not clipped; bilevel ``1`` becomes ``L``;
    CMYK/YCbCr/LAB become RGB. A colour image whose pixels are all grey (a
    palette of greys, or R = G = B everywhere) becomes ``L``: see :func:`grey_if_grey`.
    The ``dpi`` entry of ``frame.info`` is kept.
    """
    out = _convert(frame)
    if out is not frame and "dpi" in frame.info:
        out.info["dpi"] = frame.info["dpi"]
    return out


#: Colour images at least this many pixels a side are first checked at 1/8 scale.
_GREY_PRECHECK_SIDE = 64
#: Rows compared at a time, so the check's buffers stay small on a large page.
_GREY_STRIP_ROWS = 256


def _bands_equal(image: Image.Image) -> bool:
    """True when R = G = B in every pixel of an ``RGB`` image (checked strip by strip)."""
    for top in range(0, image.height, _GREY_STRIP_ROWS):
        strip = image.crop((0, top, image.width, min(image.height, top + _GREY_STRIP_ROWS)))
        red, green, blue = strip.split()
        if (
            ImageChops.difference(red, green).getbbox() is not None
            or ImageChops.difference(green, blue).getbbox() is not None
        ):
            return False
    return True


def grey_if_grey(image: Image.Image) -> Image.Image:
    """An ``RGB`` image whose pixels all have R = G = B, as ``L``; any other image as is.

    Lossless (Pillow's ``L`` of a grey pixel is its value). Tesseract reads
    the ``L`` image faster with the same text, because it thresholds one
    channel instead of three and copies a quarter of the bytes, and it is what
    the ``tesseract`` command itself sees for a grey or bilevel file
    (Leptonica keeps its depth). Measured on OCRmyPDF's test scans: linn.png
    3.4 -> 2.6 s, kcs page 1 0.09 -> 0.05 s, same text (bench/throughput.py).
    The check costs 1-2 ms per megapixel; a colour image is usually told at
    1/8 scale (block means of grey pixels are grey) for a fraction of that.
    The ``dpi`` entry of ``image.info`` is kept.
    """
    if image.mode != "RGB":
        return image
    if min(image.size) >= _GREY_PRECHECK_SIDE and not _bands_equal(image.reduce(8)):
        return image
    if not _bands_equal(image):
        return image
    return image.convert("L")  # convert keeps ``info``, the dpi with it


def _grey_palette(frame: Image.Image) -> bool:
    """True when every colour of a ``P`` image's palette is a grey (R = G = B)."""
    palette = frame.getpalette() or []
    return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette), 3))


def _convert(frame: Image.Image) -> Image.Image:
    return grey_if_grey(_convert_mode(frame))


def _convert_mode(frame: Image.Image) -> Image.Image:
    mode = frame.mode
    if mode in ("L", "RGB"):
        return frame
    if mode == "1":
        return frame.convert("L")
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(frame, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        if hi <= 255 and lo >= 0:
            lo, hi = 0.0, 255.0
        scale = 255.0 / (hi - lo) if hi > lo else 1.0
        out = np.clip((arr - lo) * scale, 0, 255).astype(np.uint8)
        return Image.fromarray(out, mode="L")
    if mode == "P" and "transparency" in frame.info:
        frame = frame.convert("RGBA")
        mode = "RGBA"
    elif mode == "P":
        return frame.convert("L" if _grey_palette(frame) else "RGB")
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        rgba = frame.convert("RGBA")
        grey = mode in ("LA", "La")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(background, rgba)
        return flat.convert("L" if grey else "RGB")
    return frame.convert("RGB")
