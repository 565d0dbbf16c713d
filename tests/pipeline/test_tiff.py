"""Multi-frame images: every TIFF frame is a page; GIF/WebP give their first frame."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.errors import OcrError
from app.pipeline.frames import frame_count, to_ocr_mode
from app.pipeline.inputs import iter_image_pages


def _frame(i: int, mode: str = "RGB", size=(120, 80)) -> Image.Image:
    """A white frame with a dark red square (a colour image) at x = 10 i."""
    img = Image.new("RGB", size, "white")
    ImageDraw.Draw(img).rectangle([10 * i, 10, 10 * i + 9, 19], fill=(160, 0, 0))
    return img.convert(mode)


def iter_frames(path, page_numbers=None) -> list[tuple[int, Image.Image]]:
    """The pages of an image file as a job decodes them: (number, image)."""
    pages = iter_image_pages(path, max_pixels=10_000_000, page_numbers=page_numbers)
    return [(page.number, page.image) for page in pages]


def _black_square_x(img: Image.Image) -> int:
    arr = np.asarray(img.convert("L"))
    cols = np.where((arr < 128).any(axis=0))[0]
    return int(cols[0])


def test_multipage_tiff_all_frames(tmp_path):
    path = tmp_path / "multi.tiff"
    frames = [_frame(i) for i in range(5)]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(200, 200))
    with Image.open(path) as img:
        assert frame_count(img) == 5
    got = list(iter_frames(path))
    assert [n for n, _ in got] == [1, 2, 3, 4, 5]
    for n, img in got:
        assert img.mode == "RGB"
        assert img.size == (120, 80)
        # each page is its own frame, not the first one repeated
        assert _black_square_x(img) == 10 * (n - 1)
        assert round(img.info["dpi"][0]) == 200


def test_tiff_selected_pages_and_modes(tmp_path):
    path = tmp_path / "mixed.tif"
    frames = [_frame(0, "1"), _frame(1, "L"), _frame(2, "CMYK"), _frame(3, "RGBA")]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    got = dict(iter_frames(path, [2, 3, 4]))
    assert sorted(got) == [2, 3, 4]
    assert got[2].mode == "L"
    assert got[3].mode == "RGB"
    assert got[4].mode == "RGB"
    assert _black_square_x(got[3]) == 20
    assert _black_square_x(got[4]) == 30


def test_tiff_page_out_of_range(tmp_path):
    path = tmp_path / "two.tiff"
    _frame(0).save(path, save_all=True, append_images=[_frame(1)])
    with pytest.raises(OcrError) as exc:
        list(iter_frames(path, [3]))
    assert exc.value.code == "invalid_pages"


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_formats_use_first_frame(tmp_path, fmt):
    path = tmp_path / f"anim.{fmt.lower()}"
    frames = [_frame(i) for i in range(3)]
    kwargs = {"lossless": True} if fmt == "WEBP" else {}
    frames[0].save(
        path, format=fmt, save_all=True, append_images=frames[1:], duration=100, **kwargs
    )
    with Image.open(path) as img:
        assert getattr(img, "n_frames", 1) == 3  # really animated
        assert frame_count(img) == 1
    got = list(iter_frames(path))
    assert len(got) == 1
    n, img = got[0]
    assert n == 1 and img.mode in ("RGB", "L")
    assert _black_square_x(img) == 0


def test_single_png(tmp_path):
    path = tmp_path / "one.png"
    _frame(2, "RGBA").save(path)
    [(n, img)] = list(iter_frames(path))
    assert n == 1 and img.mode == "RGB" and _black_square_x(img) == 20


def test_transparent_background_flattened_on_white():
    img = Image.new("RGBA", (10, 10), (0, 0, 0, 0))  # fully transparent black
    out = to_ocr_mode(img)
    assert out.mode == "L"  # all white once flattened: a grey image
    assert out.getpixel((5, 5)) == 255
    tinted = to_ocr_mode(Image.new("RGBA", (10, 10), (200, 0, 0, 128)))  # half-transparent red
    assert tinted.mode == "RGB"
    red, green, blue = tinted.getpixel((5, 5))
    assert abs(red - 228) <= 2 and abs(green - 127) <= 2 and green == blue
    la = Image.new("LA", (4, 4), (0, 0))
    assert to_ocr_mode(la).getpixel((1, 1)) == 255


def test_16_bit_grey_is_scaled_not_clipped():
    arr = np.array([[0, 1000], [30000, 65535]], dtype=np.uint16)
    img = Image.fromarray(arr)
    assert img.mode.startswith("I;16")
    out = to_ocr_mode(img)
    assert out.mode == "L"
    vals = np.asarray(out)
    assert vals[0, 0] == 0 and vals[1, 1] == 255
    assert 0 < vals[0, 1] < vals[1, 0] < 255


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_garbage_is_invalid_image(tmp_path):
    path = tmp_path / "bad.tiff"
    path.write_bytes(b"II*\x00garbage")
    with pytest.raises(OcrError) as exc:
        list(iter_frames(path))
    assert exc.value.code == "invalid_image"
