"""Profiles tests: never read the real home (profiles or clinic settings), fresh sim names."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import smpctl.sim as sim
from smpctl.client import Pen
from smpctl.profiles.loader import SHIPPED_DIR

_names = itertools.count()

BASE = SHIPPED_DIR / "smp-base.toml"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMPCTL_PROFILES", "")
    monkeypatch.setenv("SMPCTL_CLINIC", "")


@pytest.fixture
def sim_name() -> Iterator[str]:
    name = f"profiles{next(_names)}"
    yield name
    if sim.BUS.get(name) is not None:
        sim.BUS.power_off(name)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a TOML file (dedented) into tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


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
