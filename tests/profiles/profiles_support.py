"""Helpers shared by the tests in tests/profiles.

A module of its own: every conftest module is named ``conftest``, so importing from one
is ambiguous when several test folders run together.
"""

from __future__ import annotations

from typing import Any

from smpctl.client import Pen

MINIMAL = """\
description = "one zone"
[run]
mode = "continuous"
ramp_ms = 100
min_pass_ms = 400
[sessions.1]
[zones.HL]
needle = "1RL"
needle_diameter_mm = 0.18
speed_hz = 100.0
stroke_mm = 2.8
depth_mm = 0.8
"""


def sim_setpoints(pen: Pen) -> dict[str, Any]:
    """What the simulated pen's firmware is really set to (ground truth, never on the wire)."""
    port: Any = pen.link.port  # type: ignore[union-attr]
    with port.pen_lock:
        fw = port.pen.firmware
        return {
            "speed_hz": fw._setpoint_chz / 100,
            "stroke_mm": fw._stroke_um / 1000,
            "depth_mm": fw._depth_um / 1000,
            "run_mode": int(fw._run_mode),
            "ramp_ms": fw._ramp_ms,
            "pulse_on_ms": fw._pulse_on_us // 1000,
            "pulse_off_ms": fw._pulse_off_us // 1000,
            "armed": fw.armed,
            "motor_on": fw.motor_on,
        }
