"""The main screen: what the needle is doing, where, how much of each zone's dose is done,
and what went wrong."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, RichLog, Static

from smpctl.tui.alarms import AlarmBoard
from smpctl.tui.widgets.alarm_panel import AlarmPanel
from smpctl.tui.widgets.banner import SimBanner, StatusLine
from smpctl.tui.widgets.readouts import Readouts
from smpctl.tui.widgets.scalp_map import LEGEND, ScalpMap
from smpctl.tui.widgets.speed_gauge import SpeedGauge
from smpctl.tui.widgets.trend_plot import TrendPlot
from smpctl.tui.widgets.zone_table import ZoneTable


class TreatmentScreen(Screen[None]):
    def __init__(self, board: AlarmBoard, simulated: bool, *, microneedling: bool = False) -> None:
        super().__init__(id="treatment")
        self._board = board
        self._simulated = simulated
        self._microneedling = microneedling

    def compose(self) -> ComposeResult:
        if self._simulated:
            yield SimBanner()
        with Horizontal(id="top-line"):
            yield StatusLine("", id="session-line")
            yield Button("STOP  (space)", id="stop-button", variant="error")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield SpeedGauge(id="gauge")
                yield TrendPlot(id="plot")
                yield ZoneTable(microneedling=self._microneedling, id="zone-table")
            with Vertical(id="right"):
                yield Readouts(id="readouts")
                keys = (
                    "1…0 or click; s scar"
                    if not self._microneedling
                    else "1…0/click, s scar, x end pt"
                )
                yield Static(f"[b]Scalp[/b]  ({keys})", classes="panel-title")
                yield ScalpMap(id="scalp")
                yield Static(LEGEND, id="scalp-legend")
                yield Static("", id="pass-line")
        with Horizontal(id="bottom"):
            yield AlarmPanel(self._board, id="alarms")
            yield RichLog(id="event-log", max_lines=500, markup=False, wrap=False)
        yield Footer()
