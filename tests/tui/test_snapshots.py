"""SVG snapshots of every dashboard screen (pytest-textual-snapshot).

Nothing here is live: the pen is a ``FrozenPen`` that shows exactly the telemetry and
notices a test feeds it, the journal's wall clock and the app's clock are fixed, and the
start form's cursor does not blink. Accept a deliberate change of the screens with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the SVGs it writes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from frozen_pen import ARMED_PEDAL_UP, RUNNING, FrozenPen, sample, wavy_trend
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select

from smpctl.client import HostEvent, Pen
from smpctl.journal import Journal, Outcome
from smpctl.profiles import LoadedProfile, ProfileLibrary
from smpctl.protocol import Event, EventKind, Fault
from smpctl.tui.app import Dashboard
from smpctl.tui.screens.end_session import EndSessionScreen
from smpctl.tui.screens.hair_measurement import HairMeasurementScreen
from smpctl.tui.screens.session_start import SessionStartScreen
from smpctl.tui.screens.treatment import TreatmentScreen
from smpctl.tui.session_flow.start_form import SessionForm
from smpctl.tui.widgets.trend_plot import TrendPlot
from smpctl.zones import ZoneCode

SIZE = (160, 48)
TODAY = dt.date(2026, 11, 25)
# noon UTC: the same calendar day in every time zone the history line could be shown in
LAST_VISIT = dt.datetime(2026, 10, 14, 12, 0, tzinfo=dt.UTC).timestamp()
THIS_VISIT = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC).timestamp()
LOG_TIME = time.struct_time((2026, 11, 25, 12, 34, 56, 2, 329, 0))
CLIENT = "C-0142"
RETURNING = SessionForm(
    client=CLIENT,
    session_number=2,
    practitioner="AB",
    cartridge_lot="LOT-991",
    cartridge_expiry="2027-06-30",
    pigment_shade="SMP Dark 2",
    pigment_dilution="1:3",
    pigment_lot="PG-77",
    consent=True,
)

LIBRARY = ProfileLibrary.default(None)
PROFILES: tuple[LoadedProfile, ...] = tuple(LIBRARY.load(name) for name in LIBRARY.names())
SMP_BASE = next(p for p in PROFILES if p.name == "smp-base")

RunBefore = Callable[[Pilot[Any]], Awaitable[None]]
SnapCompare = Callable[..., bool]


class SettableClock:
    """A clock that moves only when the test says so."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def wall() -> SettableClock:
    return SettableClock(LAST_VISIT)


@pytest.fixture
def journal(tmp_path: Path, wall: SettableClock) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite3", wall=wall) as j:
        yield j


def record_pass(
    journal: Journal,
    pen_uid: str,
    zone: ZoneCode,
    *,
    start: float,
    seconds: float,
    strokes: int,
    mean_hz: float,
    depth_mm: float,
    in_skin: int | None = None,
    outcome: Outcome = Outcome.COMPLETE,
) -> str:
    """A finished pass written straight into the journal, with fixed wall times."""
    journal.set_zone(zone)
    uid = journal.begin_pass(started_t_us=None, wall=start, pen_uid=pen_uid)
    journal.end_pass(
        uid,
        outcome=outcome,
        detail=None,
        ended_t_us=None,
        wall=start + seconds,
        aggregates={
            "samples": round(seconds * 1000),
            "speed_mean_hz": mean_hz,
            "speed_min_hz": mean_hz - 4,
            "speed_max_hz": mean_hz + 3,
            "strokes": strokes,
            "peak_current_a": 0.9,
            "max_temp_c": 34.0,
            "setpoint_hz": 100.0,
            "depth_mm": depth_mm,
        },
        events=[],
        in_skin_strokes=in_skin,
    )
    return uid


@pytest.fixture
def returning_client(journal: Journal, wall: SettableClock) -> Journal:
    """C-0142 came once before: six weeks ago, hairline and front."""
    pen = FrozenPen()
    pen_uid = journal.register_pen(pen.identity)
    journal.open_session(CLIENT, 1, "AB", consent=True, simulated=True, pen_uid=pen_uid)
    journal.register_cartridge("1RL 0.20", "LOT-880", "2027-01-31")
    journal.register_pigment("SMP Dark 2", "1:3", "PG-70")
    t = LAST_VISIT + 60
    for zone, seconds, strokes, in_skin, hz in (
        (ZoneCode.HL, 42.0, 4100, 2400, 97.6),
        (ZoneCode.HL, 35.0, 3380, 1900, 98.1),
        (ZoneCode.FRN, 51.0, 5020, 3000, 99.2),
    ):
        record_pass(
            journal,
            pen_uid,
            zone,
            start=t,
            seconds=seconds,
            strokes=strokes,
            mean_hz=hz,
            depth_mm=1.0,
            in_skin=in_skin,
        )
        t += seconds + 20
    wall.t = t
    journal.close_session()
    wall.t = THIS_VISIT
    return journal


def make_app(
    journal: Journal, pen: FrozenPen, clock: SettableClock, form: SessionForm | None
) -> Dashboard:
    """Started with smp-base, every shipped profile to choose from."""
    return Dashboard(
        lambda: cast(Pen, pen),
        journal=journal,
        simulated=True,
        clock=clock,
        today=lambda: TODAY,
        wall=lambda: time.mktime(LOG_TIME),  # event-log stamps read 12:34:56 in any time zone
        initial_form=form,
        profile=SMP_BASE,
        profiles=PROFILES,
    )


async def until(pilot: Pilot[Any], pred: Callable[[], bool], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "the dashboard did not get there in time"
        await pilot.pause(0.02)


async def settled(pilot: Pilot[Any], app: Dashboard, ticks: int = 3) -> None:
    """Let the 10 Hz refresh run a few times over what the test just set."""
    target = app.refreshes + ticks
    await until(pilot, lambda: app.refreshes >= target)


async def on_start_screen(pilot: Pilot[Any], app: Dashboard) -> None:
    await until(pilot, lambda: app.pen is not None)
    for field in app.screen.query(Input):
        field.cursor_blink = False  # a blinking cursor is a coin toss in a snapshot
    await settled(pilot, app)


def treatment(
    pen: FrozenPen, clock: SettableClock, *, running: bool, then: tuple[str, ...] = ()
) -> RunBefore:
    """Start the returning client's session 2, do two passes, choose FRN, and show a needle
    (running or not) with a warning raised."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = cast(Dashboard, pilot.app)
        await until(pilot, lambda: app.pen is not None)
        await settled(pilot, app)  # the history box grows first: click where the button ends up
        await pilot.click("#start-button")
        await until(pilot, lambda: isinstance(app.screen, TreatmentScreen))
        session = app.session
        assert session is not None and session.recorder is not None
        pen_uid = session.recorder.pen_uid
        assert pen_uid is not None
        t = THIS_VISIT + 120
        record_pass(  # HL past its target of 200 punctures/cm² (30 cm², 1RL)
            app.journal,
            pen_uid,
            ZoneCode.HL,
            start=t,
            seconds=98.0,
            strokes=9710,
            mean_hz=99.0,
            depth_mm=1.05,
            in_skin=6300,
        )
        record_pass(  # TMP_L near its ceiling of 600 (15 cm²): 560/cm², a WARN
            app.journal,
            pen_uid,
            ZoneCode.TMP_L,
            start=t + 120,
            seconds=95.0,
            strokes=9300,
            mean_hz=95.8,
            depth_mm=1.1,
            in_skin=8400,
            outcome=Outcome.INTERRUPTED_FAULT,
        )
        app.journal.flag_pass("flagged")
        # the dose warning comes first, whenever the dashboard reads the passes back
        await until(pilot, lambda: any("TMP_L at 93 %" in a.text for a in app.board.active))
        app.action_zone("FRN")
        await until(pilot, lambda: app.applied is not None)
        # the trend is fed with the pedal up, so the session's recorder opens no pass
        # (that would stamp the real wall clock into the table)
        pen.feed(wavy_trend(9000, status=ARMED_PEDAL_UP))
        pen.latest = sample(
            9000,
            speed_hz=96.2 if running else 0.0,
            current_a=0.71 if running else 0.05,
            temp_c=39.6,
            status=RUNNING if running else ARMED_PEDAL_UP,
            faults=int(Fault.TEMP_HIGH),
        )
        pen.announce(Event(7, 9_000_000, EventKind.ARMED, 0, 0))
        pen.announce(HostEvent("profile", "profile 'front-dense' applied to FRN", 0.0))
        pen.announce(Event(8, 9_500_000, EventKind.FAULT_RAISED, int(Fault.TEMP_HIGH), 3960))
        clock.t += 12 * 60 + 34
        table = app.screen.query_one("#zone-table", DataTable)
        await until(pilot, lambda: table.row_count == 3)
        # the dose warning, FRN's cartridge (smp-base treats it with a 3RL), the warm pen
        await until(pilot, lambda: len(app.board.active) == 3)
        await settled(pilot, app)
        for plot in app.screen.query(TrendPlot):
            plot.redraw()
        await pilot.pause()
        for key in then:
            await pilot.press(key)
        await settled(pilot, app)

    return run_before


def test_session_start_screen_when_empty(snap_compare: SnapCompare, journal: Journal) -> None:
    app = make_app(journal, FrozenPen(), SettableClock(1000.0), None)
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda p: on_start_screen(p, app))


def test_session_start_screen_shows_a_returning_clients_history(
    snap_compare: SnapCompare, returning_client: Journal
) -> None:
    app = make_app(returning_client, FrozenPen(), SettableClock(1000.0), RETURNING)
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda p: on_start_screen(p, app))


def test_session_start_screen_refuses_an_expired_cartridge(
    snap_compare: SnapCompare, returning_client: Journal
) -> None:
    form = replace(RETURNING, cartridge_expiry="2026-11-24", consent=False)
    app = make_app(returning_client, FrozenPen(), SettableClock(1000.0), form)
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda p: on_start_screen(p, app))


def test_session_start_screen_for_microneedling_names_the_form_problems(
    snap_compare: SnapCompare, returning_client: Journal
) -> None:
    """No pigment asked; the profile list is the microneedling ones; a needle count that
    is not the kind's and an impossible area are named before anything is recorded."""
    form = replace(
        RETURNING,
        kind="microneedling",
        profile="mn-scalp",
        needle="36-pin",
        cartridge_needles="12",
        areas="HL=28, CRN=0",
    )
    app = make_app(returning_client, FrozenPen(), SettableClock(1000.0), form)
    assert snap_compare(app, terminal_size=SIZE, run_before=lambda p: on_start_screen(p, app))


def test_hair_measurement_dialog_names_a_refused_entry(
    snap_compare: SnapCompare, returning_client: Journal
) -> None:
    """F4 on the start screen, for the client in the form: a day in the future is refused
    in the dialog, nothing recorded."""
    app = make_app(returning_client, FrozenPen(), SettableClock(1000.0), RETURNING)

    async def run_before(pilot: Pilot[Any]) -> None:
        await on_start_screen(pilot, app)
        await pilot.press("f4")
        await until(pilot, lambda: bool(app.screen.query("#m-note")))
        dialog = app.screen
        assert isinstance(dialog, HairMeasurementScreen)
        for field in dialog.query(Input):
            field.cursor_blink = False
        dialog.query_one("#m-zone", Select).value = "CRN"
        for name, value in (("day", "2026-11-26"), ("terminal", "62"), ("vellus", "18")):
            dialog.query_one(f"#m-{name}", Input).value = value
        dialog.save()
        await settled(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    assert returning_client.store.query("SELECT COUNT(*) AS n FROM outcomes")[0]["n"] == 0


def test_treatment_screen_with_a_running_needle_and_a_warning(
    snap_compare: SnapCompare, returning_client: Journal
) -> None:
    pen, clock = FrozenPen(), SettableClock(1000.0)
    app = make_app(returning_client, pen, clock, RETURNING)
    assert snap_compare(app, terminal_size=SIZE, run_before=treatment(pen, clock, running=True))


def test_help_overlay_lists_the_keys(snap_compare: SnapCompare, returning_client: Journal) -> None:
    pen, clock = FrozenPen(), SettableClock(1000.0)
    app = make_app(returning_client, pen, clock, RETURNING)
    run_before = treatment(pen, clock, running=False, then=("question_mark",))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_pen_info_screen(snap_compare: SnapCompare, returning_client: Journal) -> None:
    pen, clock = FrozenPen(), SettableClock(1000.0)
    app = make_app(returning_client, pen, clock, RETURNING)
    run_before = treatment(pen, clock, running=False, then=("i",))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_end_session_summary(snap_compare: SnapCompare, returning_client: Journal) -> None:
    pen, clock = FrozenPen(), SettableClock(1000.0)
    app = make_app(returning_client, pen, clock, RETURNING)
    run_before = treatment(pen, clock, running=False, then=("e",))
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    # ending stopped the pen first (STOP, then disarm; applying the profile stopped it too)
    sent = [name for name, _args in pen.calls if name in ("stop", "disarm")]
    assert sent[-2:] == ["stop", "disarm"]


async def test_enter_closes_the_end_of_session_summary(returning_client: Journal) -> None:
    """The summary's Done has the focus: Enter (as the footer says) goes back to the start
    screen, not into the table."""
    pen, clock = FrozenPen(), SettableClock(1000.0)
    app = make_app(returning_client, pen, clock, RETURNING)
    async with app.run_test(size=SIZE) as pilot:
        await treatment(pen, clock, running=False, then=("e",))(pilot)
        await until(pilot, lambda: isinstance(app.screen, EndSessionScreen))
        assert isinstance(app.screen, EndSessionScreen)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SessionStartScreen))
        assert isinstance(app.screen, SessionStartScreen)


def test_treatment_screen_of_a_microneedling_session_with_end_points(
    snap_compare: SnapCompare, journal: Journal, wall: SettableClock
) -> None:
    """A 12-pin on the crown at 70 % of mn-scalp's target with erythema reached, the
    mid-scalp at its ceiling: end points in the table, the map shaded, no pigment."""
    wall.t = THIS_VISIT
    pen, clock = FrozenPen(), SettableClock(1000.0)
    form = SessionForm(
        client="C-0300",
        session_number=2,
        practitioner="AB",
        needle="12-pin",
        cartridge_needles="12",
        cartridge_lot="LOT-12",
        cartridge_expiry="2027-06-30",
        consent=True,
        kind="microneedling",
        profile="mn-scalp",
    )
    app = make_app(journal, pen, clock, form)

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: app.pen is not None)
        await settled(pilot, app)
        await pilot.click("#start-button")
        await until(pilot, lambda: isinstance(app.screen, TreatmentScreen))
        session = app.session
        assert session is not None and session.recorder is not None
        pen_uid = session.recorder.pen_uid
        assert pen_uid is not None
        t = THIS_VISIT + 120
        for zone, in_skin in ((ZoneCode.CRN, 875), (ZoneCode.MID, 2000)):
            # CRN 875 × 12 / 60 = 175/cm² (70 % of 250); MID 2000 × 12 / 80 = 300, its ceiling
            record_pass(
                app.journal,
                pen_uid,
                zone,
                start=t,
                seconds=14.0,
                strokes=in_skin + 300,
                mean_hz=110.0,
                depth_mm=0.8,
                in_skin=in_skin,
            )
            t += 60
        await until(pilot, lambda: "MID" in app._figures)
        for zone, presses in ((ZoneCode.CRN, 1), (ZoneCode.MID, 2)):
            app.zone = zone
            for _ in range(presses):
                app.action_end_point()
        app.action_zone("CRN")
        await until(pilot, lambda: app.applied is not None and not app._applying)
        pen.feed(wavy_trend(9000, status=ARMED_PEDAL_UP))
        pen.latest = sample(9000, speed_hz=0.0, current_a=0.05, status=ARMED_PEDAL_UP)
        clock.t += 9 * 60 + 5
        await settled(pilot, app)
        for plot in app.screen.query(TrendPlot):
            plot.redraw()
        await pilot.pause()
        await settled(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
