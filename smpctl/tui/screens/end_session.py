"""End of session: what was done in each zone, then back to the start screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from smpctl.tui.session_flow import ZoneFigures


class EndSessionScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter", "close", "done")]

    def __init__(self, title: str, summary: dict[str, ZoneFigures]) -> None:
        super().__init__()
        self._title = title
        self._summary = summary

    def compose(self) -> ComposeResult:
        with Vertical(id="end-box"):
            yield Static(f"[b]Session ended[/b] — {self._title}")
            yield DataTable(id="end-table", cursor_type="none")
            total = sum(f.passes for f in self._summary.values())
            yield Static(f"{total} passes in {len(self._summary)} zones. Recorded in the journal.")
            yield Button("Done", id="end-done", variant="primary")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(
            "zone", "passes", "needle s", "strokes", "mean Hz", "interrupted", "flags"
        )
        for zone, f in sorted(self._summary.items()):
            table.add_row(
                zone,
                str(f.passes),
                f"{f.needle_s:.0f}",
                str(f.strokes),
                f"{f.mean_hz:.1f}" if f.mean_hz else "—",
                str(f.interrupted),
                str(f.flags),
            )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "end-done":
            event.stop()
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
