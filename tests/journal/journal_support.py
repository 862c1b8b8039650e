"""Helpers shared by the tests in tests/journal.

A module of its own: every conftest module is named ``conftest``, so importing from one
is ambiguous when several test folders run together.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from smpctl.client import Pen
from smpctl.journal import Insert, Journal


def wait_until(pred: Callable[[], bool], timeout: float, pen: Pen | None = None) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pen is not None:
            pen.alive()
        if pred():
            return True
        time.sleep(0.005)
    return pred()


def hold(pen: Pen, seconds: float) -> None:
    """Let real time pass while the application stays alive (heartbeats continue)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pen.alive()
        time.sleep(0.01)


def measure_area(journal: Journal, client_uid: str, zone: str, area: float, day: str) -> None:
    """A zone's area measured with a tape on ``day``, written straight to the store."""
    journal.store.write(
        [
            Insert(
                "client_areas",
                {
                    "uid": journal.store.new_uid(),
                    "client_uid": client_uid,
                    "zone": zone,
                    "area_cm2": area,
                    "measured_day": day,
                    "method": "tape",
                    "recorded_wall": journal.now,
                },
            )
        ]
    )
