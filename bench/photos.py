"""The photo set of ``bench/accuracy.py``: camera simulations of the OCRmyPDF scans.

No real phone photo of a document with a checked transcription could be had
from the package registries this project reaches (docs/photos-bench.md says
what was looked at), so every photo here is a *simulation*: one of the scans
whose reference is exact (``bench/reference/``) put through what a phone
camera does to a page. The reference of a photo is its scan's reference.

Each photo is made at run time into ``bench/.cache/photos-v1/<name>.jpg``
(git-ignored, never committed) from a fixed seed, so two runs read the same
pixels. Names say what the photo is: ``<scan>-<effect>``.

Every photo is a JPEG written as a phone camera writes one: a 3:4 frame of
2250 x 3000 pixels (6.75 megapixels; a 12 MP photo scaled by 0.75), quality
92, and EXIF ``XResolution``/``YResolution`` = 72 DPI with ``ResolutionUnit``
inches, the value iOS and Android camera apps store (it is not the page's
resolution; Pillow reports it as ``info["dpi"]``). The page is a warm white
paper (RGB 236, 232, 224) with ink at RGB 38, 36, 40 (a camera never records
pure black or white), sensor noise of sigma 3 grey levels and a lens blur of
sigma 0.7 pixels. The effects, one concept each (:data:`EFFECTS`):

* ``perspective``: the page photographed at an angle (a keystone quadrilateral
  covering about 70 % of the frame) on a dark, wood-like textured background.
* ``curved``: a book page bent toward the spine (left edge): lines curve
  down/up toward the spine and the page is foreshortened there; background
  around it.
* ``shaded``: uneven light on a grey page: paper at 80 % brightness, a
  vignette (corners at 60 %) and a shadow gradient across the page (down to
  45 %, as a hand or phone casts).
* ``dim-bleed``: a dim photo (45 % brightness, lower contrast, noise sigma 5)
  of a thin page: the reverse page's text shows through faintly, mirrored
  left to right and blurred by the paper.
* ``defocus``: out of focus, Gaussian blur of sigma 2.2 pixels.
* ``motion``: hand shake, a 13-pixel linear motion blur at 20 degrees.
* ``messenger-jpeg``: re-sent through a messaging app: scaled to 1200 x 1600
  pixels and saved at JPEG quality 60 (4:2:0 chroma subsampling).
* ``exif-sideways``: the JPEG stored as the sensor recorded it (turned 90
  degrees counter-clockwise) with EXIF ``Orientation`` = 6 ("rotate 90 CW to
  display"); a viewer, and Pillow's ``ImageOps.exif_transpose``, show it upright.
* ``phone``: all at once, as a quick handheld snapshot: perspective, shading,
  slight defocus (sigma 1.2), messenger JPEG.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import _data
import numpy as np
from PIL import Image

#: Bump when the simulation changes (old photos stay in their own folder).
VERSION = "v1"
PHOTOS = _data.CACHE / f"photos-{VERSION}"
#: The camera frame (width, height) in pixels: a 3:4 portrait phone photo.
FRAME = (2250, 3000)
PAPER = np.array([236.0, 232.0, 224.0])
INK = np.array([38.0, 36.0, 40.0])
#: EXIF tags (TIFF 6.0 / EXIF 2.3): Orientation, XResolution, YResolution, ResolutionUnit.
ORIENTATION, XRES, YRES, RES_UNIT = 0x0112, 0x011A, 0x011B, 0x0128
#: What phone camera apps store as the resolution (DPI); not the page's.
PHONE_DPI = 72
CAMERA_QUALITY = 92


@dataclass(frozen=True)
class Scan:
    """A page of the scan set: its file, page (1-based, PDFs), reference files, languages."""

    name: str
    page: int = 1
    references: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("eng",)


SCANS = {
    "linn": Scan("linn.png", references=("linn.txt",)),
    "typewriter": Scan("typewriter.png"),
    "c03-29": Scan("c03-29.pdf"),
    # The two-column page of A Tale of Two Cities (portrait).
    "tale": Scan("multipage.pdf", page=5, references=("tale-of-two-cities.txt",)),
}


@dataclass(frozen=True)
class Photo:
    """One simulated photo: ``name`` = ``<scan>-<effect>``; ``reverse``: the scan
    whose page shows through (``dim-bleed`` only)."""

    scan: str
    effect: str
    reverse: str | None = None

    @property
    def name(self) -> str:
        return f"{self.scan}-{self.effect}"

    @property
    def source(self) -> Scan:
        return SCANS[self.scan]


PHOTO_SET = [
    Photo("linn", "perspective"),
    Photo("typewriter", "perspective"),
    Photo("tale", "perspective"),
    Photo("c03-29", "curved"),
    Photo("tale", "curved"),
    Photo("linn", "shaded"),
    Photo("c03-29", "shaded"),
    Photo("linn", "dim-bleed", reverse="c03-29"),
    Photo("c03-29", "dim-bleed", reverse="tale"),
    Photo("typewriter", "defocus"),
    Photo("linn", "motion"),
    Photo("tale", "messenger-jpeg"),
    Photo("c03-29", "exif-sideways"),
    Photo("linn", "exif-sideways"),
    Photo("linn", "phone"),
]


# -- the page and the camera -----------------------------------------------------------


def scan_page(key: str) -> Image.Image:
    """The scan's page as a grey (``L``) image at its own resolution (PDFs at 300 DPI)."""
    scan = SCANS[key]
    path = _data.resource(scan.name)
    if path.suffix.lower() != ".pdf":
        with Image.open(path) as im:
            return im.convert("L")
    # Only the page used: rendering every page of multipage.pdf trips the
    # renderer's embedded-image limit on its 9000 x 9000 page 2.
    cached = PHOTOS / "pages" / f"{path.stem}-{scan.page:03d}-300.png"
    if not cached.exists():
        _data.django_setup()
        from app.pipeline import pdf

        cached.parent.mkdir(parents=True, exist_ok=True)
        for _, image, _ in pdf.render_pages(path, [scan.page], 300, max_pixels=80_000_000):
            image.save(cached)
    with Image.open(cached) as im:
        return im.convert("L")


def ink_share(page: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """Ink coverage 0..1 (float32, height x width) of ``page`` scaled to ``size`` (w, h)."""
    scaled = page.resize(size, Image.Resampling.LANCZOS)
    return 1.0 - np.asarray(scaled, dtype=np.float32) / 255.0


def paper_rgb(ink: np.ndarray) -> np.ndarray:
    """Ink coverage -> RGB float32 page: paper where 0, ink colour where 1."""
    ink = np.clip(ink, 0.0, 1.0)[..., None]
    return PAPER * (1.0 - ink) + INK * ink


def fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """``size`` (w, h) scaled to fit inside ``box`` (w, h), aspect kept."""
    factor = min(box[0] / size[0], box[1] / size[1])
    return max(1, round(size[0] * factor)), max(1, round(size[1] * factor))


def background(rng: np.random.Generator) -> np.ndarray:
    """A dark wood-like table top (RGB float32, FRAME): streaks along x, grain noise."""
    import cv2

    w, h = FRAME
    streaks = rng.normal(0, 1, (h // 16, 8)).astype(np.float32)
    streaks = cv2.resize(streaks, (w, h), interpolation=cv2.INTER_CUBIC)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 2)
    tone = 0.85 + 0.12 * streaks + 0.05 * grain
    return np.stack([88 * tone, 64 * tone, 46 * tone], axis=-1)


def camera(rgb: np.ndarray, rng: np.random.Generator, *, noise: float = 3.0,
           blur: float = 0.7) -> Image.Image:  # fmt: skip
    """Lens blur (sigma ``blur`` pixels) and sensor noise (sigma ``noise`` grey levels)."""
    import cv2

    out = cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), blur) if blur else rgb
    out = out + rng.normal(0, noise, out.shape[:2])[..., None]
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")


def flat(page: Image.Image) -> np.ndarray:
    """The page filling the frame (aspect kept, paper around it): ink coverage (h x w)."""
    size = fit(page.size, FRAME)
    ink = np.zeros((FRAME[1], FRAME[0]), np.float32)
    x, y = (FRAME[0] - size[0]) // 2, (FRAME[1] - size[1]) // 2
    ink[y : y + size[1], x : x + size[0]] = ink_share(page, size)
    return ink


# -- the effects ------------------------------------------------------------------------


def _on_background(page_rgb: np.ndarray, map_x: np.ndarray, map_y: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Sample ``page_rgb`` at (map_x, map_y) for every frame pixel; background outside."""
    import cv2

    h, w = page_rgb.shape[:2]
    warped = cv2.remap(page_rgb.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
    inside = ((map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)).astype(np.float32)
    inside = cv2.GaussianBlur(inside, (0, 0), 1.0)[..., None]  # soft page edge
    return warped * inside + background(rng) * (1 - inside)


def perspective(page: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """The page as a keystone quadrilateral on the table (RGB float32, FRAME)."""
    import cv2

    w, h = FRAME
    size = fit(page.size, (int(w * 0.86), int(h * 0.86)))
    rgb = paper_rgb(ink_share(page, size))
    jitter = rng.uniform(-30, 30, (4, 2))
    # Camera tilted back and a little to the left: the top edge shorter than the bottom.
    quad = np.array(
        [[0.19 * w, 0.11 * h], [0.86 * w, 0.14 * h], [0.95 * w, 0.93 * h], [0.05 * w, 0.89 * h]]
    )
    if size[0] > size[1]:  # a landscape page: keep its aspect in the quadrilateral
        quad = np.array(
            [[0.08 * w, 0.27 * h], [0.90 * w, 0.30 * h], [0.96 * w, 0.70 * h], [0.03 * w, 0.68 * h]]
        )
    quad = (quad + jitter).astype(np.float32)
    corners = np.array([[0, 0], [size[0] - 1, 0], [size[0] - 1, size[1] - 1], [0, size[1] - 1]],
                       np.float32)  # fmt: skip
    inverse = cv2.getPerspectiveTransform(quad, corners)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    pts = np.stack([xs, ys, np.ones_like(xs)], axis=-1) @ inverse.T.astype(np.float32)
    return _on_background(rgb, pts[..., 0] / pts[..., 2], pts[..., 1] / pts[..., 2], rng)


def curved(page: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """A book page bent toward the spine on the left (RGB float32, FRAME).

    Frame -> page map: with ``s`` = 1 at the spine falling to 0 at 70 % of the
    page width (cubic), lines are displaced vertically by ``0.05 H s^2`` times
    their distance from the page's middle (relative) plus a 1.2 % bulge, and
    the page is foreshortened near the spine (``0.3 W s^2 u (1 - u)`` at
    relative position ``u``, so its edge stays in view).
    """
    w, h = FRAME
    size = fit(page.size, (int(w * 0.88), int(h * 0.9)))
    rgb = paper_rgb(ink_share(page, size))
    x0, y0 = (w - size[0]) / 2, (h - size[1]) / 2
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    u = (xs - x0) / size[0]
    v = (ys - y0) / size[1]
    s = np.clip(1 - u / 0.7, 0, 1) ** 1.5
    rel = v - 0.5
    v_src = v + 0.10 * s**2 * rel - 0.012 * np.sin(np.pi * np.clip(u, 0, 1))
    u_src = u + 0.3 * s**2 * u * (1 - u)
    return _on_background(rgb, u_src * size[0], v_src * size[1], rng)


def shaded(page: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """A grey page under uneven light: vignette x shadow gradient x 0.8 (RGB float32)."""
    rgb = paper_rgb(flat(page))
    w, h = FRAME
    xs, ys = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
    vignette = 1 - 0.4 * np.clip((xs**2 + ys**2) / 2, 0, 1)
    shadow = np.clip(0.45 + 0.55 * (xs * 0.6 + ys * 0.8 + 1.0) / 1.2, 0.45, 1.0)
    return rgb * (0.8 * vignette * shadow)[..., None]


def dim_bleed(page: Image.Image, reverse: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """A dim photo of a thin page whose reverse shows through, mirrored (RGB float32).

    The reverse page's ink, flipped left to right and blurred (sigma 3 px),
    darkens the paper by up to 30 %; the whole is at 45 % brightness, with
    the ink lifted (a dim exposure has less contrast).
    """
    import cv2

    ink = flat(page)
    back = flat(reverse)[:, ::-1]
    back = cv2.GaussianBlur(np.ascontiguousarray(back), (0, 0), 3.0)
    rgb = paper_rgb(ink) * (1 - 0.30 * back)[..., None]
    return 0.45 * rgb + 18.0


def motion_blur(rgb: np.ndarray, length: int = 13, angle: float = 20.0) -> np.ndarray:
    """A linear motion blur of ``length`` pixels at ``angle`` degrees (RGB float32)."""
    import cv2

    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    turn = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, turn, (length, length))
    return cv2.filter2D(rgb.astype(np.float32), -1, kernel / kernel.sum())


# -- files --------------------------------------------------------------------------------


def jpeg(image: Image.Image, *, quality: int = CAMERA_QUALITY, orientation: int = 1) -> bytes:
    """JPEG bytes with a phone camera's EXIF: ``orientation`` and 72 DPI (see module doc)."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[XRES] = PHONE_DPI
    exif[YRES] = PHONE_DPI
    exif[RES_UNIT] = 2  # inches
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality, subsampling="4:2:0", exif=exif.tobytes())
    return buf.getvalue()


def messenger(image: Image.Image) -> bytes:
    """What a messaging app sends: 1200 x 1600 pixels, JPEG quality 60."""
    small = image.resize(fit(image.size, (1200, 1600)), Image.Resampling.LANCZOS)
    return jpeg(small, quality=60)


def make(photo: Photo) -> bytes:
    """The photo's JPEG bytes (deterministic: seeded from its name)."""
    rng = np.random.default_rng(abs(hash_name(photo.name)))
    page = scan_page(photo.scan)
    effects: dict[str, Callable[[], bytes]] = {
        "perspective": lambda: jpeg(camera(perspective(page, rng), rng)),
        "curved": lambda: jpeg(camera(curved(page, rng), rng)),
        "shaded": lambda: jpeg(camera(shaded(page, rng), rng)),
        "dim-bleed": lambda: jpeg(
            camera(dim_bleed(page, scan_page(photo.reverse or "tale"), rng), rng, noise=5.0)
        ),
        "defocus": lambda: jpeg(camera(paper_rgb(flat(page)), rng, blur=2.2)),
        "motion": lambda: jpeg(camera(motion_blur(paper_rgb(flat(page))), rng)),
        "messenger-jpeg": lambda: messenger(camera(paper_rgb(flat(page)), rng)),
        "exif-sideways": lambda: jpeg(
            camera(paper_rgb(flat(page)), rng).transpose(Image.Transpose.ROTATE_90),
            orientation=6,
        ),
        "phone": lambda: messenger(camera(_phone_light(perspective(page, rng)), rng, blur=1.2)),
    }
    return effects[photo.effect]()


def _phone_light(rgb: np.ndarray) -> np.ndarray:
    """The ``shaded`` light (vignette and shadow, 85 % brightness) on any frame."""
    w, h = FRAME
    xs, ys = np.meshgrid(np.linspace(-1, 1, w), np.linspace(-1, 1, h))
    vignette = 1 - 0.4 * np.clip((xs**2 + ys**2) / 2, 0, 1)
    shadow = np.clip(0.5 + 0.5 * (xs * 0.6 + ys * 0.8 + 1.0) / 1.2, 0.5, 1.0)
    return rgb * (0.85 * vignette * shadow)[..., None]


def hash_name(name: str) -> int:
    """A stable seed from a name (Python's ``hash`` of str changes per process)."""
    import zlib

    return zlib.crc32(name.encode("utf-8"))


EFFECTS = sorted({p.effect for p in PHOTO_SET})


def photo_path(photo: Photo) -> Path:
    """The photo's JPEG in ``bench/.cache/photos-v1/``, made on first use."""
    path = PHOTOS / f"{photo.name}.jpg"
    if not path.exists():
        PHOTOS.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(make(photo))
        tmp.replace(path)
    return path


def reference_names(photo: Photo) -> tuple[str, ...]:
    """The reference files (bench/reference/) of the photo's page."""
    scan = photo.source
    return scan.references or (f"{scan.name}.txt",)


if __name__ == "__main__":
    for item in PHOTO_SET:
        print(photo_path(item))
