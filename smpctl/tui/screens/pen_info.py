"""`i`: which pen this is, its calibration and the health of the link."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class PenInfoScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,i", "close", "close")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="pen-box"):
            yield Static("[b]Pen[/b]", id="pen-title")
            yield Static(self._text, id="pen-facts")
            yield Static("escape closes", classes="dim")

    def update_text(self, text: str) -> None:
        self.query_one("#pen-facts", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
