"""Driving the dashboard as a practitioner would, for the end-to-end Pilot runs: the start
form filled in its widgets, zones chosen, the pen armed, the simulated pedal pressed with
the simulator's tapping hand in skin, sessions ended.

The simulated pen runs in its own process (`smpctl sim --tcp 0`): Pilot waits for an idle
app, and an in-process simulator keeps the CPU busy. Dates are injected: a ``Calendar``
moves the journal's wall clock and the dashboard's today together, so sessions are weeks
apart while the test takes seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from frozen_pen import FrozenPen
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, DataTable, Input, RadioButton, Select

from smpctl.client import LinkState, Pen, connect
from smpctl.journal import Journal
from smpctl.profiles import LoadedProfile, ProfileLibrary
from smpctl.protocol import Status
from smpctl.tui.app import Dashboard
from smpctl.tui.screens.end_session import EndSessionScreen
from smpctl.tui.screens.session_start import SessionStartScreen
from smpctl.tui.screens.treatment import TreatmentScreen
from smpctl.tui.session_flow.start_form import SessionForm
from smpctl.zones import ZoneCode

PASS_S = 0.8
"""Pedal down per pass: ~80 strokes at 100 Hz, a third or more of them in skin."""
TELEMETRY_HZ = 250
"""Enough for the contact detector (it works from 100 Hz), light on a shared machine."""


def connect_slow(url: str) -> Pen:
    """The pen, its telemetry at TELEMETRY_HZ."""
    pen = connect(url)
    pen.set_telemetry_rate(TELEMETRY_HZ)
    return pen


@contextmanager
def simulated_pen(seed: int) -> Iterator[str]:
    """A simulated pen with the tapping hand, in its own process; yields its URL."""
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "smpctl", "sim", "--tcp", "0", "--hand", "auto"),
            *("--seed", str(seed), "--baud", "921600"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=5)


class Calendar:
    """The day of the session being run: the journal's wall clock (real time, shifted to
    that day) and the dashboard's today."""

    def __init__(self, day: dt.date) -> None:
        self.day = day
        self._shift = 0.0
        self.go_to(day)

    def go_to(self, day: dt.date) -> None:
        self.day = day
        ten_am = dt.datetime(day.year, day.month, day.day, 10, 0).timestamp()
        self._shift = ten_am - time.time()

    def wall(self) -> float:
        return time.time() + self._shift

    def today(self) -> dt.date:
        return self.day


def shipped_profiles() -> list[LoadedProfile]:
    """Every profile shipped with smpctl, for the start screen's profile choice."""
    library = ProfileLibrary.default(None)
    return [library.load(name) for name in library.names()]


def simulated_dashboard(
    url: str,
    journal: Journal,
    calendar: Calendar,
    *,
    profile: LoadedProfile,
    profiles: Sequence[LoadedProfile],
) -> Dashboard:
    """The dashboard on the simulated pen at ``url``, its days kept by ``calendar``."""

    def connect_pen() -> Pen:
        return connect_slow(url)

    return Dashboard(
        connect_pen,
        journal=journal,
        simulated=True,
        today=calendar.today,
        wall=calendar.wall,
        profile=profile,
        profiles=list(profiles),
    )


def frozen_dashboard(
    pen: FrozenPen,
    journal: Journal,
    *,
    today: dt.date,
    form: SessionForm,
    profile: LoadedProfile,
) -> Dashboard:
    """The dashboard on a ``FrozenPen`` (no telemetry moves), its start form filled in."""
    return Dashboard(
        lambda: cast(Pen, pen),
        journal=journal,
        simulated=True,
        today=lambda: today,
        initial_form=form,
        profile=profile,
        profiles=[profile],
    )


async def reach(pilot: Pilot[Any], pred: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for ``pred``; fail the test when the dashboard does not get there in time."""
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "the dashboard did not get there in time"
        await pilot.pause(0.02)


async def open_treatment(pilot: Pilot[Any], app: Dashboard) -> None:
    """Start the session from the filled-in form and wait for the treatment screen."""
    await reach(pilot, lambda: app.pen is not None)
    await pilot.pause(0.2)
    await pilot.click("#start-button")
    await reach(pilot, lambda: isinstance(app.screen, TreatmentScreen))


async def until(pilot: Pilot[Any], pred: Callable[[], bool], timeout: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if pred():
            return True
        await pilot.pause(0.02)
    return pred()


def status(app: Dashboard) -> int:
    pen = app.pen
    return pen.latest.status if pen is not None and pen.latest is not None else 0


async def start_session(
    pilot: Pilot[Any],
    app: Dashboard,
    *,
    client: str,
    number: int,
    kind: str = "smp",
    profile: str | None = None,
    needle: str | None = None,
    needles_on_box: str = "",
    areas: str = "",
) -> None:
    """Fill the start screen's widgets and press Start session."""
    assert await until(pilot, lambda: app.pen is not None and app.pen.latest is not None)
    assert await until(pilot, lambda: isinstance(app.screen, SessionStartScreen))
    screen = app.screen
    screen.query_one(
        "#kind-mn" if kind == "microneedling" else "#kind-smp", RadioButton
    ).value = True
    await pilot.pause(0.05)
    if profile is not None:
        screen.query_one("#f-profile", Select).value = profile
    values = {
        "client": client,
        "session_number": str(number),
        "practitioner": "AB",
        "cartridge_needles": needles_on_box,
        "cartridge_lot": f"LOT-{number}",
        "cartridge_expiry": "2031-06-30",
        "areas": areas,
    }
    if needle is not None:
        values["needle"] = needle
    if kind == "smp":
        values |= {"pigment_shade": "SMP Dark 2", "pigment_dilution": "1:3", "pigment_lot": "PG"}
    for name, value in values.items():
        screen.query_one(f"#f-{name}", Input).value = value
    screen.query_one("#f-consent", Checkbox).value = True
    problems = screen.query_one("#start-problems")
    assert await until(pilot, lambda: "Ready." in str(problems.render())), problems.render()
    # the button pressed as a click would (Pilot's click waits for an idle CPU first)
    screen.query_one("#start-button", Button).press()
    assert await until(pilot, lambda: app.session is not None)
    assert await until(pilot, lambda: isinstance(app.screen, TreatmentScreen))


async def choose_and_arm(pilot: Pilot[Any], app: Dashboard, zone: ZoneCode) -> None:
    for attempt in (1, 2):
        app.action_zone(zone.value)
        if await until(
            pilot,
            lambda: (
                not app._applying and app.applied is not None and app.applied.resolved.zone is zone
            ),
        ):
            break
        # On a loaded two-core test machine the simulator's process can miss the client's
        # reply window: the link is then lost and comes back stopped and disarmed (what
        # test_dashboard_safety checks). These runs are about doses: once back, again.
        lost = any("LINK LOST" in a.text for a in app.board.active)
        assert attempt == 1 and lost, app.board.active
        assert await until(
            pilot, lambda: app.pen is not None and app.pen.state is LinkState.CONNECTED
        ), app.board.active
        app.action_acknowledge()
    app.action_arm()
    assert await until(pilot, lambda: bool(status(app) & Status.RUN_ENABLED)), (
        app.interlock_problems()
    )


async def pedal_pass(pilot: Pilot[Any], app: Dashboard, seconds: float = PASS_S) -> None:
    """One pass with the `p` pedal action; returns once the journal has closed it."""
    session = app.session
    assert session is not None and session.recorder is not None
    app.action_pedal()
    assert await until(pilot, lambda: bool(status(app) & Status.MOTOR_ON))
    await pilot.pause(seconds)
    app.action_pedal()
    assert await until(pilot, lambda: not status(app) & Status.PEDAL_DOWN), (
        f"pedal still down: status {Status(status(app))!r}, sim pedal {app._pedal_sim}, "
        f"alarms {[a.text for a in app.board.active]}, "
        f"log {[str(line.text) for line in app.screen.query_one('#event-log').lines][-12:]}"
    )
    # in a thread: a blocking wait here would freeze the UI loop, and so its heartbeat
    assert await asyncio.to_thread(session.recorder.sync, 3.0)
    assert await until(
        pilot, lambda: session.recorder is None or session.recorder.live_dose()[0] is None
    )


async def end_session(pilot: Pilot[Any], app: Dashboard) -> EndSessionScreen:
    """`e`, read the summary, Done: back on the start screen. Returns the summary screen."""
    app.action_end_session()
    assert await until(pilot, lambda: isinstance(app.screen, EndSessionScreen))
    summary = app.screen
    assert isinstance(summary, EndSessionScreen)
    assert await until(
        pilot, lambda: any(t.row_count for t in summary.query("#end-table").results(DataTable))
    )
    summary.query_one("#end-done", Button).press()
    assert await until(pilot, lambda: isinstance(app.screen, SessionStartScreen))
    return summary


async def history_text(pilot: Pilot[Any], app: Dashboard, client: str) -> str:
    """What the start screen's history panel shows once the pseudonym is typed."""
    screen = app.screen
    assert isinstance(screen, SessionStartScreen)
    screen.query_one("#f-client", Input).value = client
    history = screen.query_one("#history")
    assert await until(
        pilot, lambda: client in str(history.render()) or "#1" in str(history.render())
    )
    return str(history.render())
