"""The review screens, driven with Textual's Pilot over a journal recorded against the
simulator: browse clients and sessions, drill into a zone and a pass, replay at 10x."""

from __future__ import annotations

import re
from pathlib import Path

from textual.widgets import DataTable

from smpctl.journal import Journal
from smpctl.tui.review import PassScreen, ReviewApp, ReviewScreen, SessionScreen, ZoneScreen
from smpctl.tui.widgets.speed_gauge import SpeedGauge


class ManualClock:
    """The replay's clock, moved by the test: the same frames on every run."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_browse_drill_down_and_replay_a_pass_at_10x(three_sessions: Path) -> None:
    clock = ManualClock()
    with Journal.open(three_sessions, writer=False) as journal:
        app = ReviewApp(journal, clock=clock)
        async with app.run_test(size=(140, 44)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, ReviewScreen)
            clients = screen.query_one("#clients", DataTable)
            assert clients.row_count == 2
            sessions = screen.query_one("#sessions", DataTable)
            assert sessions.row_count == 3  # C-0301 highlighted first
            await pilot.press("down")  # C-0302
            await pilot.pause()
            assert sessions.row_count == 1
            await pilot.press("up", "enter")  # back to C-0301, into its sessions
            await pilot.pause()
            assert sessions.has_focus and sessions.row_count == 3
            await pilot.press("enter")  # session #1
            await pilot.pause()
            assert isinstance(app.screen, SessionScreen)
            assert app.screen.query_one("#zones", DataTable).row_count == 10
            await pilot.press("enter")  # the first zone: HL
            await pilot.pause()
            zone_screen = app.screen
            assert isinstance(zone_screen, ZoneScreen) and zone_screen.zone == "HL"
            await pilot.press("enter")  # its 3 s pass
            await pilot.pause()
            pass_screen = app.screen
            assert isinstance(pass_screen, PassScreen)
            gauge = pass_screen.query_one(SpeedGauge)
            assert gauge.measured_hz == 0.0 and not pass_screen.replay.playing

            await pilot.press("0")  # play at 10x
            clock.now += 0.2  # 0.2 s of wall time = 2 s of the pass
            await pilot.pause(0.15)
            assert pass_screen.replay.speed == 10.0
            assert 1.9 <= pass_screen.replay.position_s <= 2.1
            assert gauge.running and 90.0 < gauge.measured_hz < 110.0
            assert gauge.setpoint_hz == 100.0

            await pilot.press("p")  # pause: time passes, the replay does not
            clock.now += 1.0
            await pilot.pause(0.1)
            assert 1.9 <= pass_screen.replay.position_s <= 2.1

            await pilot.press("1")  # 1x from here
            clock.now += 0.5
            await pilot.pause(0.1)
            assert 2.4 <= pass_screen.replay.position_s <= 2.6

            await pilot.press("escape", "escape", "escape")
            await pilot.pause()
            assert isinstance(app.screen, ReviewScreen)
            await pilot.press("escape")
            await pilot.pause()
        assert app.return_code == 0


async def test_a_sessions_events_are_summed_up_by_kind_with_their_passes(
    three_sessions: Path,
) -> None:
    """Session 2's stalled pass: the fault, the stop it caused and the disarm, each once
    with the pass it happened in, as ``logs show`` groups them."""
    with Journal.open(three_sessions, writer=False) as journal:
        second = next(
            s for s in journal.sessions() if s.client == "C-0301" and s.session_number == 2
        )
        app = ReviewApp(journal)
        async with app.run_test(size=(140, 44)) as pilot:
            await pilot.pause()
            screen = SessionScreen(journal, second)
            await app.push_screen(screen)
            await pilot.pause()
            facts = str(screen.query_one("#session-facts").render())
    events = facts.split("events: ", 1)[1]
    assert re.search(r"FAULT_RAISED fault: [A-Z_, ]+ \(pass #\d+\)", events), events
    assert re.search(r"MOTOR_STOPPED stop: fault \(pass #\d+\)", events), events
    assert "PEDAL_DOWN" not in events  # routine: counted, not listed
