"""Read an ONNX model's metadata without onnxruntime (no session, no model in memory after).

The PP-OCR recognition model carries its character dictionary as metadata
(key ``character``). Reading it with an onnxruntime session would load the
model into every process that lists engines or checks a submission (the web
processes too); this reads the file's protobuf directly instead.

The format (onnx/onnx.proto): a ``ModelProto`` message whose field 14,
``metadata_props``, is repeated ``StringStringEntryProto`` (``key`` = 1,
``value`` = 2, both strings). Protobuf wire format
(protobuf.dev/programming-guides/encoding): each field is a varint tag
``field << 3 | wire type``; type 0 a varint, 1 eight bytes, 2 a varint length
then that many bytes, 5 four bytes.
"""

from __future__ import annotations

from pathlib import Path

METADATA_FIELD = 14


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data):
            raise ValueError("truncated protobuf varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """The top-level ``(field number, value)`` pairs of one protobuf message."""
    out: list[tuple[int, int | bytes]] = []
    at = 0
    while at < len(data):
        tag, at = _varint(data, at)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, at = _varint(data, at)
            out.append((number, value))
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        elif wire == 2:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise ValueError("truncated protobuf field")
            out.append((number, data[at : at + size]))
            at += size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    return out


def onnx_metadata(path: Path | str) -> dict[str, str]:
    """The ``metadata_props`` of the ONNX model at ``path``, as ``{key: value}``.

    Raises ``OSError`` when the file cannot be read and ``ValueError`` when it
    is not a well-formed protobuf message.
    """
    out: dict[str, str] = {}
    for number, value in _fields(Path(path).read_bytes()):
        if number != METADATA_FIELD or not isinstance(value, bytes):
            continue
        entry = dict(_fields(value))
        key, text = entry.get(1, b""), entry.get(2, b"")
        if isinstance(key, bytes) and isinstance(text, bytes):
            out[key.decode("utf-8")] = text.decode("utf-8")
    return out
