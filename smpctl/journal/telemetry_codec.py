"""Raw telemetry packed per pass in compact chunks: one row per chunk, not per sample.

Column-wise packing (all t_us, then all speeds, ...) puts similar numbers side by side, so
zlib shrinks a 32-byte sample to about 9 bytes, at about two million samples a second.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from itertools import chain

from smpctl.protocol import Telemetry

CODEC = "cols-zlib-v1"
FIELD_FORMATS = "IIHHHHhIHBBH"
"""One struct code per Telemetry field, in order (the wire's own widths)."""
assert len(FIELD_FORMATS) == len(Telemetry._fields)
MAX_CHUNK_SAMPLES = 4096
_FIELDS = len(FIELD_FORMATS)


def pack_samples(samples: Sequence[Telemetry]) -> bytes:
    """Columns are strided slices of one flat tuple of every field, not ``zip(*samples)``:
    that makes one iterator per sample, all alive at once, and thousands of new tracked
    objects per chunk set off the garbage collector again and again, up to full passes
    over the whole heap; on the recorder's thread that cost more than the packing."""
    n = len(samples)
    flat = tuple(chain.from_iterable(samples))
    if len(flat) != n * _FIELDS:
        raise ValueError(f"a telemetry sample has {_FIELDS} fields")
    raw = b"".join(
        [struct.pack(f"<{n}{code}", *flat[k::_FIELDS]) for k, code in enumerate(FIELD_FORMATS)]
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
