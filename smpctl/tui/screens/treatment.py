"""The main screen: what the needle is doing, where, and what went wrong."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, RichLog, Static

from smpctl.tui.alarms import AlarmBoard
from smpctl.tui.widgets.alarm_panel import AlarmPanel
from smpctl.tui.widgets.banner import SimBanner, StatusLine
from smpctl.tui.widgets.readouts import Readouts
from smpctl.tui.widgets.scalp_map import ScalpMap
from smpctl.tui.widgets.speed_gauge import SpeedGauge
from smpctl.tui.widgets.trend_plot import TrendPlot

ZONE_COLUMNS = ("zone", "passes", "needle s", "strokes", "mean Hz", "depth", "flags", "last time")


class TreatmentScreen(Screen[None]):
    def __init__(self, board: AlarmBoard, simulated: bool) -> None:
        super().__init__(id="treatment")
        self._board = board
        self._simulated = simulated

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
                yield DataTable(id="zone-table", cursor_type="none", zebra_stripes=True)
            with Vertical(id="right"):
                yield Readouts(id="readouts")
                yield Static("[b]Scalp[/b]  (1…0 or click; s scar)", classes="panel-title")
                yield ScalpMap(id="scalp")
                yield Static("", id="pass-line")
        with Horizontal(id="bottom"):
            yield AlarmPanel(self._board, id="alarms")
            yield RichLog(id="event-log", max_lines=500, markup=False, wrap=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#zone-table", DataTable)
        table.add_columns(*ZONE_COLUMNS)
