"""Builders of hostile and ordinary uploads for API tests."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile


def upload(data: bytes, name: str = "page.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A real 1-bit PNG of ``width`` x ``height`` white pixels; tiny once compressed."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    chunks = []
    block = row * 256
    for _ in range(height // 256):
        chunks.append(comp.compress(block))
    chunks.append(comp.compress(row * (height % 256)))
    chunks.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", b"".join(chunks))
        + _chunk(b"IEND", b"")
    )


def minimal_pdf() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (100, 100), 255).save(buf, "PDF")
    return buf.getvalue()
