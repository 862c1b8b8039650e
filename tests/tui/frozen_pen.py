"""A pen that never moves on its own: what the dashboard reads, with fixed values.

Snapshot tests need every pixel to be the same on every run, so nothing here runs a
thread or reads a clock: telemetry and notices appear only when the test ``feed``s them,
link statistics are constants, and commands are recorded instead of sent.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from smpctl.client import (
    HostEvent,
    LinkState,
    LinkStats,
    Notice,
    PenIdentity,
    PenLimits,
    Ring,
)
from smpctl.protocol import Ack, CalibrationKey, Capability, SimAction, Status, Telemetry

LIMITS = PenLimits(
    max_speed_hz=150.0,
    min_stroke_mm=2.0,
    max_stroke_mm=4.0,
    min_depth_mm=0.0,
    max_depth_mm=2.0,
    max_current_a=3.0,
    max_temp_c=41.0,
    watchdog_ms=300,
    max_telemetry_hz=1000,
    max_slew_hz_per_s=400,
)
IDENTITY = PenIdentity(
    model="SMP-R1",
    serial="SIM00042",
    firmware="1.4.2",
    protocol_version="1.0",
    capabilities=Capability.SIMULATED
    | Capability.DEPTH_MOTOR
    | Capability.STROKE_ADJUST
    | Capability.PULSED_MODE
    | Capability.BATTERY
    | Capability.TEMPERATURE
    | Capability.CURRENT_SENSE,
    limits=LIMITS,
)
STATS = LinkStats(
    frames_s=1002.0,
    bytes_s=38_076.0,
    telemetry_hz=1000.0,
    samples=123_456,
    seq_gaps=0,
    crc_errors=0,
    bytes_discarded=0,
    unknown_frames=0,
    jitter_us=3.2,
    rtt_ms_last=1.4,
    rtt_ms_p99=2.1,
    retries=0,
    events_missed=0,
)
RUNNING = int(
    Status.PEDAL_DOWN
    | Status.ARMED
    | Status.RUN_ENABLED
    | Status.MOTOR_ON
    | Status.HOST_ALIVE
    | Status.CALIBRATED
)
ARMED_PEDAL_UP = int(Status.ARMED | Status.RUN_ENABLED | Status.HOST_ALIVE | Status.CALIBRATED)


def days(day: dt.date) -> int:
    """A date as the pen stores it: days since 1970."""
    return (day - dt.date(1970, 1, 1)).days


CALIBRATION: dict[CalibrationKey, int] = {
    CalibrationKey.SPEED_GAIN_PPM: 1_000_000,
    CalibrationKey.SPEED_OFFSET_CHZ: 0,
    CalibrationKey.SPEED_CAL_DAY: days(dt.date(2026, 9, 1)),
    CalibrationKey.SPEED_CAL_EXPIRES_DAY: days(dt.date(2027, 3, 1)),
    CalibrationKey.DEPTH_GAIN_PPM: 1_000_000,
    CalibrationKey.DEPTH_OFFSET_UM: 0,
    CalibrationKey.DEPTH_CAL_DAY: days(dt.date(2026, 9, 1)),
    CalibrationKey.DEPTH_CAL_EXPIRES_DAY: days(dt.date(2027, 3, 1)),
}


def sample(
    i: int,
    *,
    speed_hz: float = 98.4,
    setpoint_hz: float = 100.0,
    current_a: float = 0.62,
    status: int = RUNNING,
    faults: int = 0,
    battery_pct: int = 78,
    temp_c: float = 33.6,
    depth_mm: float = 1.1,
) -> Telemetry:
    """Sample ``i`` of a 1000 Hz stream; everything is a function of ``i`` alone."""
    return Telemetry(
        t_us=1_000_000 + i * 1000,
        sample_seq=i,
        speed_chz=round(speed_hz * 100),
        setpoint_chz=round(setpoint_hz * 100),
        current_ma=round(current_a * 1000),
        voltage_mv=7400,
        temp_cdegc=round(temp_c * 100),
        strokes=i // 10,
        depth_um=round(depth_mm * 1000),
        battery_pct=battery_pct,
        status=status,
        faults=faults,
    )


def wavy_trend(n: int, *, status: int) -> list[Telemetry]:
    """``n`` ms of a needle that dips as it meets the skin: a plot with some shape."""
    out = []
    for i in range(n):
        dip = 6.0 * max(0.0, math.sin(i / 700.0))
        out.append(sample(i, speed_hz=100.0 - dip, current_a=0.55 + dip / 20, status=status))
    return out


class FrozenPen:
    """Quacks like ``smpctl.client.Pen`` for the dashboard and its recorder."""

    def __init__(
        self,
        identity: PenIdentity = IDENTITY,
        url: str = "sim://frozen",
        calibration: dict[CalibrationKey, int] | None = None,
    ) -> None:
        self.identity = identity
        self.url = url
        self.calibration = dict(CALIBRATION if calibration is None else calibration)
        self.telemetry: Ring[Telemetry] = Ring(16384)
        self.notices: Ring[Notice] = Ring(1024)
        self.latest: Telemetry | None = None
        self.state = LinkState.CONNECTED
        self.link: Any = None
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        """Every command the dashboard sent, in order (``alive`` is not a command)."""
        self.alive_calls = 0
        self._subscribers: list[Callable[[Notice], None]] = []

    # ------------------------------------------------------------------ facts

    @property
    def serial(self) -> str:
        return self.identity.serial

    @property
    def limits(self) -> PenLimits:
        return self.identity.limits

    @property
    def simulated(self) -> bool:
        return self.identity.simulated

    def stats(self) -> LinkStats:
        return STATS

    # ------------------------------------------------------------------ the test's side

    def feed(self, samples: list[Telemetry]) -> None:
        """Telemetry as the reader thread would deliver it."""
        self.telemetry.extend(samples)
        if samples:
            self.latest = samples[-1]

    def announce(self, notice: Notice) -> None:
        """A pen, link or host event as the reader thread would deliver it."""
        self.notices.append(notice)
        for callback in list(self._subscribers):
            callback(notice)

    # ------------------------------------------------------------------ Pen's API

    def subscribe(self, callback: Callable[[Notice], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def post(self, kind: str, message: str, **data: Any) -> HostEvent:
        event = HostEvent(kind, message, 0.0, dict(data))
        self.announce(event)
        return event

    def alive(self, lease_s: float | None = None) -> None:
        self.alive_calls += 1

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    def arm(self) -> None:
        self._record("arm")

    def disarm(self) -> None:
        self._record("disarm")

    def run(self) -> None:
        self._record("run")

    def stop(self) -> None:
        self._record("stop")

    def stop_now(self) -> bool:
        self._record("stop_now")
        return True

    def estop(self) -> None:
        self._record("estop")

    def sim(self, action: SimAction, value: int = 0) -> None:
        self._record("sim", action, value)

    def set_speed(self, hz: float) -> float:
        self._record("set_speed", hz)
        return hz

    def set_stroke(self, mm: float) -> float:
        self._record("set_stroke", mm)
        return mm

    def set_depth(self, mm: float) -> float:
        self._record("set_depth", mm)
        return mm

    def set_run_mode(self, mode: Any, **kwargs: Any) -> None:
        self._record("set_run_mode", mode, kwargs)

    def set_telemetry_rate(self, hz: int) -> int:
        self._record("set_telemetry_rate", hz)
        return hz

    def execute(self, command: Any) -> Ack:
        """A command as a value (profiles apply this way): acknowledged as sent."""
        self._record("execute", command)
        value = next(
            (
                int(getattr(command, name))
                for name in ("speed_chz", "stroke_um", "depth_um")
                if hasattr(command, name)
            ),
            0,
        )
        return Ack(0, 0, value)

    def read_config(self, key: Any) -> int:
        self._record("read_config", key)
        return 0

    def read_calibration(self, key: CalibrationKey) -> int:
        self._record("read_calibration", key)
        return self.calibration.get(key, 0)

    def close(self) -> None:
        self._record("close")
        self.state = LinkState.CLOSED
