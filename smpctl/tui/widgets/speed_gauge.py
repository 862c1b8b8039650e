"""Measured speed against setpoint: the drift must be visible from across the room."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

DRIFT_OK = 0.05
"""Within 5 % of setpoint the dot heals as planned: green."""
DRIFT_WARN = 0.20
"""Beyond 20 % (the pen warns at 80 % of setpoint): red."""


def drift_style(measured: float, setpoint: float, running: bool) -> str:
    if not running or setpoint <= 0:
        return "dim"
    drift = abs(measured - setpoint) / setpoint
    if drift <= DRIFT_OK:
        return "bold green"
    if drift <= DRIFT_WARN:
        return "bold yellow"
    return "bold red"


class SpeedGauge(Widget):
    """A bar from 0 to the pen's maximum, the setpoint marked, the measured speed filled in
    the colour of its drift."""

    DEFAULT_CSS = """
    SpeedGauge { height: 4; }
    """

    measured_hz: reactive[float] = reactive(0.0)
    setpoint_hz: reactive[float] = reactive(0.0)
    max_hz: reactive[float] = reactive(150.0)
    running: reactive[bool] = reactive(False)

    def show(self, measured_hz: float, setpoint_hz: float, running: bool) -> None:
        self.measured_hz = measured_hz
        self.setpoint_hz = setpoint_hz
        self.running = running

    def render(self) -> Text:
        width = max(10, self.size.width - 2)
        style = drift_style(self.measured_hz, self.setpoint_hz, self.running)
        filled = round(min(1.0, self.measured_hz / self.max_hz) * width) if self.max_hz else 0
        mark = round(min(1.0, self.setpoint_hz / self.max_hz) * width) if self.max_hz else 0
        mark = min(mark, width - 1)
        bar = Text()
        for i in range(width):
            if i == mark and self.setpoint_hz > 0:
                bar.append("┃", "bold white")
            elif i < filled:
                bar.append("█", style)
            else:
                bar.append("░", "grey30")
        drift = ""
        if self.running and self.setpoint_hz > 0:
            pct = (self.measured_hz - self.setpoint_hz) / self.setpoint_hz * 100
            drift = f"   drift {pct:+5.1f} %"
        head = Text.assemble(
            ("SPEED ", "bold"),
            (f"{self.measured_hz:6.1f} Hz", style if self.running else "bold"),
            (f"   set {self.setpoint_hz:5.1f} Hz", "white"),
            (drift, style),
        )
        scale = Text(
            f"0{' ' * (width - len(f'{self.max_hz:g} Hz') - 1)}{self.max_hz:g} Hz", "grey50"
        )
        return Text("\n").join([head, bar, scale])
