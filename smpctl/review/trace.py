"""Speed traces: a pass's telemetry reduced to a few dozen points.

``pass_trace`` reads at most ``MAX_CHUNKS`` of a pass's telemetry chunks, evenly spread,
and decodes only the time and speed columns, so a report's cost per pass stays bounded
however long the pass ran. ``trace_summary`` reads one pass in full (``logs pass``).
"""

from __future__ import annotations

import statistics
import struct
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from smpctl import hard_limits
from smpctl.journal import Journal
from smpctl.journal.telemetry_codec import CODEC, FIELD_FORMATS, unpack_samples
from smpctl.protocol import Status, Telemetry

MAX_CHUNKS = 16
TRACE_POINTS = 48
DRIFT_OK = 0.05
"""Within 5 % of setpoint the dot heals as planned (the dashboard's gauge shows it green)."""
_STEADY_MASK = int(Status.MOTOR_ON | Status.IN_RAMP)
_STEADY = int(Status.MOTOR_ON)
_SIZES = [struct.calcsize(f"<{c}") for c in FIELD_FORMATS]
_T, _SPEED, _SETPOINT = 0, 2, 3


@dataclass(frozen=True)
class TracePoint:
    t_s: float
    speed_hz: float
    setpoint_hz: float


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
        return {**asdict(self), "trace": [asdict(p) for p in self.trace]}


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
