"""The per-zone table: this session's figures and dose beside the client's history.

Redrawn cell by cell: at the screen's refresh rate only the running zone's dose changes,
and rebuilding the whole table ten times a second would cost a layout pass each time.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text

COLUMNS: tuple[tuple[str, str], ...] = (
    ("zone", "zone"),
    ("passes", "passes"),
    ("needle", "needle_s"),
    ("strokes", "strokes"),
    ("mean Hz", "mean_hz"),
    ("depth", "depth"),
    ("flags", "flags"),
    ("/cm²", "per_cm2"),
    ("of target", "bar"),
    ("total", "total"),
    ("treated", "treated"),
    ("end pt", "end_point"),
    ("last time", "last"),
)
MICRONEEDLING_ONLY = frozenset({"end_point"})


class ZoneTable(DataTable[Cell]):
    def __init__(self, *, microneedling: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=True)
        self.columns_shown = tuple(
            (label, key) for label, key in COLUMNS if microneedling or key not in MICRONEEDLING_ONLY
        )
        self._zones: tuple[str, ...] = ()
        self._cells: dict[tuple[str, str], Cell] = {}

    def on_mount(self) -> None:
        for label, key in self.columns_shown:
            self.add_column(label, key=key)

    @property
    def zones(self) -> tuple[str, ...]:
        return self._zones

    def show(self, rows: Mapping[str, Mapping[str, Cell]]) -> None:
        """``rows``: zone -> column key -> cell, in display order. Only changed cells are
        redrawn; the rows are rebuilt only when the set of zones changes."""
        zones = tuple(rows)
        if zones != self._zones:
            self.clear()
            self._cells = {}
            for zone in zones:
                values = [rows[zone].get(key, "") for _label, key in self.columns_shown]
                self.add_row(*values, key=zone)
                for (_label, key), value in zip(self.columns_shown, values, strict=True):
                    self._cells[(zone, key)] = value
            self._zones = zones
            return
        for zone in zones:
            for _label, key in self.columns_shown:
                value = rows[zone].get(key, "")
                if self._cells.get((zone, key)) != value:
                    self._cells[(zone, key)] = value
                    self.update_cell(zone, key, value, update_width=True)
