"""Pieces every cloud engine shares: the base class, availability info, image
encoding, numbers."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

from PIL import Image

from app.engines.base import EngineInfo, OcrEngine
from app.engines.providers import _http


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


class CloudEngine(OcrEngine):
    """Base of the cloud engines: credentials check, the HTTP session, ``info()``.

    ``kind`` is ``"cloud"``; pages are not preprocessed (the provider does its
    own); no options beyond languages unless a subclass lists them in
    ``accepted_options``.

    A subclass sets ``name``, ``title``, ``version``, ``languages`` (what
    ``/api/engines/`` lists) and ``required`` (the settings without which the
    engine is unavailable), calls ``super().__init__(config)`` and reads its
    own settings. ``config`` is the registry's read-only mapping of ``OCR_*``
    settings; ``http`` holds the timeouts/retries and ``session`` the
    retrying :class:`requests.Session` built from them.
    """

    name: str
    kind = "cloud"
    title: str
    version: str
    languages: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._missing = missing_setting(config, self.required)
        self.http = _http.HttpSettings.from_config(config)
        self.session = _http.make_session(self.http)

    def close(self) -> None:
        """Close the HTTP session (its pooled connections)."""
        self.session.close()

    def info(self) -> EngineInfo:
        return cloud_info(
            name=self.name,
            title=self.title,
            version=self.version,
            languages=self.languages,
            missing=self._missing,
        )
