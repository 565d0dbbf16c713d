"""The local MRZ engine: machine readable zones of travel documents (ICAO Doc 9303).

:mod:`.icao` parses and checks MRZ lines, :mod:`.locate` finds the zone in an
image and :mod:`.engine` reads it with Tesseract.
"""

from app.engines.mrz.engine import ENGINE_NAME, MrzConfig, MrzEngine, build

__all__ = ["ENGINE_NAME", "MrzConfig", "MrzEngine", "build"]
