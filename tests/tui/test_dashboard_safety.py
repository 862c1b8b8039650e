"""The dashboard's safety behaviour, driven with Textual's Pilot against the simulator."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from smpctl.client import Pen, connect
from smpctl.journal import Journal
from smpctl.profiles import LoadedProfile, ProfileLibrary
from smpctl.protocol import SimAction, Status, Stop
from smpctl.tui.app import Dashboard
from smpctl.tui.screens.help import HelpScreen
from smpctl.tui.screens.session_start import SessionStartScreen
from smpctl.tui.session_flow.start_form import SessionForm
from smpctl.zones import ZoneCode


@pytest.fixture
def sim_url() -> Iterator[str]:
    """The simulated pen in its own process, on a TCP port: the test process stays idle
    enough for Pilot's waits (an in-process simulator keeps the CPU busy)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "smpctl", "sim", "--tcp", "0", "--hand", "air"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    yield url
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=5)


TODAY = dt.date(2026, 11, 25)
FORM = SessionForm(
    client="C-0142",
    session_number=1,
    practitioner="AB",
    cartridge_lot="LOT-991",
    cartridge_expiry="2027-06-30",
    pigment_shade="SMP Dark 2",
    pigment_dilution="1:3",
    pigment_lot="PG-77",
    consent=True,
)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite3") as j:
        yield j


@pytest.fixture
def make_app(sim_url: str, journal: Journal) -> Callable[..., Dashboard]:
    def make(form: SessionForm | None = FORM, profile: LoadedProfile | None = None) -> Dashboard:
        def connect_pen() -> Pen:
            return connect(sim_url)

        return Dashboard(
            connect_pen,
            journal=journal,
            simulated=True,
            today=lambda: TODAY,
            initial_form=form,
            profile=profile,
        )

    return make


async def started(app: Dashboard, pilot: object) -> None:
    """Wait for the pen, then start the session from the filled start form."""
    assert await until(pilot, lambda: app.pen is not None and app.pen.latest is not None)
    await pilot.click("#start-button")  # type: ignore[attr-defined]
    assert await until(pilot, lambda: app.session is not None)


async def until(pilot: object, pred: Callable[[], bool], timeout: float = 3.0) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if pred():
            return True
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    return pred()


def status(app: Dashboard) -> int:
    assert app.pen is not None and app.pen.latest is not None
    return app.pen.latest.status


async def running(app: Dashboard, pilot: object) -> None:
    await started(app, pilot)
    assert app.pen is not None
    # keys are tested on their own below; here the actions they bind are called directly,
    # since every Pilot key press waits up to 2 s for a busy (live) app to go idle
    app.action_zone("FRN")
    app.action_arm()
    assert await until(pilot, lambda: bool(status(app) & Status.RUN_ENABLED))
    app.pen.set_speed(100)
    app.pen.sim(SimAction.PEDAL, 1)
    assert await until(pilot, lambda: bool(status(app) & Status.MOTOR_ON))


async def test_arming_is_refused_until_a_zone_is_chosen(make_app: Callable[..., Dashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await started(app, pilot)
        await pilot.press("a")
        await pilot.pause(0.3)
        assert not status(app) & Status.ARMED
        await pilot.press("4")
        assert app.zone is ZoneCode.FRN
        await pilot.press("a")
        assert await until(pilot, lambda: bool(status(app) & Status.ARMED))


async def test_space_stops_the_needle_even_from_the_help_dialog(
    make_app: Callable[..., Dashboard],
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("space")
        assert await until(pilot, lambda: not status(app) & Status.MOTOR_ON)
        # stopped AND disarmed: the pedal alone cannot restart it
        assert await until(pilot, lambda: not status(app) & Status.ARMED)
        assert isinstance(app.screen, HelpScreen)


async def test_stop_button_stops_the_needle(make_app: Callable[..., Dashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        await pilot.click("#stop-button")
        assert await until(pilot, lambda: not status(app) & Status.MOTOR_ON)


async def test_zone_change_with_the_pedal_down_is_refused(
    make_app: Callable[..., Dashboard],
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        await pilot.press("6")
        await pilot.pause(0.1)
        assert app.zone is ZoneCode.FRN
        assert app.pen is not None
        app.pen.sim(SimAction.PEDAL, 0)
        assert await until(pilot, lambda: not status(app) & Status.PEDAL_DOWN)
        await pilot.press("6")
        assert app.zone is ZoneCode.CRN


async def test_a_frozen_dashboard_lets_the_pen_watchdog_stop_the_needle(
    make_app: Callable[..., Dashboard],
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        assert app.pen is not None
        pen = app.pen
        # freeze the UI loop: nothing renews the heartbeat lease
        import time

        time.sleep(0.8)
        sample = pen.latest
        assert sample is not None
        assert not sample.status & Status.MOTOR_ON
        assert not sample.status & Status.ARMED


async def test_link_drop_raises_an_alarm_and_the_pen_comes_back_stopped(
    make_app: Callable[..., Dashboard],
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        await pilot.press("f8")
        assert await until(pilot, lambda: any("LINK LOST" in a.text for a in app.board.active))
        assert app.board.has_stop
        assert await until(
            pilot, lambda: any("reconnected" in a.text for a in app.board.active), 5.0
        )
        await pilot.pause(0.2)
        assert not status(app) & (Status.ARMED | Status.MOTOR_ON)
        await pilot.press("k")
        assert not app.board.active


async def test_the_needle_cannot_be_armed_before_a_session_is_started(
    make_app: Callable[..., Dashboard],
) -> None:
    app = make_app(None)
    async with app.run_test(size=(160, 48)) as pilot:
        assert await until(pilot, lambda: app.pen is not None and app.pen.latest is not None)
        app.action_arm()
        await pilot.pause(0.3)
        assert not status(app) & Status.ARMED
        assert app.interlock_problems() == ["start a session first (client, cartridge, consent)"]


async def test_an_expired_cartridge_is_refused_at_session_start(
    make_app: Callable[..., Dashboard],
) -> None:
    from dataclasses import replace

    app = make_app(replace(FORM, cartridge_expiry="2026-11-24"))
    async with app.run_test(size=(160, 48)) as pilot:
        assert await until(pilot, lambda: app.pen is not None)
        await pilot.click("#start-button")
        await pilot.pause(0.3)
        assert app.session is None
        problems = str(app.screen.query_one("#start-problems").render())
        assert "expired on 2026-11-24" in problems


async def test_a_pass_is_recorded_and_shown_in_the_zone_table(
    make_app: Callable[..., Dashboard], journal: Journal
) -> None:
    from textual.widgets import DataTable

    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        assert app.pen is not None
        await pilot.pause(1.0)
        app.pen.sim(SimAction.PEDAL, 0)
        # the table refreshes once a second from the journal; allow for a loaded machine
        assert await until(
            pilot, lambda: "FRN" in app._figures and app._figures["FRN"].strokes > 0, 10.0
        )
        table = app.screen.query_one(DataTable)
        row = table.get_row_at(0)
        assert row[0] == "FRN" and row[1] == "1"
        figures = app._figures["FRN"]
        assert figures.strokes > 20
        assert figures.mean_hz is not None and 90 < figures.mean_hz < 110
    passes = journal.passes()
    assert len(passes) == 1 and passes[0].zone == "FRN"


async def test_choosing_a_zone_applies_its_profile_before_the_needle_may_run(
    make_app: Callable[..., Dashboard],
) -> None:
    from dataclasses import replace

    profile = ProfileLibrary.default(None).load("smp-base")
    app = make_app(replace(FORM, session_number=2, skin=("thin",)), profile)
    async with app.run_test(size=(160, 48)) as pilot:
        await started(app, pilot)
        app.action_zone("HL")
        assert await until(pilot, lambda: app.applied is not None)
        assert app.applied is not None
        resolved = app.applied.resolved
        assert (resolved.zone, resolved.session, resolved.skin) == (ZoneCode.HL, 2, ("thin",))
        assert await until(
            pilot,
            lambda: (
                status(app) >= 0
                and app.pen is not None
                and app.pen.latest is not None
                and abs(app.pen.latest.setpoint_hz - resolved.speed_hz) < 0.01
            ),
        )
        app.action_arm()
        assert await until(pilot, lambda: bool(status(app) & Status.ARMED))
        # a scar overlay re-applies: slower and shallower, per the profile
        app.action_scar()
        assert await until(
            pilot, lambda: app.applied is not None and app.applied.resolved.scar is not None
        )
        assert app.applied is not None
        assert app.applied.resolved.speed_hz < resolved.speed_hz
        assert app.applied.resolved.depth_mm < resolved.depth_mm
        assert "profile" not in " ".join(app.interlock_problems())


async def test_past_sessions_can_be_reviewed_from_the_start_screen(
    make_app: Callable[..., Dashboard],
) -> None:
    from smpctl.tui.review import ReviewScreen

    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        assert app.pen is not None
        app.pen.sim(SimAction.PEDAL, 0)
        assert await until(pilot, lambda: not status(app) & Status.PEDAL_DOWN)
        app.action_review()  # refused during a session
        assert not isinstance(app.screen, ReviewScreen)
        app.action_end_session()
        await pilot.pause(0.3)
        await pilot.click("#end-done")
        assert await until(pilot, lambda: isinstance(app.screen, SessionStartScreen))
        await pilot.click("#review-button")
        assert await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        assert "C-0142" in app.screen.query_one("#clients").render_line(1).text


async def test_an_expired_pen_calibration_blocks_arming_until_an_override_is_recorded(
    sim_url: str, journal: Journal
) -> None:
    from smpctl.protocol import CalibrationKey

    expired = (TODAY - dt.date(1970, 1, 1)).days - 1

    def connect_pen() -> Pen:
        pen = connect(sim_url)
        pen.write_calibration(CalibrationKey.SPEED_CAL_DAY, expired - 90)
        pen.write_calibration(CalibrationKey.SPEED_CAL_EXPIRES_DAY, expired)
        return pen

    app = Dashboard(
        connect_pen, journal=journal, simulated=True, today=lambda: TODAY, initial_form=FORM
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await started(app, pilot)
        app.action_zone("FRN")
        problems = " ".join(app.interlock_problems())
        assert "speed calibration expired on 2026-11-24" in problems
        app.action_arm()
        await pilot.pause(0.3)
        assert not status(app) & Status.ARMED
        app._save_override("tachometer check today, calibration booked")
        assert app.interlock_problems() == []
        app.action_arm()
        assert await until(pilot, lambda: bool(status(app) & Status.ARMED))
        assert app.session is not None and app.session.recorder is not None
        app.session.recorder.sync(2.0)
    kinds = [e.get("kind") for e in journal.events()]
    assert "calibration_override" in kinds


async def test_quitting_stops_the_pen_and_closes_the_session(
    make_app: Callable[..., Dashboard], journal: Journal
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        pen = app.pen
        assert pen is not None
        sent: list[object] = []
        execute = pen.execute

        def recording(command: Any) -> Any:
            sent.append(command)
            return execute(command)

        pen.execute = recording  # type: ignore[method-assign]
        await pilot.press("q")
        await pilot.pause(0.2)
    assert app.pen is None and app.session is None
    assert Stop() in sent  # the pen was told to stop before the link closed
    sessions = journal.sessions()
    assert len(sessions) == 1 and sessions[0].ended_wall is not None


async def test_a_pen_that_disarms_itself_is_not_shown_as_armed(
    make_app: Callable[..., Dashboard],
) -> None:
    """A stall stops and disarms the pen by itself: the session line stops saying ARMED
    and says how to go on."""
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        line = app.screen.query_one("#session-line")
        assert await until(pilot, lambda: "ARMED: the needle runs" in str(line.render()))
        app.action_sim_fault("stall")
        assert await until(pilot, lambda: not status(app) & (Status.ARMED | Status.MOTOR_ON))
        assert await until(pilot, lambda: "DISARMED by the pen" in str(line.render()))
        assert "ARMED: the needle runs" not in str(line.render())
        assert any("STALL" in a.text for a in app.board.active)


async def test_an_arm_not_yet_in_the_telemetry_is_not_called_a_disarm(
    make_app: Callable[..., Dashboard],
) -> None:
    """Arming is acknowledged a frame or more before the telemetry shows it: until a
    sample has shown the pen armed, an unarmed one is that lag, not a disarm."""
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        assert app.pen is not None
        app.pen.sim(SimAction.PEDAL, 0)
        app.pen.disarm()
        assert await until(pilot, lambda: not status(app) & Status.ARMED)
        app._now_armed()  # as the arm worker does once the pen acknowledged
        line = app.screen.query_one("#session-line")
        for _ in range(5):  # refreshes over samples that still say disarmed
            await pilot.pause(0.05)
            assert "ARMED: the needle runs" in str(line.render())
