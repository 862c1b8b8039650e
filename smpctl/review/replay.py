"""Replaying a recorded pass on its own clock, at 1x or faster: the review screen feeds
what ``advance`` returns to the same gauge and plot the live dashboard uses."""

from __future__ import annotations

from collections.abc import Sequence

from smpctl.protocol import Telemetry

SPEEDS: tuple[float, ...] = (1.0, 10.0)


class Replay:
    def __init__(self, samples: Sequence[Telemetry], speed: float = 1.0) -> None:
        self.samples = list(samples)
        self.speed = speed
        self.position_s = 0.0
        self.playing = False
        self._next = 0
        self._t0 = self.samples[0].t_us if self.samples else 0

    @property
    def t0_us(self) -> int:
        return self._t0

    @property
    def duration_s(self) -> float:
        return self._offset(self.samples[-1]) if self.samples else 0.0

    @property
    def finished(self) -> bool:
        return self._next >= len(self.samples)

    @property
    def last(self) -> Telemetry | None:
        return self.samples[self._next - 1] if self._next else None

    def _offset(self, sample: Telemetry) -> float:
        return ((sample.t_us - self._t0) & 0xFFFFFFFF) / 1e6

    def play(self, speed: float | None = None) -> None:
        if speed is not None:
            self.speed = speed
        if self.finished:
            self.restart()
        self.playing = True

    def pause(self) -> None:
        self.playing = False

    def restart(self) -> None:
        self.position_s = 0.0
        self._next = 0

    def advance(self, elapsed_s: float) -> list[Telemetry]:
        """The samples that fall within the next ``elapsed_s`` of wall time."""
        if not self.playing:
            return []
        self.position_s = min(self.duration_s, self.position_s + elapsed_s * self.speed)
        start = self._next
        end = start
        while end < len(self.samples) and self._offset(self.samples[end]) <= self.position_s:
            end += 1
        self._next = end
        if self.finished:
            self.playing = False
        return self.samples[start:end]
