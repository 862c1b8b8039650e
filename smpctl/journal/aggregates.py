"""Per-pass figures, accumulated batch by batch while the pass runs, so that closing a
pass (and every later summary) never rescans its raw telemetry."""

from __future__ import annotations

import operator
from collections.abc import Sequence

from smpctl.protocol import Status, Telemetry

from .trace_codec import TraceBuilder, TracePoint

_STEADY_MASK = int(Status.MOTOR_ON | Status.IN_RAMP)
_STEADY = int(Status.MOTOR_ON)
_SPEED = operator.itemgetter(2)
_CURRENT = operator.itemgetter(4)
_STATUS = operator.itemgetter(10)
_TEMP = operator.itemgetter(6)


class PassAggregates:
    """Speed figures count only samples with the motor on and out of its ramp (a pass
    always starts from standstill, so a minimum over every sample would always read 0);
    current and temperature peaks count every sample."""

    __slots__ = (
        "first_strokes",
        "last",
        "max_temp",
        "peak_current",
        "samples",
        "speed_max",
        "speed_min",
        "speed_sum",
        "steady",
        "trace",
    )

    def __init__(self, baseline: Telemetry | None = None) -> None:
        self.samples = 0
        self.steady = 0
        self.speed_sum = 0
        self.speed_min: int | None = None
        self.speed_max: int | None = None
        self.peak_current: int | None = None
        self.max_temp: int | None = None
        self.first_strokes: int | None = baseline.strokes if baseline is not None else None
        self.last: Telemetry | None = None
        self.trace = TraceBuilder()

    def add(self, samples: Sequence[Telemetry]) -> None:
        if not samples:
            return
        if self.first_strokes is None:
            self.first_strokes = samples[0].strokes
        self.samples += len(samples)
        every_speed = list(map(_SPEED, samples))
        if all(st & _STEADY_MASK == _STEADY for st in set(map(_STATUS, samples))):
            speeds = every_speed  # the common case: one status for the whole batch
        else:
            speeds = [s[2] for s in samples if s[10] & _STEADY_MASK == _STEADY]
        if speeds:
            self.steady += len(speeds)
            self.speed_sum += sum(speeds)
            lo, hi = min(speeds), max(speeds)
            self.speed_min = lo if self.speed_min is None else min(self.speed_min, lo)
            self.speed_max = hi if self.speed_max is None else max(self.speed_max, hi)
        current = max(map(_CURRENT, samples))
        temp = max(map(_TEMP, samples))
        self.peak_current = (
            current if self.peak_current is None else max(self.peak_current, current)
        )
        self.max_temp = temp if self.max_temp is None else max(self.max_temp, temp)
        self.last = samples[-1]
        self.trace.add(samples, every_speed)

    @property
    def strokes(self) -> int | None:
        if self.last is None or self.first_strokes is None:
            return None
        return (self.last.strokes - self.first_strokes) & 0xFFFFFFFF

    def trace_points(self) -> list[TracePoint]:
        return self.trace.points()

    def columns(self) -> dict[str, object]:
        """The pass row's aggregate columns, in physical units."""
        last = self.last
        return {
            "samples": self.samples,
            "speed_mean_hz": self.speed_sum / self.steady / 100 if self.steady else None,
            "speed_min_hz": self.speed_min / 100 if self.speed_min is not None else None,
            "speed_max_hz": self.speed_max / 100 if self.speed_max is not None else None,
            "strokes": self.strokes,
            "peak_current_a": self.peak_current / 1000 if self.peak_current is not None else None,
            "max_temp_c": self.max_temp / 100 if self.max_temp is not None else None,
            "setpoint_hz": last.setpoint_chz / 100 if last is not None else None,
            "depth_mm": last.depth_um / 1000 if last is not None else None,
        }
