"""Pieces every cloud engine shares: availability info, image encoding, numbers."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

from PIL import Image

from app.engines.base import EngineInfo


def missing_setting(config: Mapping[str, Any], names: tuple[str, ...]) -> str:
    """The first of ``names`` that is empty in ``config`` ('' when all are set)."""
    for name in names:
        if not str(config.get(name) or "").strip():
            return name
    return ""


def cloud_info(
    *, name: str, title: str, version: str, languages: tuple[str, ...], missing: str
) -> EngineInfo:
    """EngineInfo for a cloud engine; unavailable, naming the variable, when ``missing``."""
    return EngineInfo(
        name=name,
        title=title,
        available=not missing,
        version=version,
        languages=languages,
        kind="cloud",
        reason=f"{missing} is not set" if missing else "",
    )


def encode_image(image: Image.Image, fmt: str = "PNG") -> bytes:
    """The page image as PNG or JPEG (quality 95) bytes; JPEG drops alpha/palette."""
    buf = io.BytesIO()
    if fmt.upper() in ("JPEG", "JPG"):
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(buf, format="JPEG", quality=95)
    else:
        image.save(buf, format="PNG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    """Standard base64 text of ``data``."""
    return base64.b64encode(data).decode("ascii")


def percent(value: Any, *, fraction: bool) -> float | None:
    """A provider confidence as 0-100, rounded to 2 places; None when absent.

    ``fraction=True``: the provider documents 0-1 values, scaled by 100 (a value
    above 1 is taken as already 0-100). ``fraction=False``: already 0-100.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if fraction and number <= 1.0:
        number *= 100.0
    return round(max(0.0, min(100.0, number)), 2)
