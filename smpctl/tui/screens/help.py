"""`?`: every key, on one page."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("space", "STOP the needle (every screen, every dialog); it runs again only"),
    ("", "after a re-arm"),
    ("a", "arm: the needle may run while the pedal is down (interlocks"),
    ("", "permitting)"),
    ("1 … 0", "choose the zone: 1 HL, 2 TMP_L, 3 TMP_R, 4 FRN, 5 MID, 6 CRN,"),
    ("", "7 PAR_L, 8 PAR_R, 9 OCC, 0 NAP (or click it on the map)"),
    ("s", "scar overlay: none → FUT → FUE → other → none"),
    ("f", "flag the current (or last) pass"),
    ("n", "write a note on the current (or last) pass"),
    ("", "(space still stops the needle while you type)"),
    ("k", "acknowledge the alarms"),
    ("d", "go on past the chosen zone's dose ceiling this session (reason"),
    ("", "recorded); the hard maximum stops the needle whatever the reason"),
    ("x", "microneedling: the end point reached on the chosen zone,"),
    ("", "none → erythema → pinpoint bleeding → none"),
    ("o", "override an expired pen calibration for this session (reason"),
    ("", "recorded)"),
    ("i", "the pen: identity, calibration, link quality"),
    ("e", "end the session: summary and dose per zone"),
    ("F3", "on the start screen: review past sessions, replay passes"),
    ("F4", "on the start screen: a hair measurement for the client in the"),
    ("", "form (hairs/cm², rating, photo); adjunct treatments are entered"),
    ("", "with `smpctl clients adjunct CLIENT add` (shown in the history)"),
    ("?", "this help"),
    ("q", "quit (stops the pen first)"),
    ("p", "simulated pen only: press / release the pedal"),
    ("F5 F6 F7 F8", "simulated pen only: stall, over-heat, over-current, link drop"),
    ("escape", "close a dialog"),
)
"""Each text fits the help box beside its key (70 columns)."""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        lines = "\n".join(f"[b]{k:>12}[/b]  {text}" for k, text in KEYS)
        with Vertical(id="help-box"):
            yield Static("[b]Keys[/b]", id="help-title")
            yield Static(lines, id="help-keys")
            yield Static("escape closes", classes="dim")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
