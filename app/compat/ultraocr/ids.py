"""UltraOCR's ids are KSUIDs; ours are UUIDs. A KSUID carries one without a table.

A KSUID (segmentio/ksuid, what UltraOCR's ``job_ksuid``/``batch_ksuid`` are) is 20
bytes, 4 of them a timestamp (seconds since 2014-05-13T16:53:20Z) and 16 a payload,
written as 27 base62 characters. Our job or batch UUID is the payload, so an id
decodes back to its UUID (:func:`uuid_of`) with no mapping stored (svix-ksuid does
the encoding). The timestamp must not change between two answers about the same
job: it is the creation time embedded in a UUIDv7 (the ids of upload slots, which
become the job's or batch's id, :func:`new_uuid7`), else the row's ``created_at``.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime

from ksuid import Ksuid

from app.errors import OcrError

#: Length of a KSUID in base62.
KSUID_LENGTH = 27


def new_uuid7() -> uuid.UUID:
    """A UUID version 7 (RFC 9562, section 5.7): 48 bits of Unix time in ms, then random."""
    millis = time.time_ns() // 1_000_000
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # variant RFC 9562
    return uuid.UUID(int=value)


def _moment(pk: uuid.UUID, created_at: datetime) -> datetime:
    if pk.version == 7:
        return datetime.fromtimestamp((pk.int >> 80) / 1000, tz=UTC)
    return created_at


def ksuid_of(pk: uuid.UUID | str, created_at: datetime) -> str:
    """The KSUID of our row ``pk`` made at ``created_at`` (see the module docstring)."""
    pk = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
    return str(Ksuid(datetime=_moment(pk, created_at), payload=pk.bytes))


def uuid_of(ksuid: str) -> uuid.UUID:
    """The UUID a KSUID carries; ``OcrError("not_found")`` for anything that is not one."""
    try:
        if len(ksuid) != KSUID_LENGTH or not ksuid.isalnum() or not ksuid.isascii():
            raise ValueError(ksuid)
        return uuid.UUID(bytes=Ksuid.from_base62(ksuid).payload)
    except (ValueError, TypeError, OverflowError):
        raise OcrError("not_found", f"No job or batch has the id {ksuid[:40]!r}.") from None
