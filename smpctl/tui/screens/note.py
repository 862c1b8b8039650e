"""`n`: a note on the current (or last) pass."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class NoteScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box"):
            yield Static("[b]Note on the current (or last) pass[/b]")
            yield Input(placeholder="e.g. client flinched, lighter hand on the left", id="note")
            yield Static(
                "Enter saves · escape cancels · space still STOPS the needle (and types a space)",
                classes="dim",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
