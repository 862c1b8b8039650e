"""Speed and current over the last ten seconds."""

from __future__ import annotations

from collections import deque

from textual_plotext import PlotextPlot

from smpctl.protocol import Telemetry

WINDOW_S = 10.0
POINTS = 120
"""Plotted points: enough to show a dot's shape, few enough to draw in a few ms."""


class TrendPlot(PlotextPlot):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._t: deque[float] = deque()
        self._speed: deque[float] = deque()
        self._setpoint: deque[float] = deque()
        self._current: deque[float] = deque()
        self._last_added = -1e9

    def add(self, samples: list[Telemetry], t0_us: int) -> None:
        """Keep one point per 1/12 s (the plot's resolution), from device time."""
        step = WINDOW_S / POINTS
        for s in samples:
            t = (s.t_us - t0_us) / 1e6
            if t - self._last_added < step and t >= self._last_added:
                continue
            self._last_added = t
            self._t.append(t)
            self._speed.append(s.speed_hz)
            self._setpoint.append(s.setpoint_hz)
            self._current.append(s.current_a * 100)
        while self._t and self._t[-1] - self._t[0] > WINDOW_S:
            self._t.popleft()
            self._speed.popleft()
            self._setpoint.popleft()
            self._current.popleft()

    def clear_trend(self) -> None:
        for d in (self._t, self._speed, self._setpoint, self._current):
            d.clear()
        self._last_added = -1e9

    def redraw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("speed (Hz) and current (A x 100), last 10 s")
        if self._t:
            end = self._t[-1]
            xs = [t - end for t in self._t]
            plt.plot(xs, list(self._setpoint), label="setpoint", color="white")
            plt.plot(xs, list(self._speed), label="speed", color="green")
            plt.plot(xs, list(self._current), label="current", color="yellow")
            plt.xlim(-WINDOW_S, 0)
        plt.ylim(0, 160)
        self.refresh()
