"""F4 on the start screen: a hair measurement for the client in the form, recorded by the
same function as `smpctl outcomes add` on the dashboard's own journal; a refused entry stays
in the dialog with its problem and writes nothing; the history panel then shows the newest
measurement per zone and the adjunct treatments taken now."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from frozen_pen import FrozenPen
from textual.pilot import Pilot
from textual.widgets import Input, Select

from smpctl.client import Pen
from smpctl.journal import Journal
from smpctl.outcomes import ClientRef, start_adjunct
from smpctl.tui.app import Dashboard
from smpctl.tui.screens.hair_measurement import HairMeasurementScreen
from smpctl.tui.screens.session_start import SessionStartScreen

TODAY = dt.date(2026, 11, 25)
FIRST_VISIT = dt.datetime(2026, 10, 14, 12, 0, tzinfo=dt.UTC).timestamp()
CLIENT = "C-0500"
BLANK = {
    "day": "2026-11-25",
    "terminal": "",
    "vellus": "",
    "rating": "",
    "scale": "",
    "photo": "",
    "note": "",
}


class Wall:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """C-0500 had a session six weeks ago; C-0501 is registered (a treatment noted) but has
    had no session yet."""
    wall = Wall(FIRST_VISIT)
    with Journal.open(tmp_path / "journal.sqlite3", wall=wall) as j:
        j.open_session(CLIENT, 1, "AB", consent=True, simulated=True)
        j.register_cartridge("1RL 0.20", "LOT-1", "2027-06-30")
        j.register_pigment("SMP Dark 2", "1:3", "PG-1")
        j.close_session()
        start_adjunct(
            j,
            ClientRef(j.store.new_uid(), "C-0501", new=True),
            "finasteride",
            started=dt.date(2026, 9, 1),
            today=TODAY,
        )
        wall.t = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC).timestamp()
        yield j


def make_app(journal: Journal) -> Dashboard:
    pen = FrozenPen()
    return Dashboard(lambda: cast(Pen, pen), journal=journal, simulated=True, today=lambda: TODAY)


async def until(pilot: Pilot[Any], pred: Callable[[], bool], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < end, "the dashboard did not get there in time"
        await pilot.pause(0.02)


def outcome_rows(journal: Journal) -> list[dict[str, Any]]:
    return [dict(r) for r in journal.store.query("SELECT * FROM outcomes")]


async def open_dialog(pilot: Pilot[Any], app: Dashboard, client: str) -> HairMeasurementScreen:
    await until(pilot, lambda: app.pen is not None and isinstance(app.screen, SessionStartScreen))
    app.screen.query_one("#f-client", Input).value = client
    await pilot.pause()
    app.action_hair_measurement()
    await until(pilot, lambda: isinstance(app.screen, HairMeasurementScreen))
    dialog = app.screen
    assert isinstance(dialog, HairMeasurementScreen)
    await until(pilot, lambda: bool(dialog.query("#m-note")))  # composed
    await pilot.pause()
    return dialog


def fill(dialog: HairMeasurementScreen, zone: str | None, **fields: str) -> None:
    if zone is not None:
        dialog.query_one("#m-zone", Select).value = zone
    for name, value in fields.items():
        dialog.query_one(f"#m-{name}", Input).value = value


def problems_of(dialog: HairMeasurementScreen) -> str:
    return str(dialog.query_one("#measure-problems").render())


async def test_a_measurement_entered_on_the_start_screen_is_recorded_and_shown(
    journal: Journal, tmp_path: Path
) -> None:
    photo = tmp_path / "crown-2026-11-25.jpg"
    photo.write_bytes(b"\xff\xd8 standard crown photograph")
    app = make_app(journal)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_dialog(pilot, app, CLIENT)
        assert dialog.query_one("#m-day", Input).value == "2026-11-25"  # the injected today
        fill(dialog, "CRN", terminal="62", vellus="18.5", photo=str(photo), note="baseline")
        await pilot.pause()
        await pilot.click("#measure-save")
        await until(pilot, lambda: isinstance(app.screen, SessionStartScreen))
        history = app.screen.query_one("#history")
        await until(pilot, lambda: "Hair, newest measurement per zone" in str(history.render()))
        shown = str(history.render())
        await pilot.press("q")

    (row,) = outcome_rows(journal)
    assert (row["zone"], row["measured_day"], row["method"], row["note"]) == (
        "CRN",
        "2026-11-25",
        "trichoscope",
        "baseline",
    )
    assert (row["terminal_per_cm2"], row["vellus_per_cm2"], row["rating"]) == (62.0, 18.5, None)
    assert row["photo_path"] == str(photo.resolve()) and len(row["photo_sha256"]) == 64
    assert "  CRN    2026-11-25 terminal 62, vellus 18.5 /cm²" in shown


async def test_a_refused_measurement_stays_in_the_dialog_and_writes_nothing(
    journal: Journal, tmp_path: Path
) -> None:
    app = make_app(journal)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_dialog(pilot, app, CLIENT)
        for zone, fields, expected in (
            (None, {"terminal": "40"}, "choose the zone measured"),
            ("HL", {}, "no measurement given"),
            ("HL", {"terminal": "4O"}, "terminal hairs/cm² '4O' is not a number"),
            ("HL", {"vellus": "-3"}, "vellus hairs -3 is negative"),
            ("HL", {"terminal": "40", "day": "2026-11-26"}, "is in the future"),
            ("HL", {"terminal": "40", "day": "2026-10-01"}, "before client C-0500's first"),
            ("HL", {"rating": "3"}, "a rating needs its scale"),
            ("HL", {"terminal": "40", "photo": str(tmp_path / "gone.jpg")}, "no such file"),
        ):
            fill(dialog, zone, **{**BLANK, **fields})
            dialog.save()
            await pilot.pause()
            assert isinstance(app.screen, HairMeasurementScreen)
            assert expected in problems_of(dialog), problems_of(dialog)
            assert outcome_rows(journal) == []
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, SessionStartScreen))
        await pilot.press("q")
    assert outcome_rows(journal) == []


async def test_a_client_without_a_session_is_refused_in_the_dialog_and_adjuncts_are_listed(
    journal: Journal,
) -> None:
    app = make_app(journal)
    async with app.run_test(size=(160, 48)) as pilot:
        dialog = await open_dialog(pilot, app, "C-0501")
        history = str(app.screen_stack[-2].query_one("#history").render())
        assert "Adjunct treatments taken now:\n  finasteride since 2026-09-01" in history
        fill(dialog, "HL", terminal="40")
        dialog.save()
        await pilot.pause()
        assert "has no session recorded yet" in problems_of(dialog)
        await pilot.press("q")
    assert outcome_rows(journal) == []


async def test_no_dialog_without_a_known_client_in_the_form(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(journal)
    said: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **_kw: said.append(str(message)))
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SessionStartScreen))
        for typed, expected in (
            ("", "Enter the client's pseudonym in the form first"),
            ("C-05", "no client 'C-05' in the journal"),
        ):
            app.screen.query_one("#f-client", Input).value = typed
            await pilot.pause()
            app.action_hair_measurement()
            await pilot.pause()
            assert isinstance(app.screen, SessionStartScreen)
            assert expected in said[-1], said
        await pilot.press("q")
