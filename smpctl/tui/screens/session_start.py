"""Session start: who, which session, which cartridge and pigment, consent. Until this is
done the needle cannot run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from smpctl.tui.session_flow import SessionForm
from smpctl.tui.widgets.banner import SimBanner

FIELDS: tuple[tuple[str, str, str], ...] = (
    ("client", "Client pseudonym", "e.g. C-0142 (no real names needed)"),
    ("session_number", "Session number", "1, 2, 3 …"),
    ("practitioner", "Practitioner", "your name or initials"),
    ("needle", "Cartridge needle", "1RL 0.20 / 3RL 0.25"),
    ("cartridge_lot", "Cartridge lot", "as printed on the pack"),
    ("cartridge_expiry", "Cartridge expiry", "YYYY-MM-DD"),
    ("pigment_shade", "Pigment shade", "e.g. SMP Dark 2"),
    ("pigment_dilution", "Pigment dilution", "e.g. 1:3"),
    ("pigment_lot", "Pigment lot", "as printed on the bottle"),
    ("skin", "Skin", "thin, oily, scarred, sun-damaged (optional)"),
)


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
    ) -> None:
        super().__init__(id="session-start")
        self._simulated = simulated
        self._history = history
        self._today = today
        self._initial = initial or SessionForm()

    def compose(self) -> ComposeResult:
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
                for name, label, placeholder in FIELDS:
                    yield Label(label)
                    value = getattr(self._initial, name)
                    if isinstance(value, tuple):
                        value = ", ".join(value)
                    yield Input(
                        value=str(value) if value else "",
                        placeholder=placeholder,
                        id=f"f-{name}",
                    )
                yield Label("Consent")
                yield Checkbox(
                    "client consent recorded", value=self._initial.consent, id="f-consent"
                )
            with Vertical(id="start-side"):
                yield Static("[b]Previous sessions[/b]", classes="panel-title")
                yield Static(
                    "Enter a pseudonym to see a returning client's sessions.", id="history"
                )
                yield Static("", id="start-problems")
                yield Button("Start session", id="start-button", variant="success")
                yield Button("Review past sessions (F3)", id="review-button")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#f-client", Input).focus()
        self._show_problems()

    def form(self) -> SessionForm:
        values = {name: self.query_one(f"#f-{name}", Input).value for name, _l, _p in FIELDS}
        try:
            number = int(values.pop("session_number") or "0")
        except ValueError:
            number = 0
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
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "f-client":
            self.query_one("#history", Static).update(self._history(event.value))
        self._show_problems()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field; on a complete form it starts the session."""
        event.stop()
        if self.form().problems(self._today()):
            self.focus_next()
        else:
            self._submit()

    def on_checkbox_changed(self, _event: Checkbox.Changed) -> None:
        self._show_problems()

    def _show_problems(self) -> None:
        problems = self.form().problems(self._today())
        text = "\n".join(f"• {p}" for p in problems) if problems else "[green]Ready.[/green]"
        self.query_one("#start-problems", Static).update(text)

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start-button":
            event.stop()
            self._submit()
        elif event.button.id == "review-button":
            event.stop()
            await self.app.run_action("review")

    def _submit(self) -> None:
        form = self.form()
        problems = form.problems(self._today())
        if problems:
            self._show_problems()
            self.notify("Cannot start: " + problems[0], severity="error", timeout=6)
            return
        self.post_message(self.Submitted(form))
