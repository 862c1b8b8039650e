"""Commands as values, in physical units, checked against the limits in force.

Building a command is separate from sending it (``Pen.execute``), so commands can be logged,
diffed and replayed. A builder refuses a value outside the limits rather than letting the pen
clamp it: a clamped setpoint is a silent surprise for the practitioner.
"""

from __future__ import annotations

import math

from smpctl.errors import LimitViolationError
from smpctl.protocol import (
    BOOTLOADER_MAGIC,
    Arm,
    Disarm,
    EStop,
    HostMessage,
    ParamTable,
    ReadParam,
    RebootBootloader,
    Run,
    RunMode,
    SetDepth,
    SetRunMode,
    SetSpeed,
    SetStroke,
    SetTelemetryRate,
    SimAction,
    SimControl,
    Stop,
    WriteParam,
)

from .identity import PenLimits

Command = HostMessage


def _finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise LimitViolationError(f"{name} must be a number, got {value!r}")
    return value


def set_speed(hz: float, limits: PenLimits) -> SetSpeed:
    _finite("speed_hz", hz)
    if not 0 <= hz <= limits.max_speed_hz:
        raise LimitViolationError(
            f"speed {hz:g} Hz is outside 0–{limits.max_speed_hz:g} Hz allowed by the pen"
        )
    return SetSpeed(round(hz * 100))


def set_stroke(mm: float, limits: PenLimits) -> SetStroke:
    _finite("stroke_mm", mm)
    if not limits.min_stroke_mm <= mm <= limits.max_stroke_mm:
        raise LimitViolationError(
            f"stroke {mm:g} mm is outside {limits.min_stroke_mm:g}–{limits.max_stroke_mm:g} mm "
            "allowed by the pen"
        )
    return SetStroke(round(mm * 1000))


def set_depth(mm: float, limits: PenLimits, *, stroke_mm: float | None = None) -> SetDepth:
    _finite("depth_mm", mm)
    if not limits.min_depth_mm <= mm <= limits.max_depth_mm:
        raise LimitViolationError(
            f"depth {mm:g} mm is outside {limits.min_depth_mm:g}–{limits.max_depth_mm:g} mm "
            "allowed by the pen"
        )
    if stroke_mm is not None and mm > stroke_mm:
        raise LimitViolationError(f"depth {mm:g} mm is deeper than the stroke {stroke_mm:g} mm")
    return SetDepth(round(mm * 1000))


def set_run_mode(
    mode: RunMode = RunMode.CONTINUOUS,
    *,
    ramp_ms: int = 0,
    pulse_on_ms: int = 0,
    pulse_off_ms: int = 0,
) -> SetRunMode:
    if not 0 <= ramp_ms <= 2000:
        raise LimitViolationError(f"soft-start ramp {ramp_ms} ms is outside 0–2000 ms")
    if mode == RunMode.PULSED and not (10 <= pulse_on_ms <= 1000 and 10 <= pulse_off_ms <= 1000):
        raise LimitViolationError("pulse on and off times must each be 10–1000 ms")
    return SetRunMode(int(mode), ramp_ms, pulse_on_ms, pulse_off_ms)


def set_telemetry_rate(hz: int, limits: PenLimits) -> SetTelemetryRate:
    if not 0 <= hz <= limits.max_telemetry_hz:
        raise LimitViolationError(
            f"telemetry rate {hz} Hz is outside 0–{limits.max_telemetry_hz} Hz"
        )
    return SetTelemetryRate(hz)


def read_param(table: ParamTable, key: int) -> ReadParam:
    return ReadParam(int(table), int(key))


def write_param(table: ParamTable, key: int, value: int) -> WriteParam:
    return WriteParam(int(table), int(key), int(value))


def sim_control(action: SimAction, value: int = 0) -> SimControl:
    return SimControl(int(action), int(value))


def reboot_bootloader() -> RebootBootloader:
    return RebootBootloader(BOOTLOADER_MAGIC)


ARM = Arm()
DISARM = Disarm()
RUN = Run()
STOP = Stop()
ESTOP = EStop()
