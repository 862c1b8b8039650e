"""`n`: a note on the current (or last) pass."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class NoteScreen(ModalScreen[str | None]):
    """One line of text: a note on a pass, or the reason for an override."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(
        self,
        title: str = "Note on the current (or last) pass",
        placeholder: str = "e.g. client flinched, lighter hand on the left",
    ) -> None:
        super().__init__()
        self._title = title
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box"):
            yield Static(f"[b]{self._title}[/b]")
            yield Input(placeholder=self._placeholder, id="note")
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
