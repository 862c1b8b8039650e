"""A zone chosen whose profile expects other cartridge kinds than the one registered for the
session: a warning naming the zone, the cartridge and the kinds expected, once per zone, and
never a block (the practitioner may have a reason)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import cast

import pytest
from dashboard_driver import frozen_dashboard, open_treatment, reach
from frozen_pen import FrozenPen

from smpctl.client import Pen
from smpctl.journal import Journal
from smpctl.profiles import ProfileLibrary, resolve
from smpctl.tui.alarms import WARN
from smpctl.tui.app import Dashboard
from smpctl.tui.session_flow.start_form import SessionForm
from smpctl.tui.session_flow.treatment_session import CARTRIDGE_WARNING, TreatmentSession
from smpctl.zones import ZoneCode

TODAY = dt.date(2026, 11, 25)
LIBRARY = ProfileLibrary.default(None)
SMP_FORM = SessionForm(
    client="C-0600",
    practitioner="AB",
    needle="1RL 0.20",
    cartridge_lot="LOT-1",
    cartridge_expiry="2027-06-30",
    pigment_lot="PG-1",
    consent=True,
    profile="smp-base",
)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    noon = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC).timestamp()
    with Journal.open(tmp_path / "journal.sqlite3", wall=lambda: noon) as j:
        yield j


def test_a_cartridge_the_zone_does_not_list_is_warned_about_once_per_zone(
    journal: Journal,
) -> None:
    """mn-scalp asks for a 12-pin on the hairline, a 12- or 36-pin on the crown."""
    form = replace(
        SMP_FORM, kind="microneedling", needle="36-pin", pigment_lot="", profile="mn-scalp"
    )
    profile = LIBRARY.load("mn-scalp")
    session = TreatmentSession.start(
        journal,
        cast(Pen, FrozenPen()),
        form,
        simulated=True,
        today=lambda: TODAY,
        profile=profile,
    )
    try:
        expected = {z: resolve(profile, z, 1).cartridges for z in (ZoneCode.HL, ZoneCode.CRN)}
        warning = session.cartridge_alarm(ZoneCode.HL, expected[ZoneCode.HL])
        assert warning is not None
        assert (warning.kind, warning.severity) == (CARTRIDGE_WARNING, WARN)
        assert warning.message.startswith(
            "HL expects a 12-pin cartridge; the registered one is 36-pin"
        )
        assert dict(warning.data) == {
            "zone": "HL",
            "cartridge": "36-pin",
            "expected": ["12-pin"],
            "profile": "mn-scalp",
        }
        assert session.cartridge_alarm(ZoneCode.HL, expected[ZoneCode.HL]) is None  # once
        assert session.cartridge_alarm(ZoneCode.CRN, expected[ZoneCode.CRN]) is None
        # a warning only: nothing about the cartridge keeps the needle off the hairline
        assert session.interlock_problems(ZoneCode.HL) == []
    finally:
        session.end()


def applied_on(app: Dashboard, zone: str) -> bool:
    a = app.applied
    return not app._applying and a is not None and a.resolved.zone.value == zone


async def test_choosing_a_zone_that_expects_another_cartridge_raises_a_warning_not_a_block(
    journal: Journal,
) -> None:
    """smp-base treats the front with a 3RL; this session registered a 1RL."""
    pen = FrozenPen()
    smp_base = LIBRARY.load("smp-base")
    app = frozen_dashboard(pen, journal, today=TODAY, form=SMP_FORM, profile=smp_base)
    expected_text = "FRN expects a 3RL cartridge; the registered one is 1RL 0.20"

    def warnings() -> list[str]:
        return [a.text for a in app.board.active if a.text.startswith(expected_text)]

    async with app.run_test(size=(160, 48)) as pilot:
        await open_treatment(pilot, app)
        for zone in ("HL", "FRN", "HL", "FRN"):
            app.action_zone(zone)
            await reach(pilot, partial(applied_on, app, zone))
            await pilot.pause(0.2)
            if zone == "FRN":
                assert warnings(), [a.text for a in app.board.active]
        (alarm,) = [a for a in app.board.active if a.text.startswith(expected_text)]
        assert alarm.count == 1  # said once, though FRN was chosen twice
        assert all(a.severity == WARN for a in app.board.active)
        assert app.interlock_problems() == []  # arming on FRN is allowed
        session = app.session
        assert session is not None and session.recorder is not None
        assert session.recorder.sync(3.0)
        await pilot.press("q")

    (event,) = [e for e in journal.events() if e["kind"] == CARTRIDGE_WARNING]
    data = json.loads(str(event["data"]))
    assert (data["zone"], data["cartridge"], data["expected"]) == ("FRN", "1RL", ["3RL"])
    assert str(event["message"]).startswith(expected_text)
