"""Numeric readouts with their limits: a value turns amber, then red, as it nears a limit."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from smpctl import hard_limits as hard
from smpctl.protocol import Fault, Status, Telemetry


def _level(value: float, warn: float, stop: float) -> str:
    if value >= stop:
        return "bold red"
    if value >= warn:
        return "bold yellow"
    return "bold"


class Readouts(Widget):
    """Current, temperature, battery, stroke, depth, pedal and state, one line each."""

    DEFAULT_CSS = """
    Readouts { height: auto; min-height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._sample: Telemetry | None = None
        self._stroke_mm: float | None = None
        self._link_text = "—"
        self._link_style = "dim"
        self._rendered = Text("waiting for telemetry…", "dim")

    def show(
        self, sample: Telemetry | None, stroke_mm: float | None, link: tuple[str, str]
    ) -> None:
        self._sample = sample
        self._stroke_mm = stroke_mm
        self._link_text, self._link_style = link
        text = self._compose_text()
        if text.plain != self._rendered.plain:  # a refresh costs a compositor pass
            self._rendered = text
            self.refresh()

    def render(self) -> Text:
        return self._rendered

    def _compose_text(self) -> Text:
        s = self._sample
        if s is None:
            return Text("waiting for telemetry…", "dim")
        lines: list[Text] = []
        amps = s.current_a
        lines.append(
            Text.assemble(("Current   ", "grey70"), (f"{amps:5.2f} A", _level(amps, 2.2, 2.8)))
        )
        temp = s.temp_c
        lines.append(
            Text.assemble(
                ("Handpiece ", "grey70"),
                (f"{temp:5.1f} °C", _level(temp, hard.MAX_TEMP_C - 2, hard.MAX_TEMP_C)),
            )
        )
        if s.battery_pct == 255:
            lines.append(Text.assemble(("Battery   ", "grey70"), ("mains", "bold")))
        else:
            low = s.battery_pct < hard.MIN_BATTERY_PCT
            style = "bold red" if low else ("bold yellow" if s.battery_pct < 30 else "bold")
            lines.append(Text.assemble(("Battery   ", "grey70"), (f"{s.battery_pct:3d} %", style)))
        stroke = f"{self._stroke_mm:4.2f} mm" if self._stroke_mm is not None else "—"
        lines.append(Text.assemble(("Stroke    ", "grey70"), (stroke, "bold")))
        depth_style = "bold yellow" if s.depth_mm > hard.WARN_DEPTH_MM else "bold"
        lines.append(
            Text.assemble(("Depth     ", "grey70"), (f"{s.depth_mm:4.2f} mm", depth_style))
        )
        pedal = ("DOWN", "bold reverse green") if s.pedal_down else ("up", "bold")
        lines.append(Text.assemble(("Pedal     ", "grey70"), pedal))
        flags = Status(s.status)
        if Status.ESTOP_LATCHED in flags:
            state = ("E-STOP latched — press a to re-arm", "bold reverse red")
        elif Status.MOTOR_ON in flags:
            state = ("NEEDLE RUNNING", "bold reverse green")
        elif Status.ARMED in flags and Status.RUN_ENABLED in flags:
            state = ("ARMED — pedal to run", "bold green")
        elif Status.ARMED in flags:
            state = ("armed, stopped", "bold yellow")
        else:
            state = ("DISARMED", "bold")
        lines.append(Text.assemble(("State     ", "grey70"), state))
        faults = Fault(s.faults)
        if faults:
            names = ", ".join(f.name or "?" for f in Fault if f in faults)
            lines.append(Text.assemble(("Faults    ", "grey70"), (names, "bold red")))
        lines.append(Text.assemble(("Link      ", "grey70"), (self._link_text, self._link_style)))
        return Text("\n").join(lines)
