"""Our result schema as the ``data`` of a computervision.com.vn document OCR answer.

``data`` has one element per page of the document (one for an image), in order.
A page's recognised text is nested as the provider's docs say
(https://docs.computervision.com.vn/en/v2/ocr/textual, "Thông tin trả về"): a list
of blocks, a block a list of lines, a line a list of texts ``{"text", "confidence"
(0-1), "box": {"left", "right", "top", "bottom"}}`` (integer pixels). Here a block is
our block, a line our line and a text one of its words (a line an engine gives
without words is one text). ``confidence`` is ours / 100, 1.0 where the engine gives
none.

The element itself depends on ``get_thumb``, as the provider's clients read it:

- ``get_thumb=false`` (the docs' examples): the list of blocks itself, as the docs
  describe it and as our own provider client (app/engines/providers/
  computervision_vn.py) and the provider's first demo read ``data[page]``;
- ``get_thumb=true``: ``{"result": [blocks], "image": "<base64 JPEG>"}``, as clients
  asking for the thumbnail read it (the provider's demo,
  NguyenPhuc01/demoCVS src/components/VanBan/Result.jsx, reads ``data[page].result``
  and ``data[page].image``; a Label Studio ML backend reads ``page['result']`` and
  scales the boxes by the size of ``page['image']``).

The image is the page as it was read: upright and deskewed, the pixel space of the
boxes (the provider's "aligned" image).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

from PIL import Image

from app.pipeline.schema import BBox, Document, Line, PageResult

#: JPEG quality of the page images (1-95).
THUMB_QUALITY = 90

Text = dict[str, Any]


def answer(data: list[Any], code: str = "0", message: str = "") -> dict[str, Any]:
    """The whole answer: ``{"data", "errorCode", "errorMessage"}``."""
    return {"data": data, "errorCode": code, "errorMessage": message}


def has_content(document: Document) -> bool:
    """Whether any page of ``document`` has recognised text (else ``errorCode`` 1)."""
    return any(page_blocks(page) for page in document.pages)


def pages_data(
    document: Document,
    *,
    thumb: bool,
    images: Callable[[int], Image.Image] | None = None,
) -> list[Any]:
    """``data``: one element per page (see the module docstring); ``images`` loads a
    page image by page number, needed when ``thumb``."""
    data: list[Any] = []
    for page in document.pages:
        blocks = page_blocks(page)
        if thumb and images is not None:
            data.append({"result": blocks, "image": thumbnail(images(page.number))})
        else:
            data.append(blocks)
    return data


def page_blocks(page: PageResult) -> list[list[list[Text]]]:
    """A page's blocks -> lines -> texts; empty lines and blocks left out."""
    blocks: list[list[list[Text]]] = []
    for block in page.blocks:
        lines = [texts for line in block.lines if (texts := line_texts(line, page))]
        if lines:
            blocks.append(lines)
    return blocks


def line_texts(line: Line, page: PageResult) -> list[Text]:
    """A line's words as texts (the line itself when it has no words)."""
    if line.words:
        return [
            text_item(word.text, word.bbox, word.confidence, page)
            for word in line.words
            if word.text.strip()
        ]
    if line.text.strip():
        return [text_item(line.text, line.bbox, line.confidence, page)]
    return []


def text_item(text: str, bbox: BBox, confidence: float | None, page: PageResult) -> Text:
    """``{"text", "confidence" (0-1), "box"}``, the box clamped to the page (pixels)."""
    left, top, right, bottom = (int(round(v)) for v in bbox)
    return {
        "text": text.strip(),
        "confidence": 1.0 if confidence is None else round(confidence / 100, 4),
        "box": {
            "left": min(max(left, 0), page.width),
            "right": min(max(right, 0), page.width),
            "top": min(max(top, 0), page.height),
            "bottom": min(max(bottom, 0), page.height),
        },
    }


def thumbnail(image: Image.Image) -> str:
    """``image`` as base64 of a JPEG (one line, no line breaks)."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=THUMB_QUALITY)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
