"""Dose figures read back from the journal: per session with that session's own areas,
cumulative over a client's sessions, and honest about passes with no dose recorded."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from journal_support import measure_area

from smpctl.journal import Journal, Outcome, Update
from smpctl.journal.doses import (
    areas_in_force,
    client_dose_history,
    client_uid_of,
    session_areas,
    session_doses,
)

DAY = 86_400.0
START = dt.datetime(2026, 9, 1, 10, 0).timestamp()


class Clock:
    def __init__(self) -> None:
        self.t = START

    def __call__(self) -> float:
        return self.t


def _pass(
    journal: Journal, zone: str, *, strokes: int, in_skin: int | None, needles: int | None
) -> str:
    journal.set_zone(zone)
    uid = journal.begin_pass(started_t_us=0, wall=journal.now, pen_uid=None)
    journal.end_pass(
        uid,
        outcome=Outcome.COMPLETE,
        detail=None,
        ended_t_us=1_000_000,
        wall=journal.now + 1,
        aggregates={"strokes": strokes},
        events=[],
    )
    if in_skin is not None:
        changes: dict[str, object] = {"in_skin_strokes": in_skin, "needles": needles}
        if needles is not None:
            changes["punctures"] = in_skin * needles
        journal.store.write([Update("passes", uid, changes)])
    return uid


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def journal(tmp_path: Path, clock: Clock) -> Iterator[Journal]:
    j = Journal.open(tmp_path / "j.sqlite3", wall=clock)
    yield j
    j.close()


def test_a_session_dose_divides_by_the_area_recorded_with_that_session(
    journal: Journal, clock: Clock
) -> None:
    s1 = journal.open_session("C-1", 1, consent=True, simulated=True)
    _pass(journal, "HL", strokes=1200, in_skin=1000, needles=3)
    _pass(journal, "HL", strokes=600, in_skin=500, needles=3)
    journal.close_session()
    client = client_uid_of(journal, "C-1")
    assert client is not None
    hl = session_doses(journal, s1)["HL"]
    area, source = session_areas(journal, s1)["HL"]
    assert (hl.passes, hl.strokes, hl.in_skin_strokes, hl.punctures) == (2, 1800, 1500, 4500)
    assert hl.per_cm2 == pytest.approx(4500 / area)
    # a later measurement changes the next session's area, never this one's
    measure_area(journal, client, "HL", 20.0, "2026-09-10")
    assert areas_in_force(journal, client)["HL"] == (20.0, "measured")
    assert session_areas(journal, s1)["HL"] == (area, source)
    assert session_doses(journal, s1)["HL"].per_cm2 == pytest.approx(4500 / area)


def test_cumulative_dose_sums_each_sessions_density_and_knows_when_last_treated(
    journal: Journal, clock: Clock
) -> None:
    numbers = itertools.count(1)
    for day, punct in ((0, 900), (21, 600), (49, 300)):
        clock.t = START + day * DAY
        journal.open_session("C-2", next(numbers), consent=True, simulated=True)
        _pass(journal, "CRN", strokes=punct, in_skin=punct, needles=1)
        journal.close_session()
    client = client_uid_of(journal, "C-2")
    assert client is not None
    area = session_areas(journal, journal.sessions()[0].uid)["CRN"][0]
    crn = client_dose_history(journal, client)["CRN"]
    assert crn.sessions == 3
    assert crn.cumulative_per_cm2 == pytest.approx(1800 / area)
    assert crn.last_treated_day == dt.date.fromtimestamp(START + 49 * DAY)
    assert crn.days_since(dt.date.fromtimestamp(START + 60 * DAY)) == 11
    # the session now running is left out
    before = client_dose_history(journal, client, before_wall=START + 49 * DAY)["CRN"]
    assert (before.sessions, before.last_treated_day) == (
        2,
        dt.date.fromtimestamp(START + 21 * DAY),
    )
    assert client_dose_history(journal, client)["HL"].sessions == 0


def test_passes_without_a_recorded_dose_show_strokes_but_no_guessed_dose(
    journal: Journal, clock: Clock
) -> None:
    s = journal.open_session("C-3", 1, consent=True, simulated=True)
    _pass(journal, "NAP", strokes=800, in_skin=None, needles=None)
    _pass(journal, "OCC", strokes=800, in_skin=700, needles=None)
    journal.close_session()
    doses = session_doses(journal, s)
    assert doses["NAP"].in_skin_strokes is None and doses["NAP"].per_cm2 is None
    assert doses["NAP"].treated
    assert doses["OCC"].in_skin_strokes == 700 and doses["OCC"].punctures is None
    client = client_uid_of(journal, "C-3")
    assert client is not None
    nap = client_dose_history(journal, client)["NAP"]
    assert (nap.sessions, nap.unknown_sessions, nap.cumulative_per_cm2) == (1, 1, 0.0)
