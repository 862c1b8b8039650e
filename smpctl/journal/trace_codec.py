"""A pass's speed trace, downsampled once when the pass ends and kept beside it.

Reviews draw a trace per pass. Reading it back from raw telemetry costs a decode of the
pass's chunks; a stored trace is one small row (48 to 96 points: time in ms, measured and
set speed in centi-Hz, packed), so a report's cost per pass no longer depends on how long
the pass ran. Journals from before the trace was kept fall back to telemetry.

Since v2 the points are stored as packed, not compressed: zlib saved about 250 bytes a
pass (0.15 MB over a 4-hour session whose telemetry takes a hundred times that), and
inflating was a third of the cost of reading a trace back for a report's card. Traces
written compressed (v1) stay readable.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from typing import NamedTuple

from smpctl.protocol import Telemetry

TRACE_CODEC = "trace-u32ms-u16chz-v2"
TRACE_CODEC_ZLIB = "trace-u32ms-u16chz-v1"
"""The same points, compressed (written before v2)."""
TRACE_POINTS = 48
_POINT = struct.Struct("<IHH")
U32 = 0xFFFFFFFF


class TracePoint(NamedTuple):
    t_s: float
    speed_hz: float
    setpoint_hz: float


def encode_trace(points: Sequence[TracePoint]) -> bytes:
    return b"".join(
        _POINT.pack(
            min(U32, max(0, round(p.t_s * 1000))),
            min(0xFFFF, max(0, round(p.speed_hz * 100))),
            min(0xFFFF, max(0, round(p.setpoint_hz * 100))),
        )
        for p in points
    )


def trace_bytes(data: bytes, codec: str) -> bytes:
    """A stored trace's packed points, whichever codec wrote them; ValueError for a codec
    this release does not know or bytes that are not whole points."""
    if codec == TRACE_CODEC:
        raw = bytes(data)
    elif codec == TRACE_CODEC_ZLIB:
        try:
            raw = zlib.decompress(data)
        except zlib.error as exc:
            raise ValueError(f"a {codec} trace that does not inflate: {exc}") from None
    else:
        raise ValueError(f"unknown trace codec {codec!r}: update smpctl")
    if len(raw) % _POINT.size:
        raise ValueError(f"a {codec} trace of {len(raw)} bytes")
    return raw


def decode_trace(data: bytes, codec: str = TRACE_CODEC) -> list[TracePoint]:
    return [
        TracePoint(t / 1000, speed / 100, setpoint / 100)
        for t, speed, setpoint in _POINT.iter_unpack(trace_bytes(data, codec))
    ]


class TraceBuilder:
    """Downsamples a pass of unknown length in fixed memory, as its samples arrive.

    Samples are averaged into buckets of ``width`` samples; when ``2 * points`` buckets are
    full, neighbours are merged and the width doubles. At the end between ``points`` and
    ``2 * points`` buckets remain (fewer for a short pass), each the mean speed over an
    equal share of the pass, which is what ``downsample`` of the whole pass would give.
    """

    __slots__ = ("_buckets", "_fill", "_points", "_t0", "_width")

    def __init__(self, points: int = TRACE_POINTS) -> None:
        self._points = points
        self._width = 1
        self._t0: int | None = None
        # each bucket: [t of first sample (µs since t0), speed sum, n, last setpoint]
        self._buckets: list[list[int]] = []
        self._fill = 0

    def add(self, samples: Sequence[Telemetry], speeds: Sequence[int] | None = None) -> None:
        """Whole runs of samples go into a bucket at once (sums in C), so the cost per
        sample stays a fraction of a microsecond on the recorder's hot path."""
        n = len(samples)
        if not n:
            return
        if self._t0 is None:
            self._t0 = samples[0][0]
        t0 = self._t0
        buckets = self._buckets
        if speeds is None:
            speeds = [s[2] for s in samples]
        i = 0
        while i < n:
            width = self._width
            if buckets and buckets[-1][2] < width:
                b = buckets[-1]
                j = min(n, i + width - b[2])
                b[1] += sum(speeds[i:j])
                b[2] += j - i
                b[3] = samples[j - 1][3]
                i = j
                continue
            if len(buckets) >= 2 * self._points:
                self._merge()
                continue
            j = min(n, i + width)
            buckets.append([(samples[i][0] - t0) & U32, sum(speeds[i:j]), j - i, samples[j - 1][3]])
            i = j

    def _merge(self) -> None:
        old = self._buckets
        merged: list[list[int]] = []
        for i in range(0, len(old), 2):
            a = old[i]
            if i + 1 < len(old):
                b = old[i + 1]
                merged.append([a[0], a[1] + b[1], a[2] + b[2], b[3]])
            else:
                merged.append(a)
        self._buckets[:] = merged
        self._width *= 2

    def points(self) -> list[TracePoint]:
        return [
            TracePoint(t / 1e6, total / n / 100, setp / 100) for t, total, n, setp in self._buckets
        ]
