"""F4 on the start screen: a hair measurement for the client in the form -- a trichoscope
count (terminal and vellus hairs per cm²) and/or a rating from standard photographs, with
the photo kept by reference -- recorded as `smpctl outcomes add` records it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from smpctl.errors import SmpctlError
from smpctl.outcomes import HairMeasurement
from smpctl.tui.session_flow.hair_measurement import AUTO_METHOD, MeasurementForm
from smpctl.zones import ZoneCode

ZONE_OPTIONS = [(f"{z.value} — {z.label}", z.value) for z in ZoneCode]
METHOD_OPTIONS = [
    ("from the figures (count: trichoscope, rating only: photo)", AUTO_METHOD),
    ("trichoscope", "trichoscope"),
    ("photo", "photo"),
]
FIELDS: dict[str, tuple[str, str]] = {
    "day": ("Day", "YYYY-MM-DD"),
    "terminal": ("Terminal hairs/cm²", "trichoscope count"),
    "vellus": ("Vellus hairs/cm²", "trichoscope count"),
    "rating": ("Rating", "from standard photos"),
    "scale": ("Scale", "e.g. Norwood"),
    "photo": ("Photo", "optional: the photo file's path (kept by reference and hash)"),
    "note": ("Note", "optional"),
}
WIDE = frozenset({"photo", "note"})
HINT = (
    "Terminal and/or vellus hairs per cm² from a trichoscope count, or a rating with its "
    "scale from standard photographs (or both)."
)

SaveMeasurement = Callable[[MeasurementForm], HairMeasurement]


class HairMeasurementScreen(ModalScreen[HairMeasurement | None]):
    """Saving goes through ``save`` (the app's, on its journal); a refusal stays in the
    dialog as a form problem, with nothing written, so the entry can be corrected."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, client: str, save: SaveMeasurement, *, today: dt.date) -> None:
        super().__init__(id="hair-measurement")
        self._client = client
        self._save = save
        self._today = today

    def compose(self) -> ComposeResult:
        with Vertical(id="measure-box"):
            title = Text.assemble(("Hair measurement", "bold"), f" — client {self._client}")
            yield Static(title, id="measure-title")
            with Grid(id="measure-form"):
                yield Label("Zone")
                yield Select(ZONE_OPTIONS, prompt="choose the zone", id="m-zone")
                yield from self._field("day", self._today.isoformat())
                yield from self._field("terminal")
                yield from self._field("vellus")
                yield from self._field("rating")
                yield from self._field("scale")
                yield Label("Method")
                yield Select(
                    METHOD_OPTIONS,
                    value=AUTO_METHOD,
                    allow_blank=False,
                    id="m-method",
                    classes="wide",
                )
                yield from self._field("photo")
                yield from self._field("note")
            yield Static(HINT, id="measure-problems", classes="dim")
            with Horizontal(id="measure-buttons"):
                yield Button("Save", id="measure-save", variant="success")
                yield Button("Cancel", id="measure-cancel")
            yield Static(
                "Enter saves · escape cancels · space still STOPS the needle · adjunct "
                "treatments: smpctl clients adjunct CLIENT add",
                classes="dim",
            )

    def _field(self, name: str, value: str = "") -> ComposeResult:
        label, placeholder = FIELDS[name]
        yield Label(label)
        yield Input(
            value=value,
            placeholder=placeholder,
            id=f"m-{name}",
            classes="wide" if name in WIDE else "",
        )

    def on_mount(self) -> None:
        self.query_one("#m-zone", Select).focus()

    def form(self) -> MeasurementForm:
        def text(name: str) -> str:
            return self.query_one(f"#m-{name}", Input).value

        zone = self.query_one("#m-zone", Select).value
        method = self.query_one("#m-method", Select).value
        return MeasurementForm(
            zone=zone if isinstance(zone, str) else "",
            day=text("day"),
            terminal=text("terminal"),
            vellus=text("vellus"),
            rating=text("rating"),
            scale=text("scale"),
            photo=text("photo"),
            method=method if isinstance(method, str) else AUTO_METHOD,
            note=text("note"),
        )

    def save(self) -> bool:
        """Record the entry; False, with the problems shown, when it was refused."""
        form = self.form()
        _values, problems = form.parsed()
        if not problems:
            try:
                recorded = self._save(form)
            except SmpctlError as exc:
                problems = [str(exc)]
            else:
                self.dismiss(recorded)
                return True
        shown = self.query_one("#measure-problems", Static)
        shown.set_classes("problems")
        shown.update(Text("\n".join(f"• {p}" for p in problems)))  # paths are not markup
        return False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "measure-save":
            self.save()
        elif event.button.id == "measure-cancel":
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
