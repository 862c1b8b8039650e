"""A microneedling client's six weekly sessions, run end to end from the dashboard on the
simulator: no pigment asked or registered, a multi-needle cartridge with its count checked,
an end point recorded per zone with `x`, the dose per zone recorded and summed."""

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
from smpctl.journal.endpoints import ZoneEndPoint, newest_end_points
from smpctl.tui.session_flow.dose_text import dose_text
from smpctl.zones import ZoneCode

CLIENT = "C-MN6"
FIRST = dt.date(2026, 11, 2)
DAYS = tuple(FIRST + dt.timedelta(weeks=k) for k in range(6))
"""Weekly: exactly mn-scalp's minimum interval, so no session is too soon."""
ZONES = (ZoneCode.CRN, ZoneCode.MID)


@pytest.fixture
def calendar() -> Calendar:
    return Calendar(DAYS[0])


@pytest.fixture
def journal(tmp_path: Path, calendar: Calendar) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite3", wall=calendar.wall) as j:
        yield j


async def test_a_six_session_microneedling_client_end_to_end(
    journal: Journal, calendar: Calendar
) -> None:
    profiles = shipped_profiles()
    mn_scalp = next(p for p in profiles if p.name == "mn-scalp")
    session_uids: list[str] = []
    with simulated_pen(seed=23) as url:
        # the start screen opens on a microneedling session
        app = simulated_dashboard(url, journal, calendar, profile=mn_scalp, profiles=profiles)
        async with app.run_test(size=(160, 48)) as pilot:
            cumulative: dict[str, float] = {}
            for number, day in enumerate(DAYS, start=1):
                calendar.go_to(day)
                if number > 1:
                    shown = await history_text(pilot, app, CLIENT)
                    assert "microneedling" in shown
                    dose_part = shown.split("Dose per zone over all sessions")[1]
                    for zone in ZONES:
                        line = next(
                            ln for ln in dose_part.splitlines() if ln.strip().startswith(zone)
                        )
                        assert f"{dose_text(cumulative[zone])}/cm² {number - 1}×" in line, line
                        assert "(7 d ago)" in line
                await start_session(
                    pilot,
                    app,
                    client=CLIENT,
                    number=number,
                    kind="microneedling",
                    needle="12-pin",
                    needles_on_box="12",
                    areas="CRN=55" if number == 1 else "",
                )
                session = app.session
                assert session is not None and session.microneedling
                assert app.profile is not None and app.profile.name == "mn-scalp"
                session_uids.append(session.session_uid)
                assert not [a for a in app.board.active if "last treated" in a.text]
                for zone in ZONES:
                    await choose_and_arm(pilot, app, zone)
                    await pedal_pass(pilot, app)
                    # erythema on the mid-scalp; pinpoint bleeding on the crown from session 4
                    presses = 2 if zone is ZoneCode.CRN and number >= 4 else 1
                    for k in range(presses):
                        if number == 1 and k == 0:
                            await pilot.press("x")  # the key itself, once
                        else:
                            app.action_end_point()
                    assert await until(pilot, lambda z=zone, s=session: z.value in s.end_points)
                summary = await end_session(pilot, app)
                rows = {z.zone: z for z in summary._summary}
                expected = "pinpoint bleeding" if number >= 4 else "erythema"
                assert rows["CRN"].end_point == expected
                assert rows["MID"].end_point == "erythema"
                doses = session_doses(journal, session_uids[-1])
                for zone in ZONES:
                    d = doses[zone.value]
                    assert d.punctures is not None and d.punctures > 0, d
                    assert d.punctures % 12 == 0  # in-skin strokes × 12 needles
                    assert d.per_cm2 is not None
                    cumulative[zone.value] = cumulative.get(zone.value, 0.0) + d.per_cm2
                assert doses["CRN"].area_cm2 == (55.0 if number == 1 else 60.0)
            await pilot.press("q")
    store = journal.store
    assert store.query("SELECT COUNT(*) AS n FROM pigments")[0]["n"] == 0
    kinds = store.query("SELECT DISTINCT kind FROM sessions")
    assert kinds == [{"kind": "microneedling"}]
    cartridges = store.query("SELECT DISTINCT kind, needles FROM cartridges")
    assert cartridges == [{"kind": "12-pin", "needles": 12}]
    assert newest_end_points(journal, session_uids[-1]) == {
        "CRN": ZoneEndPoint.PINPOINT_BLEEDING,
        "MID": ZoneEndPoint.ERYTHEMA,
    }
    client_uid = client_uid_of(journal, CLIENT)
    assert client_uid is not None
    history = client_dose_history(journal, client_uid)
    for zone in ZONES:
        assert history[zone.value].sessions == 6
        assert history[zone.value].cumulative_per_cm2 == pytest.approx(cumulative[zone.value])
    assert not [e for e in journal.events() if e["kind"] == "dose_interval_warning"]
