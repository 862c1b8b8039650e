"""Time sources for the simulated pen.

The pen core never reads a clock on its own: whoever drives it passes the time in. These
clocks are what drivers use, so a test (virtual clock, advanced by hand) and the real-time
runner (monotonic clock) drive the same deterministic core.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on this clock's own time line (only differences mean anything)."""
        ...


class MonotonicClock:
    """Wall time that never jumps (NTP, suspend): what a real-time pen follows."""

    def now(self) -> float:
        return time.monotonic()


class VirtualClock:
    """Time that moves only when told to, so tests run faster than real time.

    Kept in integer microseconds: adding 1 ms a million times as floats drifts, and
    telemetry timestamps must land on exact multiples of the sample period.
    """

    __slots__ = ("_us",)

    def __init__(self, start: float = 0.0) -> None:
        self._us = round(start * 1_000_000)

    def now(self) -> float:
        return self._us / 1_000_000

    @property
    def now_us(self) -> int:
        return self._us

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (>= 0); returns the new time."""
        step = round(seconds * 1_000_000)
        if step < 0:
            raise ValueError("a clock cannot run backwards")
        self._us += step
        return self.now()

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.now():.6f})"
