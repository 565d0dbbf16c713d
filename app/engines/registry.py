"""The engine registry: builds each engine once per process and looks engines up.

Engines are listed as dotted paths to factories ``build(config) -> OcrEngine``
where ``config`` is a read-only mapping of every ``OCR_*`` Django setting (the
registry is the only engine code that reads settings). A factory whose module
cannot be imported (a missing optional dependency) or that raises yields an
engine listed as unavailable, never a broken service.

Built engines are cached for the life of the process, so a worker loads
Tesseract's model once, not once per job (~130 ms per call saved; docs/architecture.md,
"Rules of the house").
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from app.engines.base import EngineInfo, EngineOptions, OcrEngine
from app.errors import OcrError

log = logging.getLogger(__name__)

#: name -> dotted path of the factory. Order is the order of ``/api/engines/``.
BUILTIN_ENGINES: dict[str, str] = {
    "tesseract": "app.engines.tesseract.build",
    "mrz": "app.engines.mrz.build",
    "clova": "app.engines.providers.clova.build",
    "ultraocr": "app.engines.providers.ultraocr.build",
    "computervision_vn": "app.engines.providers.computervision_vn.build",
    "chekin": "app.engines.providers.chekin.build",
}

_lock = threading.Lock()
_engines: dict[str, OcrEngine | None] = {}
_errors: dict[str, str] = {}


@dataclass(frozen=True)
class _Unavailable:
    name: str
    reason: str

    @property
    def kind(self) -> str:
        return "cloud" if "providers" in BUILTIN_ENGINES.get(self.name, "") else "local"

    def info(self) -> EngineInfo:
        return EngineInfo(
            name=self.name,
            title=self.name,
            available=False,
            version="",
            languages=(),
            kind=self.kind,
            reason=self.reason,
        )


def engine_config() -> Mapping[str, Any]:
    """A frozen snapshot of every ``OCR_*`` setting, handed to engine factories."""
    from django.conf import settings

    return MappingProxyType(
        {name: getattr(settings, name) for name in dir(settings) if name.startswith("OCR_")}
    )


def _factories() -> dict[str, str]:
    from django.conf import settings

    paths = dict(BUILTIN_ENGINES)
    for dotted in getattr(settings, "OCR_EXTRA_ENGINES", []):
        module, _, attr = dotted.rpartition(".")
        name = getattr(importlib.import_module(module), "ENGINE_NAME", attr)
        paths[name] = dotted
    return paths


def _build(name: str, dotted: str) -> OcrEngine | None:
    module_name, _, attr = dotted.rpartition(".")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
        engine = factory(engine_config())
    except ImportError as exc:
        _errors[name] = f"not installed: {exc}"
        log.info("engine %s unavailable: %s", name, exc)
        return None
    except Exception as exc:  # a broken engine must not break the service
        _errors[name] = f"failed to load: {exc.__class__.__name__}"
        log.exception("engine %s failed to load", name)
        return None
    return engine


def _get(name: str) -> OcrEngine | None:
    with _lock:
        if name not in _engines:
            factories = _factories()
            if name not in factories:
                raise KeyError(name)
            _engines[name] = _build(name, factories[name])
        return _engines[name]


def engine_names() -> list[str]:
    """Every registered engine name, available or not."""
    return list(_factories())


def all_engine_info() -> list[EngineInfo]:
    """Info for every registered engine, in registry order."""
    out = []
    for name in engine_names():
        engine = _get(name)
        out.append(engine.info() if engine else _Unavailable(name, _errors.get(name, "")).info())
    return out


def get_engine(name: str) -> OcrEngine:
    """The loaded engine ``name``.

    Raises ``OcrError("engine_unavailable")`` when the name is unknown, its
    dependency is missing, or its credentials are not configured.
    """
    try:
        engine = _get(name)
    except KeyError:
        raise OcrError("engine_unavailable", f"Unknown engine {name!r}.", field="engine") from None
    if engine is None or not engine.info().available:
        reason = _errors.get(name) or (engine.info().reason if engine else "")
        raise OcrError(
            "engine_unavailable",
            f"Engine {name!r} is not available on this server"
            + (f" ({reason})." if reason else "."),
            field="engine",
        )
    return engine


def checked_engine(name: str, options: EngineOptions) -> OcrEngine:
    """The loaded engine ``name`` after its own ``check_options(options)``, if it has one.

    Raises ``OcrError`` (``engine_unavailable``, ``unknown_language``,
    ``invalid_option``) before any work is done.
    """
    engine = get_engine(name)
    check = getattr(engine, "check_options", None)
    if callable(check):
        check(options)
    return engine


def reset() -> None:
    """Forget every built engine (tests and settings changes)."""
    with _lock:
        for engine in _engines.values():
            close = getattr(engine, "close", None)
            if callable(close):
                close()
        _engines.clear()
        _errors.clear()
