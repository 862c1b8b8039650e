"""Command builders refuse values outside the limits the pen reported."""

from __future__ import annotations

import math

import pytest

from smpctl.client import PenLimits
from smpctl.client import commands as cmd
from smpctl.errors import LimitViolationError
from smpctl.protocol import RunMode, SetDepth, SetSpeed, SetStroke

LIMITS = PenLimits(
    max_speed_hz=130.0,
    min_stroke_mm=2.5,
    max_stroke_mm=4.0,
    min_depth_mm=0.2,
    max_depth_mm=1.8,
    max_current_a=3.0,
    max_temp_c=41.0,
    watchdog_ms=300,
    max_telemetry_hz=2000,
    max_slew_hz_per_s=400,
)


def test_setpoints_become_wire_units() -> None:
    assert cmd.set_speed(117.25, LIMITS) == SetSpeed(11725)
    assert cmd.set_stroke(3.2, LIMITS) == SetStroke(3200)
    assert cmd.set_depth(1.05, LIMITS) == SetDepth(1050)


@pytest.mark.parametrize("hz", [-1.0, 130.01, 200.0, math.nan, math.inf])
def test_speed_outside_pen_limits_is_refused(hz: float) -> None:
    with pytest.raises(LimitViolationError):
        cmd.set_speed(hz, LIMITS)


def test_depth_deeper_than_stroke_is_refused() -> None:
    with pytest.raises(LimitViolationError, match="deeper than the stroke"):
        cmd.set_depth(1.5, LIMITS, stroke_mm=1.2)


def test_depth_beyond_pen_limit_names_the_limit() -> None:
    with pytest.raises(LimitViolationError, match=r"0.2–1.8 mm"):
        cmd.set_depth(1.9, LIMITS)


def test_stroke_below_pen_minimum_is_refused() -> None:
    with pytest.raises(LimitViolationError):
        cmd.set_stroke(2.0, LIMITS)


def test_pulsed_mode_needs_sane_times() -> None:
    with pytest.raises(LimitViolationError):
        cmd.set_run_mode(RunMode.PULSED, pulse_on_ms=5, pulse_off_ms=100)
    assert cmd.set_run_mode(RunMode.PULSED, pulse_on_ms=50, pulse_off_ms=100).mode == 1


def test_ramp_longer_than_two_seconds_is_refused() -> None:
    with pytest.raises(LimitViolationError):
        cmd.set_run_mode(ramp_ms=2500)
