"""The engine registry: builds each engine once per process and looks engines up.

Engines are listed as dotted paths to factories ``build(config) -> OcrEngine``
where ``config`` is a read-only mapping of every ``OCR_*`` Django setting (the
registry is the only engine code that reads settings). A factory whose module
cannot be imported (a missing optional dependency) or that raises yields an
engine listed as unavailable, never a broken service.

Built engines are cached for the life of the process, so a worker loads
Tesseract's model once, not once per job (~130 ms per call saved; docs/architecture.md,
"Rules of the house").

A factory must return an :class:`~app.engines.base.OcrEngine` subclass
instance that declares its ``kind``; anything else (a duck-typed plug-in
written before the base class existed) is refused with a WARNING log line and
listed as unavailable ("not an OcrEngine ..."), so no hook is ever guessed.
Each engine's ``kind`` is declared: by the engine class once built, and for an
engine that could not be built by this table (built-ins) or by the plug-in
module's ``ENGINE_KIND`` (default ``"local"``).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from app.engines.base import KINDS, EngineInfo, EngineOptions, OcrEngine
from app.errors import OcrError

log = logging.getLogger(__name__)

#: name -> dotted path of the factory. Order is the order of ``/api/engines/``.
BUILTIN_ENGINES: dict[str, str] = {
    "tesseract": "app.engines.tesseract.build",
    "ppocr": "app.engines.ppocr.build",
    "auto": "app.engines.auto.build",
    "mrz": "app.engines.mrz.build",
    "clova": "app.engines.providers.clova.build",
    "ultraocr": "app.engines.providers.ultraocr.build",
    "computervision_vn": "app.engines.providers.computervision_vn.build",
    "chekin": "app.engines.providers.chekin.build",
}
#: The declared kind of each built-in engine, for listing one that could not be
#: built (a built engine's own ``kind`` is used otherwise; tests check they agree).
BUILTIN_KINDS: dict[str, str] = {
    "tesseract": "local",
    "ppocr": "local",
    "auto": "local",
    "mrz": "local",
    "clova": "cloud",
    "ultraocr": "cloud",
    "computervision_vn": "cloud",
    "chekin": "cloud",
}

_lock = threading.Lock()
_engines: dict[str, OcrEngine | None] = {}
_errors: dict[str, str] = {}


@dataclass(frozen=True)
class _Unavailable:
    name: str
    reason: str
    kind: str = "local"

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


_plugin_kinds: dict[str, str] = {}


def _factories() -> dict[str, str]:
    """name -> factory path: the built-ins, then ``OCR_EXTRA_ENGINES``.

    A plug-in module names its engine with ``ENGINE_NAME`` (default: the
    factory's name) and may declare ``ENGINE_KIND`` (default ``"local"``),
    used while the engine cannot be built.
    """
    from django.conf import settings

    paths = dict(BUILTIN_ENGINES)
    for dotted in getattr(settings, "OCR_EXTRA_ENGINES", []):
        module_name, _, attr = dotted.rpartition(".")
        module = importlib.import_module(module_name)
        name = getattr(module, "ENGINE_NAME", attr)
        paths[name] = dotted
        _plugin_kinds[name] = getattr(module, "ENGINE_KIND", "local")
    return paths


def _declared_kind(name: str) -> str:
    """The kind listed for ``name`` while it cannot be built (see the module docstring)."""
    return BUILTIN_KINDS.get(name) or _plugin_kinds.get(name, "local")


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
    if not isinstance(engine, OcrEngine):
        _errors[name] = (
            f"not an OcrEngine: {dotted} returned a {type(engine).__name__}, "
            "which does not subclass app.engines.base.OcrEngine"
        )
        log.warning("engine %s refused: %s", name, _errors[name])
        _close_quietly(engine)
        return None
    if getattr(type(engine), "kind", None) not in KINDS:
        _errors[name] = (
            f"{type(engine).__name__} declares no kind (one of {', '.join(sorted(KINDS))})"
        )
        log.warning("engine %s refused: %s", name, _errors[name])
        _close_quietly(engine)
        return None
    return engine


def _close_quietly(engine: object) -> None:
    """Close a refused plug-in's product if it has a ``close()`` (its sessions, models)."""
    close = getattr(engine, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # a refused engine's close must not break the registry
            log.exception("closing the refused engine failed")


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
        out.append(
            engine.info()
            if engine
            else _Unavailable(name, _errors.get(name, ""), _declared_kind(name)).info()
        )
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
    """The loaded engine ``name`` after checking ``options`` against it.

    ``options.extra``: the job's engine-specific options (not the pipeline's
    ``pages``/``rotate``/...). One the engine does not list in its
    ``accepted_options`` is refused (``invalid_option``, its field the option,
    the message naming option and engine); then the engine's own
    ``check_options`` runs. Raises ``OcrError`` (``engine_unavailable``,
    ``unknown_language``, ``invalid_option``) before any work is done.
    """
    engine = get_engine(name)
    refused = sorted(set(options.extra) - engine.accepted_options)
    if refused:
        accepted = ", ".join(sorted(engine.accepted_options)) or "none"
        raise OcrError(
            "invalid_option",
            f"Engine {name!r} does not accept the option {refused[0]!r} "
            f"(its own options: {accepted}).",
            field=refused[0],
        )
    engine.check_options(options)
    return engine


def engine_extra(engine: OcrEngine, options: Mapping[str, Any]) -> dict[str, Any]:
    """The job ``options`` that ``engine`` declares in ``accepted_options``
    (what :attr:`EngineOptions.extra` holds; every other key is left out)."""
    return {k: v for k, v in options.items() if k in engine.accepted_options}


def reset() -> None:
    """Forget every built engine (tests and settings changes)."""
    with _lock:
        for engine in _engines.values():
            if engine is not None:
                engine.close()
        _engines.clear()
        _errors.clear()
