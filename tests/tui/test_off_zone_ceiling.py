"""A zone that crosses its ceiling while another zone is chosen -- its last pass counted more
in-skin strokes once closed than the live count showed -- is raised at the STOP level when
the figures refresh, so the practitioner sees it before choosing it; the needle on the
chosen zone goes on, and choosing the zone at its ceiling still stops the needle."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from dashboard_driver import frozen_dashboard, open_treatment, reach
from frozen_pen import FrozenPen

from smpctl.client import Pen
from smpctl.journal import Journal, Outcome
from smpctl.profiles import LoadedProfile, ProfileLibrary
from smpctl.tui.alarms import STOP, WARN
from smpctl.tui.session_flow.live_dose import CEILING_STOP, NEAR_CEILING
from smpctl.tui.session_flow.start_form import SessionForm
from smpctl.tui.session_flow.treatment_session import TreatmentSession
from smpctl.zones import ZoneCode

TODAY = dt.date(2026, 11, 25)
NOON = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC).timestamp()
TINY = """\
description = "smp-base with a hairline ceiling of 3 punctures/cm² (a test)"
extends = "smp-base"

[zones.HL]
dose_target_per_cm2 = 1.5
dose_ceiling_per_cm2 = 3.0
min_interval_days = 10
"""
FORM = SessionForm(
    client="C-0700",
    practitioner="AB",
    needle="1RL 0.20",
    cartridge_lot="LOT-1",
    cartridge_expiry="2027-06-30",
    pigment_lot="PG-1",
    consent=True,
    profile="tiny-ceiling",
    areas="HL=10",
)
"""HL at 10 cm² with a 1RL: 30 in-skin strokes reach the ceiling of 3 /cm²."""


@pytest.fixture
def tiny(tmp_path: Path) -> LoadedProfile:
    (tmp_path / "tiny-ceiling.toml").write_text(TINY)
    return ProfileLibrary.default([tmp_path]).load("tiny-ceiling")


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite3", wall=lambda: NOON) as j:
        yield j


def close_pass(journal: Journal, uid: str, in_skin: int) -> None:
    journal.end_pass(
        uid,
        outcome=Outcome.COMPLETE,
        detail=None,
        ended_t_us=None,
        wall=NOON + 20,
        aggregates={"strokes": in_skin * 2, "samples": 2000, "speed_mean_hz": 100.0},
        events=[],
        in_skin_strokes=in_skin,
    )


def test_a_pass_that_closes_above_its_live_count_raises_its_zones_stop_off_zone(
    journal: Journal, tiny: LoadedProfile
) -> None:
    session = TreatmentSession.start(
        journal,
        cast(Pen, FrozenPen()),
        FORM,
        simulated=True,
        today=lambda: TODAY,
        profile=tiny,
    )
    try:
        session.set_zone(ZoneCode.HL, None)
        uid = journal.begin_pass(started_t_us=None, wall=NOON, pen_uid=None)
        session.meter.observe((uid, 56, 28), "HL")  # live: 2.8 /cm², near the ceiling
        alarms = session.guard.assess(session.meter.per_cm2(), "HL")
        assert [(a.kind, a.severity) for a in alarms] == [(NEAR_CEILING, WARN)]
        # the pedal released, the pass closes with every in-skin stroke counted: 3.1 /cm²,
        # while the practitioner has moved to the front
        close_pass(journal, uid, 31)
        session.set_zone(ZoneCode.FRN, None)
        session.reload(force=True)
        assert session.meter.per_cm2()["HL"] == pytest.approx(3.1)

        (said,) = session.dose_alarms(ZoneCode.FRN)
        assert (said.kind, said.severity, said.zone, said.treating) == (
            CEILING_STOP,
            STOP,
            "HL",
            False,
        )
        assert not said.stops  # the needle on FRN goes on
        assert said.message.startswith("HL has reached its ceiling of 3 punctures/cm²")
        assert said.message.endswith("HL is not the chosen zone: arming there is refused")
        assert "(choose HL, then d)" in said.message  # d overrides the chosen zone only
        assert said.host_alarm().data["treating"] is False
        assert session.dose_alarms(ZoneCode.FRN) == []  # said once, not on every refresh
        assert session.interlock_problems(ZoneCode.FRN) == []

        # choosing HL now: refused, and the needle is stopped there
        refusal = session.dose_refusal(ZoneCode.HL)
        assert refusal is not None and refusal.startswith("HL reached its ceiling of 3 ")
        (stop,) = session.dose_alarms(ZoneCode.HL)
        assert (stop.kind, stop.zone, stop.stops) == (CEILING_STOP, "HL", True)
    finally:
        session.end()


async def test_the_dashboard_shows_the_off_zone_ceiling_without_stopping_the_needle(
    journal: Journal, tiny: LoadedProfile
) -> None:
    pen = FrozenPen()
    app = frozen_dashboard(pen, journal, today=TODAY, form=FORM, profile=tiny)

    def hl_stop() -> list[str]:
        return [a.text for a in app.board.active if a.severity == STOP and "HL" in a.text]

    async with app.run_test(size=(160, 48)) as pilot:
        await open_treatment(pilot, app)
        session = app.session
        assert session is not None
        app.action_zone("FRN")
        await reach(pilot, lambda: app.applied is not None and not app._applying)
        # an HL pass closed above the ceiling, its live count never seen over it
        journal.set_zone(ZoneCode.HL)
        close_pass(journal, journal.begin_pass(started_t_us=None, wall=NOON, pen_uid=None), 31)
        journal.set_zone(ZoneCode.FRN)
        await reach(pilot, lambda: bool(hl_stop()))  # the once-a-second figures refresh
        assert "not the chosen zone" in hl_stop()[0]
        assert not [c for c, _args in pen.calls if c in ("stop_now", "disarm")]
        assert app.interlock_problems() == []  # FRN may still be armed

        app.action_zone("HL")  # the zone at its ceiling: the needle is stopped
        await reach(pilot, lambda: any(c == "disarm" for c, _args in pen.calls))
        assert any("HL reached its ceiling" in p for p in app.interlock_problems())
        assert session.recorder is not None and session.recorder.sync(3.0)
        await pilot.press("q")

    stops = [json.loads(str(e["data"])) for e in journal.events() if e["kind"] == CEILING_STOP]
    assert [(d["zone"], d["treating"]) for d in stops] == [("HL", False), ("HL", True)]
