"""Session start: what kind of session and under which profile, who, which session, which
cartridge (and pigment, for SMP), the zone areas measured today, consent. Until this is done
the needle cannot run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    Static,
)

from smpctl.tui.session_flow.start_form import (
    DEFAULT_NEEDLES,
    MICRONEEDLING,
    SMP,
    SessionForm,
    default_profile,
    profiles_of_kind,
)
from smpctl.tui.widgets.banner import SimBanner

FIELDS: dict[str, tuple[str, str]] = {
    "client": ("Client pseudonym", "e.g. C-0142 (no names)"),
    "session_number": ("Session number", "1, 2, 3 …"),
    "practitioner": ("Practitioner", "your name or initials"),
    "needle": ("Cartridge", "1RL 0.20 / 3RL 0.25"),
    "cartridge_needles": ("Needles on box", "optional: checked"),
    "cartridge_lot": ("Cartridge lot", "as printed on the pack"),
    "cartridge_expiry": ("Cartridge expiry", "YYYY-MM-DD"),
    "areas": ("Zone areas (cm²)", "measured today (optional): HL=28, CRN=55"),
    "skin": ("Skin", "thin, oily, scarred, sun-damaged (optional)"),
    "pigment_shade": ("Pigment shade", "e.g. SMP Dark 2"),
    "pigment_dilution": ("Pigment dilution", "e.g. 1:3"),
    "pigment_lot": ("Pigment lot", "as printed on the bottle"),
}
WIDE = frozenset({"areas", "skin"})
"""Fields that take the whole row."""
PIGMENT = frozenset({"pigment_shade", "pigment_dilution", "pigment_lot"})
"""Not asked in a microneedling session: no pigment is used."""
NEEDLE_HINTS = {
    SMP: "1RL 0.20 / 3RL 0.25",
    MICRONEEDLING: "12-pin, 36-pin, nano …",
}
NO_PROFILE = ("none (pen's setpoints)", "")


class SessionStartScreen(Screen[None]):
    """Posts ``Submitted`` with the filled form; the app decides whether it may start."""

    class Submitted(Message):
        def __init__(self, form: SessionForm) -> None:
            super().__init__()
            self.form = form

    def __init__(
        self,
        simulated: bool,
        history: Callable[[str], str],
        *,
        today: Callable[[], dt.date] = dt.date.today,
        initial: SessionForm | None = None,
        profile_kinds: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(id="session-start")
        self._simulated = simulated
        self._history = history
        self._today = today
        self._initial = initial or SessionForm()
        self._profile_kinds = dict(profile_kinds or {})
        self._preferred = self._initial.profile or None

    def compose(self) -> ComposeResult:
        initial = self._initial
        if self._simulated:
            yield SimBanner()
        with Horizontal(id="start-top"):
            yield Static(
                "[b]New session[/b]  — interlocks: the needle cannot run until this "
                "is complete and you arm the pen",
                id="start-title",
            )
            yield Button("STOP  (space)", id="stop-button", variant="error")
        with Horizontal(id="start-body"):
            with Grid(id="start-form"):
                yield Label("Session kind")
                with RadioSet(id="f-kind"):
                    yield RadioButton("SMP", value=not initial.microneedling, id="kind-smp")
                    yield RadioButton("Microneedling", value=initial.microneedling, id="kind-mn")
                yield Label("Profile", classes="right-label")
                options = self._profile_options(initial.kind)
                value = initial.profile if initial.profile in [v for _l, v in options] else None
                yield Select(
                    options,
                    value=value if value is not None else options[0][1],
                    allow_blank=False,
                    id="f-profile",
                )
                for left, right in (
                    ("client", "session_number"),
                    ("practitioner", None),
                    ("needle", "cartridge_needles"),
                    ("cartridge_lot", "cartridge_expiry"),
                    ("areas", None),
                    ("skin", None),
                    ("pigment_shade", "pigment_dilution"),
                    ("pigment_lot", None),
                ):
                    yield from self._field(left)
                    if right is not None:
                        yield from self._field(right, right_column=True)
                    elif left == "practitioner":
                        yield Label("Consent", classes="right-label")
                        yield Checkbox("consent recorded", value=initial.consent, id="f-consent")
                    elif left not in WIDE:
                        yield Static("", classes="pigment")
                        yield Static("", classes="pigment")
            with Vertical(id="start-side"):
                yield Static("[b]Previous sessions[/b]", classes="panel-title")
                yield Static(
                    "Enter a pseudonym to see a returning client's sessions.", id="history"
                )
                yield Static("", id="start-problems")
                yield Button("Start session", id="start-button", variant="success")
                yield Button("Review past sessions (F3)", id="review-button")
                yield Button("Hair measurement (F4)", id="measure-button")
        yield Footer()

    def _field(self, name: str, *, right_column: bool = False) -> ComposeResult:
        label, placeholder = FIELDS[name]
        if name == "needle":
            placeholder = NEEDLE_HINTS[self._initial.kind]
        classes = " ".join(
            c
            for c in (
                "pigment" if name in PIGMENT else "",
                "right-label" if right_column else "",
            )
            if c
        )
        yield Label(label, classes=classes)
        value = getattr(self._initial, name)
        if isinstance(value, tuple):
            value = ", ".join(value)
        field_classes = " ".join(
            c for c in ("pigment" if name in PIGMENT else "", "wide" if name in WIDE else "") if c
        )
        yield Input(
            value=str(value) if value else "",
            placeholder=placeholder,
            id=f"f-{name}",
            classes=field_classes,
        )

    def _profile_options(self, kind: str) -> list[tuple[str, str]]:
        names = profiles_of_kind(kind, self._profile_kinds)
        return [(name, name) for name in names] if names else [NO_PROFILE]

    def on_mount(self) -> None:
        self.query_one("#f-client", Input).focus()
        self._show_kind(self._initial.kind)
        self._show_problems()

    def kind(self) -> str:
        return MICRONEEDLING if self.query_one("#kind-mn", RadioButton).value else SMP

    def form(self) -> SessionForm:
        values = {name: self.query_one(f"#f-{name}", Input).value for name in FIELDS}
        try:
            number = int(values.pop("session_number") or "0")
        except ValueError:
            number = 0
        profile = self.query_one("#f-profile", Select).value
        return SessionForm(
            client=values["client"],
            session_number=number,
            practitioner=values["practitioner"],
            needle=values["needle"],
            cartridge_lot=values["cartridge_lot"],
            cartridge_expiry=values["cartridge_expiry"],
            pigment_shade=values["pigment_shade"],
            pigment_dilution=values["pigment_dilution"],
            pigment_lot=values["pigment_lot"],
            consent=self.query_one("#f-consent", Checkbox).value,
            skin=SessionForm.parse_skin(values["skin"]),
            kind=self.kind(),
            profile=profile if isinstance(profile, str) else "",
            cartridge_needles=values["cartridge_needles"],
            areas=values["areas"],
        )

    def _show_kind(self, kind: str) -> None:
        """Pigment asked only for SMP; the profile list and the cartridge hint follow."""
        for widget in self.query(".pigment").results(Widget):
            widget.display = kind == SMP
        select: Select[str] = self.query_one("#f-profile", Select)
        options = self._profile_options(kind)
        current = select.value
        if current not in [v for _l, v in options]:
            select.set_options(options)
            select.value = default_profile(kind, self._profile_kinds, self._preferred)
        needle = self.query_one("#f-needle", Input)
        needle.placeholder = NEEDLE_HINTS[kind]
        other = {SMP: MICRONEEDLING, MICRONEEDLING: SMP}[kind]
        if not needle.value.strip() or needle.value.strip() == DEFAULT_NEEDLES[other]:
            needle.value = DEFAULT_NEEDLES[kind]

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self._show_kind(self.kind())
        self._show_problems()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._show_problems()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "f-client":
            self.show_history()
        self._show_problems()

    def show_history(self) -> None:
        """The history panel for the pseudonym in the form, read again (a measurement was
        just recorded, or the pseudonym changed)."""
        client = self.query_one("#f-client", Input).value
        self.query_one("#history", Static).update(self._history(client))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field; on a complete form it starts the session."""
        event.stop()
        if self._problems():
            self.focus_next()
        else:
            self._submit()

    def on_checkbox_changed(self, _event: Checkbox.Changed) -> None:
        self._show_problems()

    def _problems(self) -> list[str]:
        kinds = self._profile_kinds if self._profile_kinds else None
        return self.form().problems(self._today(), profile_kinds=kinds)

    def _show_problems(self) -> None:
        problems = self._problems()
        text = "\n".join(f"• {p}" for p in problems) if problems else "[green]Ready.[/green]"
        self.query_one("#start-problems", Static).update(text)

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start-button":
            event.stop()
            self._submit()
        elif event.button.id == "review-button":
            event.stop()
            await self.app.run_action("review")
        elif event.button.id == "measure-button":
            event.stop()
            await self.app.run_action("hair_measurement")

    def _submit(self) -> None:
        problems = self._problems()
        if problems:
            self._show_problems()
            self.notify("Cannot start: " + problems[0], severity="error", timeout=6)
            return
        self.post_message(self.Submitted(self.form()))
