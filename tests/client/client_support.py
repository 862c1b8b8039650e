"""Helpers shared by the client tests: wait on a live pen while keeping its heartbeat lease."""

from __future__ import annotations

import time
from collections.abc import Callable

from smpctl.client import Pen
from smpctl.protocol import SimAction, Telemetry


def wait_until(pred: Callable[[], bool], timeout: float, pen: Pen | None = None) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pen is not None:
            pen.alive()
        if pred():
            return True
        time.sleep(0.005)
    return pred()


def latest(pen: Pen) -> Telemetry:
    assert wait_until(lambda: pen.latest is not None, 1.0)
    assert pen.latest is not None
    return pen.latest


def running_pen(pen: Pen, speed_hz: float = 110.0) -> None:
    pen.set_speed(speed_hz)
    pen.arm()
    pen.run()
    pen.sim(SimAction.PEDAL, 1)
    assert wait_until(lambda: latest(pen).speed_hz > speed_hz * 0.8, 3.0, pen)
