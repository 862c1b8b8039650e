"""Telemetry gathered over device time, and what one stretch of it says.

The true stroke rate comes from the stroke counter against the pen's own clock (``t_us``),
never from the reported speed: the counter counts needle strokes (one per cam revolution),
so it carries none of the speed sensor's scale error, and the device clock carries none of
the host's or the link's timing jitter. The rate is the least-squares slope of the counter
over time, using every sample: the counter is an integer staircase, and a slope through all
its steps is far steadier than the first-to-last difference, which can be a stroke off at
each end (2 % of a half-second window at 100 Hz). Samples the link dropped only thin the
points; they do not bias the slope.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from smpctl.client import Pen
from smpctl.errors import BenchTimeoutError, RunInterruptedError
from smpctl.protocol import STOP_FAULTS, Fault, Status, Telemetry

from .fit import mean, sample_sd, slope

U32 = 1 << 32
POLL_S = 0.02
SILENCE_S = 1.5
"""No telemetry for this long: the link or the pen is gone."""


def unwrap_u32(values: Sequence[int]) -> list[int]:
    """A wrapping u32 counter (``t_us``, ``strokes``) as a steadily increasing one."""
    out: list[int] = []
    total = 0
    prev: int | None = None
    for value in values:
        if prev is not None:
            total += (value - prev) % U32
        prev = value
        out.append(total)
    return out


def fault_names(faults: int) -> str:
    return ", ".join(f.name or hex(f) for f in Fault if f & faults) or "none"


@dataclass(frozen=True)
class Window:
    """One stretch of telemetry at a steady setpoint."""

    samples: int
    duration_s: float
    """Device time from the first sample to the last."""
    setpoint_hz: float
    true_hz: float
    """Strokes per second from the counter and the device clock."""
    reported_hz: float
    """Mean of the speed the pen reports (its calibration in force applied)."""
    reported_sd_hz: float
    voltage_v: float
    min_voltage_v: float
    current_a: float
    max_current_a: float
    temp_c: float
    depth_mm: float
    faults: int
    """Every fault bit seen in the window."""

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in asdict(self).items()}


def summarize(samples: Sequence[Telemetry]) -> Window:
    """The window's figures; needs at least two samples."""
    if len(samples) < 2:
        raise ValueError("a window needs at least two samples")
    t = [v / 1e6 for v in unwrap_u32([s.t_us for s in samples])]
    strokes = [float(v) for v in unwrap_u32([s.strokes for s in samples])]
    reported = [s.speed_hz for s in samples]
    faults = 0
    for s in samples:
        faults |= s.faults
    return Window(
        samples=len(samples),
        duration_s=t[-1] - t[0],
        setpoint_hz=samples[-1].setpoint_hz,
        true_hz=slope(t, strokes),
        reported_hz=mean(reported),
        reported_sd_hz=sample_sd(reported),
        voltage_v=mean([s.voltage_v for s in samples]),
        min_voltage_v=min(s.voltage_v for s in samples),
        current_a=mean([s.current_a for s in samples]),
        max_current_a=max(s.current_a for s in samples),
        temp_c=mean([s.temp_c for s in samples]),
        depth_mm=mean([s.depth_mm for s in samples]),
        faults=faults,
    )


def interruption(sample: Telemetry) -> str | None:
    """Why the motor is not running in ``sample``, or None if it runs."""
    status = Status(sample.status)
    if Status.MOTOR_ON in status:
        return None
    stop = sample.faults & STOP_FAULTS
    if stop:
        return f"the pen stopped the motor: fault {fault_names(stop)}"
    if Status.ESTOP_LATCHED in status:
        return "the emergency stop was pressed"
    if Status.PEDAL_DOWN not in status:
        return "the pedal was released: keep it down for the whole run"
    return "the motor stopped"


class TelemetryReader:
    """Pulls telemetry from the pen's ring by device time, keeping the host alive so the
    pen's watchdog does not stop the motor while we wait."""

    def __init__(
        self,
        pen: Pen,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pen = pen
        self.sleep = sleep
        self.clock = clock

    def collect(self, seconds: float, *, motor: bool = True) -> list[Telemetry]:
        """Samples produced from now on until they span ``seconds`` of device time.

        ``motor``: the motor must run throughout; if it stops, ``RunInterruptedError``
        carries why.
        """
        pen = self.pen
        cursor = pen.telemetry.cursor
        got: list[Telemetry] = []
        first_t: int | None = None
        last_new = self.clock()
        while True:
            pen.alive()
            self.sleep(POLL_S)
            read = pen.telemetry.since(cursor)
            cursor = read.cursor
            now = self.clock()
            if read.items:
                last_new = now
            elif now - last_new > SILENCE_S:
                raise BenchTimeoutError(
                    f"no telemetry from pen {pen.serial} for {SILENCE_S:g} s: check the cable "
                    "and run again"
                )
            for sample in read.items:
                if motor:
                    why = interruption(sample)
                    if why is not None:
                        raise RunInterruptedError(why, sample.faults)
                got.append(sample)
                if first_t is None:
                    first_t = sample.t_us
                elif (sample.t_us - first_t) % U32 >= seconds * 1e6:
                    return got

    def wait_for(
        self, predicate: Callable[[Telemetry], bool], timeout_s: float, what: str
    ) -> Telemetry:
        """The first new sample for which ``predicate`` holds; ``BenchTimeoutError``
        naming ``what`` after ``timeout_s``."""
        pen = self.pen
        cursor = pen.telemetry.cursor
        end = self.clock() + timeout_s
        while self.clock() < end:
            pen.alive()
            self.sleep(POLL_S)
            read = pen.telemetry.since(cursor)
            cursor = read.cursor
            for sample in read.items:
                if predicate(sample):
                    return sample
        raise BenchTimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")


class TelemetryTape:
    """Every sample from the moment it is made on, in order, none skipped between reads.

    ``TelemetryReader.collect`` starts afresh at each call, which suits separate windows;
    a run that needs the transitions between its steps too (the acceleration ramps of the
    contact calibration) reads one continuous tape instead. Samples the ring overwrote
    before they were read are counted in ``missed``.
    """

    def __init__(self, reader: TelemetryReader) -> None:
        self.reader = reader
        self._cursor = reader.pen.telemetry.cursor
        self._pending: deque[Telemetry] = deque()
        self.missed = 0

    def take(self, seconds: float) -> list[Telemetry]:
        """The next samples, until they span ``seconds`` of device time (at least two).
        The motor must run throughout: if it stops, ``RunInterruptedError`` says why."""
        reader = self.reader
        pen = reader.pen
        got: list[Telemetry] = []
        last_new = reader.clock()
        while True:
            while self._pending:
                sample = self._pending.popleft()
                why = interruption(sample)
                if why is not None:
                    raise RunInterruptedError(why, sample.faults)
                got.append(sample)
                if len(got) >= 2 and (sample.t_us - got[0].t_us) % U32 >= seconds * 1e6:
                    return got
            pen.alive()
            reader.sleep(POLL_S)
            read = pen.telemetry.since(self._cursor)
            self._cursor = read.cursor
            self.missed += read.missed
            now = reader.clock()
            if read.items:
                last_new = now
                self._pending.extend(read.items)
            elif now - last_new > SILENCE_S:
                raise BenchTimeoutError(
                    f"no telemetry from pen {pen.serial} for {SILENCE_S:g} s: check the cable "
                    "and run again"
                )
