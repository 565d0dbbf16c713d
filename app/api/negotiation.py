"""Content negotiation for the few views that do not answer with the API's JSON renderer."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class FormatQueryNegotiation(DefaultContentNegotiation):
    """Honours ``?format=`` (e.g. ``/api/schema/?format=json``).

    The API turns DRF's format override off (``URL_FORMAT_OVERRIDE = None``)
    because ``?format=`` names an export format there; the schema view needs it.
    """

    def select_renderer(self, request: Any, renderers: list, format_suffix: Any = None):
        fmt = format_suffix or request.query_params.get("format")
        return super().select_renderer(request, renderers, fmt)


class DownloadNegotiation(DefaultContentNegotiation):
    """For file downloads (exports, page images, originals) whose bodies bypass renderers.

    A client asking for the file's own type (``Accept: application/pdf``,
    ``image/png``) must get the file, not 406; errors are still JSON.
    """

    def select_renderer(self, request: Any, renderers: list, format_suffix: Any = None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


def schema_view() -> Any:
    """``/api/schema/``: YAML, or JSON with ``?format=json`` (or ``Accept: application/json``)."""
    from drf_spectacular.views import SpectacularAPIView

    return SpectacularAPIView.as_view(content_negotiation_class=FormatQueryNegotiation)
