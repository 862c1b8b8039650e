"""`i`: which pen this is, its calibration and the health of the link."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from smpctl.client import Pen
from smpctl.tui.calibration import Calibration


def pen_text(pen: Pen | None, calibration: Calibration | None) -> str:
    if pen is None:
        return "No pen connected."
    ident = pen.identity
    st = pen.stats()
    lim = ident.limits
    lines = [
        f"model {ident.model}   serial {ident.serial}   firmware {ident.firmware}",
        f"protocol {ident.protocol_version}   {'SIMULATED' if ident.simulated else 'real pen'}",
        f"port {pen.url}   link {pen.state.value}",
        f"limits: speed ≤ {lim.max_speed_hz:g} Hz, stroke {lim.min_stroke_mm:g}–"
        f"{lim.max_stroke_mm:g} mm, depth ≤ {lim.max_depth_mm:g} mm, watchdog "
        f"{lim.watchdog_ms} ms",
        f"link: {st.summary()}",
        f"calibration: {calibration.describe() if calibration else 'not read'}",
    ]
    return "\n".join(lines)


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
