"""Journals for the review tests, recorded against the simulator two ways: by the
dashboard's own session flow (real ``Recorder``, real-time simulated pen, short passes),
and faster than real time for a client's three sessions (smpctl.review.accelerated)."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import smpctl.sim as sim
from smpctl.client import connect
from smpctl.journal import Journal
from smpctl.protocol import SimAction
from smpctl.review.accelerated import SESSION_START, PlannedPass, SessionPlan, SessionRecorder
from smpctl.tui.session_flow import SessionForm, TreatmentSession
from smpctl.zones import ScarKind, ZoneCode

ALL_ZONES = [z.value for z in ZoneCode]
DAY = 86_400.0
_names = itertools.count()


def three_session_plans(client: str = "C-0301") -> list[SessionPlan]:
    """Session 1 everywhere (a 3 s hairline pass, a FUE scar pass on the crown); session 2
    faster on MID, the nape skipped, a stalled hairline pass; session 3 skips crown and nape."""
    s1 = [PlannedPass("HL", 3.0, 0.5)] + [PlannedPass(z, 0.6, 0.5) for z in ALL_ZONES[1:]]
    s1.append(PlannedPass("CRN", 0.6, 0.5, scar="SCR_FUE"))
    s2 = [
        PlannedPass(z, 0.8, 0.5, speed_hz=118.0 if z == "MID" else None)
        for z in ALL_ZONES
        if z != "NAP"
    ]
    s2.append(PlannedPass("HL", 0.4, 0.5, stall=True, flag="check"))
    s3 = [PlannedPass(z, 0.6, 0.5) for z in ALL_ZONES if z not in ("NAP", "CRN")]
    return [
        SessionPlan(client, n, plan, start_wall=SESSION_START + (n - 1) * 21 * DAY)
        for n, plan in enumerate((s1, s2, s3), 1)
    ]


@pytest.fixture(scope="session")
def three_sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Client C-0301's three sessions, plus C-0302's one (for closest-match tests)."""
    path = tmp_path_factory.mktemp("review") / "journal.sqlite3"
    recorder = SessionRecorder(seed=3)
    with Journal.open(path, wall=recorder.wall) as journal:
        for plan in three_session_plans():
            recorder.record(journal, plan)
        recorder.record(
            journal,
            SessionPlan(
                "C-0302", 1, [PlannedPass("FRN", 0.5)], start_wall=SESSION_START + 70 * DAY
            ),
        )
    return path


def _hold(pen: object, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pen.alive()  # type: ignore[attr-defined]
        time.sleep(0.01)


@pytest.fixture(scope="session")
def dashboard_journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A session as the dashboard records it: its TreatmentSession (interlocks, journal,
    Recorder) over a real-time simulated pen, with passes in three zones and a scar."""
    path = tmp_path_factory.mktemp("dashboard") / "journal.sqlite3"
    name = f"review{next(_names)}"
    pen = connect(f"sim://{name}?seed=2&baud=921600&hand=air")
    try:
        pen.set_telemetry_rate(200)
        form = SessionForm(
            client="C-0142",
            session_number=1,
            practitioner="AB",
            needle="1RL 0.20",
            cartridge_lot="LOT-991",
            cartridge_expiry="2031-06-30",
            pigment_shade="SMP Dark 2",
            pigment_dilution="1:3",
            pigment_lot="PG-77",
            consent=True,
        )
        with Journal.open(path) as journal:
            session = TreatmentSession.start(
                journal, pen, form, simulated=True, today=lambda: dt.date(2026, 11, 25)
            )
            pen.set_speed(100)
            pen.arm()
            pen.run()
            for zone, scar in (
                (ZoneCode.HL, None),
                (ZoneCode.FRN, None),
                (ZoneCode.CRN, ScarKind.SCR_FUE),
            ):
                session.set_zone(zone, scar)
                pen.sim(SimAction.PEDAL, 1)
                _hold(pen, 0.4)
                pen.sim(SimAction.PEDAL, 0)
                _hold(pen, 0.2)
            session.flag("check the crown")
            session.end()
    finally:
        pen.close()
        if sim.BUS.get(name) is not None:
            sim.BUS.power_off(name)
    yield path
