"""Alarms that stay until acknowledged (k), newest first."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from smpctl.tui.alarms import STOP, AlarmBoard


class AlarmPanel(Widget):
    def __init__(self, board: AlarmBoard, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._board = board
        self._version = -1

    def sync(self) -> None:
        if self._board.version != self._version:
            self._version = self._board.version
            self.refresh()

    def render(self) -> Text:
        if not self._board.active:
            return Text("No alarms.", "dim")
        lines = []
        for alarm in self._board.active[:6]:
            style = "bold white on red" if alarm.severity == STOP else "bold black on yellow"
            times = f" ×{alarm.count}" if alarm.count > 1 else ""
            lines.append(Text.assemble((f" {alarm.severity} ", style), f" {alarm.text}{times}"))
        more = len(self._board.active) - 6
        if more > 0:
            lines.append(Text(f"… and {more} more", "dim"))
        lines.append(Text("k acknowledges all", "dim"))
        return Text("\n").join(lines)
