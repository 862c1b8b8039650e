"""A returning SMP client's three sessions, run end to end from the dashboard on the
simulator: the start form, zones, arming, pedal passes with the hand in skin, the end of
each session; the dose per zone recorded, the history shown the next time, and a session
started too soon warned about zone by zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_driver import (
    Calendar,
    choose_and_arm,
    end_session,
    history_text,
    pedal_pass,
    shipped_profiles,
    simulated_dashboard,
    simulated_pen,
    start_session,
    until,
)

from smpctl.journal import Journal
from smpctl.journal.doses import client_dose_history, client_uid_of, session_doses
from smpctl.tui.session_flow.dose_text import dose_text
from smpctl.zones import ZoneCode

CLIENT = "C-3S"
DAYS = (dt.date(2026, 11, 3), dt.date(2026, 11, 10), dt.date(2026, 12, 1))
"""Session 2 a week after session 1 (smp-base asks for 10 days); session 3 three weeks on."""
ZONES = (ZoneCode.HL, ZoneCode.FRN)


@pytest.fixture
def calendar() -> Calendar:
    return Calendar(DAYS[0])


@pytest.fixture
def journal(tmp_path: Path, calendar: Calendar) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite3", wall=calendar.wall) as j:
        yield j


async def test_a_three_session_smp_client_end_to_end(journal: Journal, calendar: Calendar) -> None:
    profiles = shipped_profiles()
    base = next(p for p in profiles if p.name == "smp-base")
    with simulated_pen(seed=11) as url:
        app = simulated_dashboard(url, journal, calendar, profile=base, profiles=profiles)
        async with app.run_test(size=(160, 48)) as pilot:
            cumulative: dict[str, float] = {}
            for number, day in enumerate(DAYS, start=1):
                calendar.go_to(day)
                if number > 1:
                    shown = await history_text(pilot, app, CLIENT)
                    dose_part = shown.split("Dose per zone over all sessions")[1]
                    for zone in ZONES:
                        line = next(
                            ln for ln in dose_part.splitlines() if ln.strip().startswith(zone)
                        )
                        assert f"{dose_text(cumulative[zone])}/cm² {number - 1}×" in line, line
                        last = DAYS[number - 2]
                        assert f"last {last} ({(day - last).days} d ago)" in line, line
                await start_session(pilot, app, client=CLIENT, number=number, needle="3RL 0.25")
                session = app.session
                assert session is not None
                uid = session.session_uid
                warnings = [a.text for a in app.board.active if "last treated" in a.text]
                if number == 2:
                    # both zones, with the dates, from the alarm panel
                    assert await until(
                        pilot, lambda: sum("last treated" in a.text for a in app.board.active) >= 2
                    )
                    warnings = [a.text for a in app.board.active if "last treated" in a.text]
                    assert any(
                        w.startswith("HL last treated 2026-11-03, 7 days ago (today is 2026-11-10)")
                        and "(from 2026-11-13)" in w
                        for w in warnings
                    ), warnings
                    assert any(w.startswith("FRN last treated 2026-11-03") for w in warnings)
                    app.action_acknowledge()
                else:
                    assert warnings == []
                for zone in ZONES:
                    await choose_and_arm(pilot, app, zone)
                    await pedal_pass(pilot, app)
                    assert app.session is not None
                    shown_dose = app.session.meter.per_cm2().get(zone.value, 0.0)
                    assert shown_dose > 0
                summary = await end_session(pilot, app)
                # the journal: punctures per zone, and the dose the table showed
                doses = session_doses(journal, uid)
                for zone in ZONES:
                    d = doses[zone.value]
                    assert d.punctures is not None and d.punctures > 0, d
                    assert d.per_cm2 is not None
                    cumulative[zone.value] = cumulative.get(zone.value, 0.0) + d.per_cm2
                assert [z.zone for z in summary._summary] == [z.value for z in ZONES]
                assert all(z.per_cm2 and z.per_cm2 > 0 for z in summary._summary)
            await pilot.press("q")
    client_uid = client_uid_of(journal, CLIENT)
    assert client_uid is not None
    history = client_dose_history(journal, client_uid)
    for zone in ZONES:
        assert history[zone.value].sessions == 3
        assert history[zone.value].cumulative_per_cm2 == pytest.approx(cumulative[zone.value])
        assert history[zone.value].last_treated_day == DAYS[-1]
    events = [e for e in journal.events() if e["kind"] == "dose_interval_warning"]
    assert sorted(str(e["message"]).split()[0] for e in events) == ["FRN", "HL"]
    assert len({e["session_uid"] for e in events}) == 1
    pigments = journal.store.query("SELECT COUNT(*) AS n FROM pigments")
    assert pigments[0]["n"] == 3
