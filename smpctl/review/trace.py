"""Speed traces: a pass's telemetry reduced to a few dozen points.

A pass keeps its trace (48 points) in ``pass_traces`` when it ends, and joins its zone's
strip (``zone_strips``); a report reads the strips (``stored_strips``) and the traces of
the passes it shows one by one (``traces_of``). ``session_traces`` reads every trace of a
session in one query, for a zone without a strip. A pass without a stored trace (a journal
from before traces were kept) falls back to ``pass_trace``: at most ``MAX_CHUNKS`` of its
telemetry chunks, evenly spread, decoding only the time and speed columns.
``trace_summary`` reads one pass in full (``logs pass``).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import statistics
import struct
import sys
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from smpctl import hard_limits
from smpctl.journal import Journal
from smpctl.journal.strip_codec import StripView, read_strip
from smpctl.journal.telemetry_codec import CODEC, FIELD_FORMATS, unpack_samples
from smpctl.journal.trace_codec import TRACE_POINTS, TracePoint, trace_bytes
from smpctl.protocol import Status, Telemetry

__all__ = [
    "DRIFT_OK",
    "MAX_CHUNKS",
    "TRACE_POINTS",
    "TraceColumns",
    "TracePoint",
    "TraceSummary",
    "decode_columns",
    "downsample",
    "pass_trace",
    "session_traces",
    "stored_strips",
    "trace_summary",
    "traces_of",
]

MAX_CHUNKS = 16
DRIFT_OK = 0.05
"""Within 5 % of setpoint the dot heals as planned (the dashboard's gauge shows it green)."""
_STEADY_MASK = int(Status.MOTOR_ON | Status.IN_RAMP)
_STEADY = int(Status.MOTOR_ON)
_SIZES = [struct.calcsize(f"<{c}") for c in FIELD_FORMATS]
_T, _SPEED, _SETPOINT = 0, 2, 3
_U32 = next(code for code in "IL" if array(code).itemsize == 4)
"""A stored trace's point, little-endian: u32 ms since the pass began, u16 centi-Hz
measured speed, u16 centi-Hz setpoint (smpctl.journal.trace_codec; a test holds the two
together). Read as arrays of u32 and u16 words: a C copy, no per-point unpacking."""
_SWAP = sys.byteorder == "big"


@dataclass(frozen=True, slots=True)
class TraceColumns:
    """A trace as three columns in the codec's units (ms, centi-Hz): reducing and drawing
    work on slices of these instead of building a point object per point."""

    t_ms: Sequence[float]
    speed_chz: Sequence[float]
    setpoint_chz: Sequence[float]

    def points(self) -> list[TracePoint]:
        return [
            TracePoint(t / 1000, speed / 100, setpoint / 100)
            for t, speed, setpoint in zip(self.t_ms, self.speed_chz, self.setpoint_chz, strict=True)
        ]

    def reduced(self, points: int) -> TraceColumns:
        """At most ``points`` points, each the mean speed over an equal share of the trace
        (its first time, its last setpoint), as ``downsample`` reduces samples."""
        n = len(self.t_ms)
        if n <= points:
            return self
        t, speed, setpoint = self.t_ms, self.speed_chz, self.setpoint_chz
        pairs = _buckets(n, points)
        return TraceColumns(
            [t[a] for a, _b in pairs],
            [sum(speed[a:b]) / (b - a) for a, b in pairs],
            [setpoint[b - 1] for _a, b in pairs],
        )

    @classmethod
    def of_points(cls, points: Sequence[TracePoint]) -> TraceColumns:
        return cls(
            [p.t_s * 1000 for p in points],
            [p.speed_hz * 100 for p in points],
            [p.setpoint_hz * 100 for p in points],
        )


@functools.lru_cache(maxsize=512)
def _buckets(n: int, points: int) -> tuple[tuple[int, int], ...]:
    """(start, end) of ``points`` equal shares of ``n`` (a report asks the same few)."""
    return tuple(itertools.pairwise(n * i // points for i in range(points + 1)))


def decode_columns(data: bytes, codec: str) -> TraceColumns:
    """A stored trace as columns: its packed points seen as u32 and u16 words (times are
    every other u32; speeds and setpoints every fourth u16)."""
    raw = trace_bytes(data, codec)
    words = array("H", raw)
    times = array(_U32, raw)
    if _SWAP:
        words.byteswap()
        times.byteswap()
    return TraceColumns(times[0::2], words[2::4], words[3::4])


def session_traces(
    journal: Journal, session_uid: str, pass_uids: Iterable[str]
) -> dict[str, TraceColumns]:
    """The traces of ``pass_uids`` (passes of one session): every stored trace of the
    session in one query; a pass without one reads its telemetry (``pass_trace``)."""
    stored: dict[str, tuple[str, bytes]] = {
        uid: (codec, data)
        for uid, codec, data in journal.store.rows(
            "SELECT pass_uid, codec, data FROM pass_traces WHERE session_uid = ? ORDER BY rowid",
            (session_uid,),
        )
    }
    return {uid: _trace_of(journal, uid, stored.get(uid)) for uid in pass_uids}


_UIDS_PER_QUERY = 500
"""Ids bound per query (old SQLite builds allow 999 parameters)."""


def traces_of(journal: Journal, pass_uids: Sequence[str]) -> dict[str, TraceColumns]:
    """The traces of a few passes (the report's cards), each by its pass (an index), so
    the cost is theirs, not their session's; a pass without one reads its telemetry."""
    uids = list(dict.fromkeys(pass_uids))
    stored: dict[str, tuple[str, bytes]] = {}
    for at in range(0, len(uids), _UIDS_PER_QUERY):
        part = uids[at : at + _UIDS_PER_QUERY]
        for uid, codec, data in journal.store.rows(
            "SELECT pass_uid, codec, data FROM pass_traces WHERE pass_uid IN "
            f"({', '.join('?' * len(part))}) ORDER BY rowid",
            part,
        ):
            stored[uid] = (codec, data)
    return {uid: _trace_of(journal, uid, stored.get(uid)) for uid in uids}


def _trace_of(journal: Journal, uid: str, found: tuple[str, bytes] | None) -> TraceColumns:
    if found is not None:
        try:
            return decode_columns(found[1], found[0])
        except (ValueError, struct.error):
            pass  # a trace this release cannot read: its telemetry can
    return TraceColumns.of_points(pass_trace(journal, uid))


def stored_strips(journal: Journal, session_uid: str) -> dict[str, StripView]:
    """The zone strips the journal built as the session's passes ended (zones with passes
    but no strip here, or a strip that does not hold them all, are drawn from the traces)."""
    out: dict[str, StripView] = {}
    for zone, codec, data in journal.store.rows(
        "SELECT zone, codec, data FROM zone_strips WHERE session_uid = ?", (session_uid,)
    ):
        with contextlib.suppress(ValueError, TypeError, struct.error):
            out[zone] = read_strip(data, codec)
    return out


def _columns(data: bytes, count: int, codec: str, wanted: Sequence[int]) -> list[tuple[int, ...]]:
    """Selected columns of a chunk without building a Telemetry per sample."""
    if codec != CODEC:
        samples = unpack_samples(data, count, codec)
        return [tuple(s[i] for s in samples) for i in wanted]
    raw = zlib.decompress(data)
    out = []
    for index in wanted:
        offset = sum(_SIZES[:index]) * count
        out.append(struct.unpack_from(f"<{count}{FIELD_FORMATS[index]}", raw, offset))
    return out


def pass_trace(journal: Journal, pass_uid: str, points: int = TRACE_POINTS) -> list[TracePoint]:
    """A pass's chunks are written one after another (one pass records at a time), so
    their row ids span a range: the first and last come from the index alone, and the
    chunks read are picked evenly across that range (ids of other rows are skipped)."""
    span = journal.store.query_one(
        "SELECT MIN(rowid) AS lo, MAX(rowid) AS hi FROM telemetry_chunks WHERE pass_uid = ?",
        (pass_uid,),
    )
    if span is None or span["lo"] is None:
        return []
    lo, hi = int(span["lo"]), int(span["hi"])
    picks = sorted({lo + (hi - lo) * i // (MAX_CHUNKS - 1) for i in range(MAX_CHUNKS)})
    rows = journal.store.query(
        f"SELECT samples, codec, data FROM telemetry_chunks WHERE rowid IN "
        f"({', '.join('?' * len(picks))}) AND pass_uid = ? ORDER BY rowid",
        (*picks, pass_uid),
    )
    ts: list[int] = []
    speeds: list[int] = []
    setpoints: list[int] = []
    for r in rows:
        t, speed, setpoint = _columns(r["data"], r["samples"], r["codec"], (_T, _SPEED, _SETPOINT))
        ts.extend(t)
        speeds.extend(speed)
        setpoints.extend(setpoint)
    return _reduce(ts, speeds, setpoints, points)


def _reduce(
    ts: Sequence[int], speeds: Sequence[int], setpoints: Sequence[int], points: int
) -> list[TracePoint]:
    if not ts:
        return []
    t0 = ts[0]
    n = len(ts)
    step = max(1, n // points)
    out = []
    for start in range(0, n, step):
        end = min(n, start + step)
        out.append(
            TracePoint(
                ((ts[start] - t0) & 0xFFFFFFFF) / 1e6,
                sum(speeds[start:end]) / (end - start) / 100,
                setpoints[end - 1] / 100,
            )
        )
    return out


def downsample(samples: Sequence[Telemetry], points: int = TRACE_POINTS) -> list[TracePoint]:
    return _reduce(
        [s.t_us for s in samples],
        [s.speed_chz for s in samples],
        [s.setpoint_chz for s in samples],
        points,
    )


@dataclass(frozen=True)
class TraceSummary:
    """How the measured speed held to its setpoint over one pass."""

    samples: int
    duration_s: float
    ramp_s: float | None
    """Pedal down to the first steady sample (motor on, out of its ramp)."""
    steady_samples: int
    within_5pct: float | None
    """Share of steady samples within ``DRIFT_OK`` of the setpoint."""
    below_warn: float | None
    """Share of steady samples below the pen's under-speed warning level."""
    p5_hz: float | None
    median_hz: float | None
    p95_hz: float | None
    mean_current_a: float | None
    peak_current_a: float | None
    strokes_per_s: float | None
    trace: tuple[TracePoint, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "trace": [p._asdict() for p in self.trace]}


def trace_summary(samples: Sequence[Telemetry]) -> TraceSummary:
    if not samples:
        return TraceSummary(0, 0.0, None, 0, None, None, None, None, None, None, None, None, ())
    t0 = samples[0].t_us
    duration = ((samples[-1].t_us - t0) & 0xFFFFFFFF) / 1e6
    steady = [s for s in samples if s.status & _STEADY_MASK == _STEADY]
    first = steady[0] if steady else None
    ramp = ((first.t_us - t0) & 0xFFFFFFFF) / 1e6 if first is not None else None
    within = below = None
    p5 = med = p95 = None
    if steady:
        warn = hard_limits.UNDERSPEED_WARN_FRACTION
        near = sum(
            1
            for s in steady
            if s.setpoint_chz and abs(s.speed_chz - s.setpoint_chz) <= DRIFT_OK * s.setpoint_chz
        )
        low = sum(1 for s in steady if s.speed_chz < warn * s.setpoint_chz)
        within = near / len(steady)
        below = low / len(steady)
        speeds = sorted(s.speed_chz / 100 for s in steady)
        if len(speeds) >= 2:
            q = statistics.quantiles(speeds, n=20, method="inclusive")
            p5, p95 = q[0], q[-1]
        else:
            p5 = p95 = speeds[0]
        med = statistics.median(speeds)
    strokes = (samples[-1].strokes - samples[0].strokes) & 0xFFFFFFFF
    return TraceSummary(
        samples=len(samples),
        duration_s=duration,
        ramp_s=ramp,
        steady_samples=len(steady),
        within_5pct=within,
        below_warn=below,
        p5_hz=p5,
        median_hz=med,
        p95_hz=p95,
        mean_current_a=sum(s.current_ma for s in samples) / len(samples) / 1000,
        peak_current_a=max(s.current_ma for s in samples) / 1000,
        strokes_per_s=strokes / duration if duration > 0 else None,
        trace=tuple(downsample(samples)),
    )
