"""Fixtures shared by the pipeline tests that run real Tesseract."""

from __future__ import annotations

import pytest

from app.engines.tesseract import build


@pytest.fixture(scope="module")
def engine():
    """The Tesseract engine as the worker builds it (model kept loaded), closed after."""
    eng = build({"OCR_TESSDATA_DIR": "", "OCR_TESSERACT_BACKEND": "auto"})
    yield eng
    eng.close()
