"""The per-zone table: this session's figures and dose beside the client's history.

Redrawn cell by cell: at the screen's refresh rate only the running zone's dose changes,
and rebuilding the whole table ten times a second would cost a layout pass each time.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import DataTable

from smpctl.dose import DoseState
from smpctl.tui.session_flow.dose_text import days_text, dose_bar, dose_text, percent_of
from smpctl.tui.session_flow.live_dose import ZoneDoseView
from smpctl.tui.session_flow.zone_figures import ZoneFigures

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
                before = self._cells.get((zone, key))
                if before != value:
                    self._cells[(zone, key)] = value
                    # a width change re-lays the whole table out: only when the text grew
                    wider = _width(value) > _width(before)
                    self.update_cell(zone, key, value, update_width=wider)


def _width(cell: Cell | None) -> int:
    if cell is None:
        return 0
    return cell.cell_len if isinstance(cell, Text) else len(str(cell))


def figure_cells(zone: str, now: ZoneFigures | None, last: ZoneFigures | None) -> dict[str, Cell]:
    """A zone's figures this session (zeros before its first pass) and last time's."""
    last_text = f"{last.passes}p {last.strokes}st" if last else "—"
    if now is None:
        return {
            "zone": zone,
            "passes": "0",
            "needle_s": "0",
            "strokes": "0",
            "mean_hz": "—",
            "depth": "—",
            "flags": "",
            "last": last_text,
        }
    return {
        "zone": zone,
        "passes": str(now.passes),
        "needle_s": f"{now.needle_s:.0f}",
        "strokes": str(now.strokes),
        "mean_hz": f"{now.mean_hz:.1f}" if now.mean_hz else "—",
        "depth": f"{now.depth_mm:.2f}" if now.depth_mm is not None else "—",
        "flags": f"{now.flags}⚑" if now.flags else "",
        "last": last_text,
    }


def dose_cells(view: ZoneDoseView, *, overridden: bool) -> dict[str, Cell]:
    """A zone's dose: this session, the bar toward the target coloured by the guard's
    state, the total over the client's sessions, days since last treated."""
    cells: dict[str, Cell] = {
        "per_cm2": dose_text(view.per_cm2),
        "total": dose_text(view.total_per_cm2),
        "treated": days_text(view.days_since),
    }
    c = view.check
    if c is None:
        cells["bar"] = Text("—", "dim")
        return cells
    percent = percent_of(c.per_cm2, c.target_per_cm2)
    bar = dose_bar(c.fraction_of_target, 8)
    if c.state is DoseState.AT_CEILING:
        # overridden: still red, no longer the alarm colours
        label_style = "bold red" if overridden else "bold white on red"
        cells["bar"] = Text.assemble((bar, "bold red"), " ", (f"{percent:3d}%", label_style))
        return cells
    if c.state is DoseState.NEAR:
        style = "bold yellow"
    elif c.target_reached:
        style = "bold green"
    else:
        style = "cyan"
    cells["bar"] = Text(f"{bar} {percent:3d}%", style)
    return cells
