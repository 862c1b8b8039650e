"""At a zone's dose ceiling the dashboard stops the needle (the STOP key's path), refuses to
arm on that zone until the practitioner overrides with a reason (`d`, journaled), and leaves
the other zones alone. A test profile with a tiny hairline ceiling reaches it in a second."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_driver import (
    Calendar,
    choose_and_arm,
    simulated_dashboard,
    simulated_pen,
    start_session,
    status,
    until,
)
from textual.widgets import Input

from smpctl.journal import Journal
from smpctl.profiles import ProfileLibrary
from smpctl.protocol import Status
from smpctl.tui.screens.note import NoteScreen
from smpctl.zones import ZoneCode

TINY = """\
description = "smp-base with a tiny hairline ceiling, reached in a second (a test)"
extends = "smp-base"

[zones.HL]
dose_target_per_cm2 = 1.5
dose_ceiling_per_cm2 = 3.0
min_interval_days = 10
"""
REASON = "scar tissue took little pigment; client agrees"


@pytest.fixture
def calendar() -> Calendar:
    return Calendar(dt.date(2026, 11, 25))


@pytest.fixture
def journal(tmp_path: Path, calendar: Calendar) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite3", wall=calendar.wall) as j:
        yield j


def events_of(journal: Journal, kind: str) -> list[dict[str, Any]]:
    return [
        {**e, "data": json.loads(str(e["data"])) if e["data"] else {}}
        for e in journal.events()
        if e["kind"] == kind
    ]


async def test_the_ceiling_stops_the_needle_and_only_an_override_with_a_reason_lets_it_on(
    tmp_path: Path, journal: Journal, calendar: Calendar
) -> None:
    (tmp_path / "tiny-ceiling.toml").write_text(TINY)
    tiny = ProfileLibrary.default([tmp_path]).load("tiny-ceiling")
    with simulated_pen(seed=5) as url:
        app = simulated_dashboard(url, journal, calendar, profile=tiny, profiles=[tiny])
        async with app.run_test(size=(160, 48)) as pilot:
            # HL measured at 10 cm²: 30 in-skin strokes of a 1RL reach 3 punctures/cm²
            await start_session(pilot, app, client="C-CEIL", number=1, areas="HL=10")
            session = app.session
            assert session is not None and session.recorder is not None
            await choose_and_arm(pilot, app, ZoneCode.HL)
            app.action_pedal()
            assert await until(pilot, lambda: bool(status(app) & Status.MOTOR_ON))
            # the pedal stays down: the dashboard stops the needle by itself
            assert await until(
                pilot,
                lambda: status(app) & Status.PEDAL_DOWN and not status(app) & Status.MOTOR_ON,
            ), [a.text for a in app.board.active]
            assert await until(pilot, lambda: not status(app) & Status.ARMED)
            assert await until(
                pilot,
                lambda: any(
                    a.severity == "STOP" and a.text.startswith("HL has reached its ceiling of 3 ")
                    for a in app.board.active
                ),
            ), [a.text for a in app.board.active]
            app.action_pedal()
            assert await until(pilot, lambda: not status(app) & Status.PEDAL_DOWN)
            assert session.meter.per_cm2()["HL"] >= 3.0

            # arming on HL is refused ...
            problems = app.interlock_problems()
            assert any(p.startswith("HL reached its ceiling of 3 ") for p in problems), problems
            app.action_arm()
            await pilot.pause(0.3)
            assert not status(app) & Status.ARMED
            # ... another zone is not affected
            await choose_and_arm(pilot, app, ZoneCode.FRN)
            assert status(app) & Status.ARMED
            app.action_stop()
            assert await until(pilot, lambda: not status(app) & Status.ARMED)

            # back on HL: still refused until `d` and a reason
            app.action_zone("HL")
            assert await until(
                pilot,
                lambda: (
                    not app._applying
                    and app.applied is not None
                    and app.applied.resolved.zone is ZoneCode.HL
                ),
            )
            assert any("HL reached its ceiling" in p for p in app.interlock_problems())
            await pilot.press("d")
            assert await until(pilot, lambda: isinstance(app.screen, NoteScreen))
            app.screen.query_one(Input).value = REASON
            await pilot.press("enter")
            assert await until(pilot, lambda: not isinstance(app.screen, NoteScreen))
            assert app.interlock_problems() == []
            await choose_and_arm(pilot, app, ZoneCode.HL)
            # past the ceiling now, the needle runs on HL (the hard maximum is far off)
            app.action_pedal()
            assert await until(pilot, lambda: bool(status(app) & Status.MOTOR_ON))
            await pilot.pause(0.5)
            assert status(app) & Status.MOTOR_ON
            app.action_pedal()
            assert await until(pilot, lambda: not status(app) & Status.PEDAL_DOWN)
            assert await asyncio.to_thread(session.recorder.sync, 3.0)
            await pilot.press("q")

    (stop,) = events_of(journal, "dose_ceiling_stop")
    assert stop["data"]["zone"] == "HL" and stop["data"]["limit_per_cm2"] == 3.0
    (override,) = events_of(journal, "dose_override")
    data = override["data"]
    assert isinstance(data, dict)
    assert (data["zone"], data["reason"], data["ceiling"]) == ("HL", REASON, 3.0)
    assert data["per_cm2"] >= 3.0
    assert REASON in str(override["message"])
    assert override["session_uid"] == stop["session_uid"]
