"""End of session: what was done in each zone and the dose it took, then back to the start
screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from smpctl.tui.session_flow.dose_text import dose_text, percent_of
from smpctl.tui.session_flow.live_dose import UNIT
from smpctl.tui.session_flow.treatment_session import ZoneSummary


class EndSessionScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter", "close", "done")]

    def __init__(
        self, title: str, summary: list[ZoneSummary], *, microneedling: bool = False
    ) -> None:
        super().__init__()
        self._title = title
        self._summary = summary
        self._microneedling = microneedling

    def compose(self) -> ComposeResult:
        with Vertical(id="end-box"):
            yield Static(f"[b]Session ended[/b] — {self._title}")
            yield DataTable(id="end-table", cursor_type="none")
            total = sum(z.figures.passes for z in self._summary)
            yield Static(
                f"{total} passes in {len(self._summary)} zones; dose in {UNIT}, the total over "
                "the client's sessions. Recorded in the journal."
            )
            yield Button("Done", id="end-done", variant="primary")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # the table is read, not browsed: focused, it would take Enter for its own
        table.can_focus = False
        self.query_one("#end-done", Button).focus()
        columns = ["zone", "passes", "needle s", "strokes", "mean Hz", "/cm²", "of target"]
        columns += ["total /cm²"]
        if self._microneedling:
            columns.append("end point")
        columns += ["interrupted", "flags"]
        table.add_columns(*columns)
        for z in self._summary:
            f = z.figures
            share = (
                f"{percent_of(z.per_cm2, z.target_per_cm2)} %"
                if z.per_cm2 is not None and z.target_per_cm2
                else "—"
            )
            row = [
                z.zone,
                str(f.passes),
                f"{f.needle_s:.0f}",
                str(f.strokes),
                f"{f.mean_hz:.1f}" if f.mean_hz else "—",
                dose_text(z.per_cm2),
                share,
                dose_text(z.total_per_cm2),
            ]
            if self._microneedling:
                row.append(z.end_point or "not recorded")
            row += [str(f.interrupted), str(f.flags)]
            table.add_row(*row)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "end-done":
            event.stop()
            self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
