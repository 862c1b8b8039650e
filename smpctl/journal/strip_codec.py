"""Each zone's strip of pass traces, built as passes end, for the session report.

A report draws a zone's passes side by side in one strip of bounded size (at most
``STRIP_SEGMENTS`` segments and ``STRIP_POINTS`` speed points, however many passes).
Drawing it from the passes' stored traces means reading and decoding every one of them;
instead the journal keeps each zone's strip as drawn (the derived table ``zone_strips``),
updated as each pass ends, so a report reads one small row per zone. The recording
program holds the zone's traces (``ZoneStrip``) to redraw the strip from them; a report on
a zone without a stored strip (a journal from before, a pass closed by crash recovery)
builds the same ``ZoneStrip`` from the stored traces, so the two pictures are the same.
"""

from __future__ import annotations

import itertools
import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .trace_codec import TRACE_POINTS, trace_bytes

STRIP_CODEC = "strip-u32cells-f64chz-u16chz-v1"
STRIP_POINTS = 360
"""Speed points in one zone's strip, shared among its segments."""
STRIP_SEGMENTS = 120
"""At most this many segments; beyond, neighbouring passes share one (a segment narrower
than about 5 units of a 720-wide strip shows nothing a reader could tell apart)."""
MERGED_POINTS = 2 * TRACE_POINTS
"""Points kept of a segment that holds several passes (a strip of more than
``STRIP_SEGMENTS`` passes), to draw it from: the memory a zone takes stays bounded."""

_HEAD = struct.Struct("<II")
_U32 = next(code for code in "IL" if array(code).itemsize == 4)
_SWAP = sys.byteorder == "big"
_U16_MAX = 0xFFFF


def centi_hz(values: Iterable[float]) -> list[int]:
    """Speeds in centi-Hz as the trace codec stores them (u16, rounded)."""
    return [min(_U16_MAX, max(0, round(v))) for v in values]


def segment_budget(segments: int) -> int:
    """Speed points per segment of a strip of ``segments``: drawing and reading a strip
    must agree, or a reader would reduce every stored strip again."""
    return max(2, STRIP_POINTS // max(1, segments))


def mean_points(
    speed: Sequence[float], setpoint: Sequence[int], points: int
) -> tuple[list[float], list[int]]:
    """At most ``points`` points: the mean speed of each equal share, with the share's
    last setpoint (as the review reduces any trace)."""
    n = len(speed)
    if n <= points:
        return list(speed), list(setpoint)
    bounds = list(itertools.pairwise(n * i // points for i in range(points + 1)))
    return (
        [sum(speed[a:b]) / (b - a) for a, b in bounds],
        [setpoint[b - 1] for _a, b in bounds],
    )


def reduce_means(
    speed: Sequence[int], setpoint: Sequence[int], points: int
) -> tuple[list[int], list[int]]:
    """``mean_points`` rounded to the centi-Hz, as a trace stores them."""
    means, setpoints = mean_points(speed, setpoint, points)
    return [round(v) for v in means], setpoints


def trace_centi_hz(data: bytes, codec: str) -> tuple[list[int], list[int]]:
    """A stored trace's speeds and setpoints, as the strip takes them."""
    words = array("H", trace_bytes(data, codec))
    if _SWAP:
        words.byteswap()
    return words[2::4].tolist(), words[3::4].tolist()


class StripView(NamedTuple):
    """A strip as drawn, in columns: per segment its first and last pass numbers, its
    passes and its points; then every speed and setpoint (centi-Hz), segment by segment."""

    width: int
    firsts: list[int]
    lasts: list[int]
    counts: list[int]
    sizes: list[int]
    speed: list[float]
    setpoint: list[int]

    @property
    def passes(self) -> int:
        return sum(self.counts)

    def budget(self) -> int:
        """Points per segment."""
        return segment_budget(len(self.firsts))

    def encode(self) -> bytes:
        """Little-endian: width and segment count (u32), then per segment first, last,
        passes and points (u32), then every speed (f64: a mean, kept exactly as drawn)
        and every setpoint (u16), in centi-Hz."""
        cells = array(
            _U32,
            [
                x
                for cell in zip(self.firsts, self.lasts, self.counts, self.sizes, strict=True)
                for x in cell
            ],
        )
        speed = array("d", self.speed)
        setpoint = array("H", self.setpoint)
        if _SWAP:
            cells.byteswap()
            speed.byteswap()
            setpoint.byteswap()
        head = _HEAD.pack(self.width, len(self.firsts))
        return head + cells.tobytes() + speed.tobytes() + setpoint.tobytes()


def read_strip(data: bytes, codec: str = STRIP_CODEC) -> StripView:
    """A strip as ``StripView.encode`` wrote it."""
    if codec != STRIP_CODEC:
        raise ValueError(f"unknown strip codec {codec!r}: update smpctl")
    if len(data) < _HEAD.size:
        raise ValueError(f"a {STRIP_CODEC} strip of {len(data)} bytes")
    width, count = _HEAD.unpack_from(data)
    at = _HEAD.size
    cells = array(_U32)
    cells.frombytes(data[at : at + 16 * count])
    if _SWAP:
        cells.byteswap()
    sizes = cells[3::4].tolist()
    total = sum(sizes)
    at += 16 * count
    if len(cells) != 4 * count or len(data) != at + 10 * total:
        raise ValueError(f"a {STRIP_CODEC} strip of {len(data)} bytes does not add up")
    speed = array("d")
    speed.frombytes(data[at : at + 8 * total])
    setpoint = array("H")
    setpoint.frombytes(data[at + 8 * total :])
    if _SWAP:
        speed.byteswap()
        setpoint.byteswap()
    return StripView(
        width,
        cells[0::4].tolist(),
        cells[1::4].tolist(),
        cells[2::4].tolist(),
        sizes,
        speed.tolist(),
        setpoint.tolist(),
    )


class _Segment:
    """Consecutive passes of a zone (numbers ``first``..``last``) and their traces."""

    __slots__ = ("first", "last", "passes", "setpoint", "speed")

    def __init__(
        self, first: int, last: int, passes: int, speed: list[int], setpoint: list[int]
    ) -> None:
        self.first = first
        self.last = last
        self.passes = passes
        self.speed = speed
        self.setpoint = setpoint


class ZoneStrip:
    """A zone's passes in order, with their traces, in segments of ``width`` passes (the
    last may hold fewer).

    One pass per segment up to ``STRIP_SEGMENTS`` passes, each with its whole trace, so
    the strip drawn (``view``: each segment reduced to the strip's budget, ``STRIP_POINTS``
    over its segments) is each trace reduced once. Beyond, neighbouring segments merge
    pairwise and the width doubles (between half and all of ``STRIP_SEGMENTS`` segments),
    a merged segment keeping ``MERGED_POINTS`` of its joined traces: what a zone holds
    stays bounded however many passes it had.
    """

    __slots__ = ("_segments", "width")

    def __init__(self) -> None:
        self.width = 1
        self._segments: list[_Segment] = []

    @property
    def passes(self) -> int:
        return sum(s.passes for s in self._segments)

    @property
    def last_number(self) -> int | None:
        return self._segments[-1].last if self._segments else None

    def add(self, number: int, speed: Sequence[int], setpoint: Sequence[int]) -> None:
        """The next pass of the zone: its number and its trace in centi-Hz (``centi_hz``)."""
        segments = self._segments
        if segments and segments[-1].passes < self.width:
            s = segments[-1]
            s.last = number
            s.passes += 1
            s.speed, s.setpoint = reduce_means(
                [*s.speed, *speed], [*s.setpoint, *setpoint], MERGED_POINTS
            )
            return
        if len(segments) >= STRIP_SEGMENTS:
            self._merge()
        segments.append(_Segment(number, number, 1, list(speed), list(setpoint)))

    def _merge(self) -> None:
        old = self._segments
        merged: list[_Segment] = []
        for i in range(0, len(old), 2):
            a = old[i]
            if i + 1 == len(old):
                merged.append(a)
                continue
            b = old[i + 1]
            speed, setpoint = reduce_means(
                a.speed + b.speed, a.setpoint + b.setpoint, MERGED_POINTS
            )
            merged.append(_Segment(a.first, b.last, a.passes + b.passes, speed, setpoint))
        old[:] = merged
        self.width *= 2

    def view(self) -> StripView:
        """The strip as drawn: every segment reduced to the budget."""
        segments = self._segments
        budget = segment_budget(len(segments))
        reduced = [mean_points(s.speed, s.setpoint, budget) for s in segments]
        return StripView(
            self.width,
            [s.first for s in segments],
            [s.last for s in segments],
            [s.passes for s in segments],
            [len(speed) for speed, _setpoint in reduced],
            [v for speed, _setpoint in reduced for v in speed],
            [v for _speed, setpoint in reduced for v in setpoint],
        )


STRIP_PASSES_SQL = """
SELECT p.number, p.samples, t.codec, t.data FROM passes p
LEFT JOIN pass_traces t ON t.pass_uid = p.uid
WHERE p.session_uid = ? AND p.zone = ? AND p.outcome IS NOT NULL AND p.number <= ?
ORDER BY p.number, p.rowid
"""
"""A zone's closed passes (up to a number) with their stored traces, for ``strip_of``."""
ALL_NUMBERS = 2**62
"""Up to this pass number: every pass."""
STRIP_UPSERT_SQL = (
    "INSERT OR REPLACE INTO zone_strips "
    "(session_uid, zone, passes, last_number, codec, data) VALUES (?, ?, ?, ?, ?, ?)"
)
"""A zone's strip as drawn: ``(session, zone, passes, last number, STRIP_CODEC, data)``."""


def strip_of(
    passes: Iterable[tuple[int, int | None, str | None, bytes | None]],
) -> ZoneStrip | None:
    """The strip of a zone's closed passes (``STRIP_PASSES_SQL``), from their stored
    traces; None if a pass that recorded samples has no trace (closed by crash recovery,
    or recorded before traces were kept), or one this release cannot read."""
    strip = ZoneStrip()
    for number, samples, codec, data in passes:
        if data is None or codec is None:
            if samples:
                return None
            speed: list[int] = []
            setpoint: list[int] = []
        else:
            try:
                speed, setpoint = trace_centi_hz(data, codec)
            except ValueError:
                return None
        strip.add(int(number), speed, setpoint)
    return strip
