"""`smpctl clients adjunct`: courses of minoxidil, finasteride, PRP, low-level light or
other, started and stopped by day, never overlapping, listed with what is active."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from outcomes_support import TODAY, Clock, day, record_session, rows, run_cli

from smpctl.errors import AdjunctError, RecordDayError
from smpctl.journal import Journal
from smpctl.outcomes import (
    active_during,
    active_on,
    client_adjuncts,
    client_for_record,
    start_adjunct,
    stop_adjunct,
)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite3"
    clock = Clock()
    with Journal.open(path, wall=clock) as journal:
        record_session(journal, clock, "C-0111", 1, 0, {"CRN": (1000, 3)})
    return path


def _adjunct(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, "clients", "adjunct", "C-0111", *argv, "--journal", str(path))


def test_a_course_is_started_stopped_and_listed_as_active_on_a_day(
    journal_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _adjunct(
        capsys, journal_path, "add", "Minoxidil", "--start", "2026-03-10", "--detail", "5% foam"
    )
    assert code == 0, err
    assert "Recorded minoxidil for client C-0111 from 2026-03-10 (ongoing)" in out
    code, out, err = _adjunct(
        capsys, journal_path, "add", "other", "--start", "2026-02-01", "--stop", "2026-02-28",
        "--detail", "ketoconazole shampoo",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = _adjunct(capsys, journal_path, "stop", "minoxidil", "--day", "2026-06-30")
    assert code == 0, err
    assert "Recorded the stop of minoxidil" in out and "on 2026-06-30" in out

    code, out, _ = _adjunct(capsys, journal_path, "list", "--on", "2026-04-01")
    assert code == 0
    lines = [line for line in out.splitlines() if "->" in line]
    assert len(lines) == 2
    assert "other: ketoconazole shampoo" in lines[0] and "active" not in lines[0]
    assert "2026-03-10 -> 2026-06-30  active" in lines[1]

    code, out, _ = _adjunct(capsys, journal_path, "list", "--on", "2026-02-15", "--json")
    listed = json.loads(out)["adjuncts"]
    assert [(a["treatment"], a["active"]) for a in listed] == [
        ("other", True),
        ("minoxidil", False),
    ]
    assert listed[1]["stopped"] == "2026-06-30"
    # stopping is an update of the one row: two courses, two rows
    assert rows(journal_path, "adjuncts") == 2
    with Journal.open(journal_path, writer=False) as journal:
        assert journal.verify().ok


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["add", "other", "--start", "2026-03-01"], "needs --detail"),
        (["add", "prp", "--start", "2999-01-01"], "in the future"),
        (["add", "prp", "--start", "2026-05-01", "--stop", "2026-04-01"], "before the start"),
        (["stop", "finasteride", "--day", "2026-05-01"], "no ongoing finasteride"),
        (["stop", "aspirin", "--day", "2026-05-01"], "no course 'aspirin'"),
    ],
)
def test_a_course_that_cannot_be_true_is_refused_and_nothing_is_written(
    journal_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    ledger = rows(journal_path, "ledger")
    code, _, err = _adjunct(capsys, journal_path, *argv)
    assert code == 1 and said in err and "Traceback" not in err
    assert rows(journal_path, "adjuncts") == 0
    assert rows(journal_path, "ledger") == ledger


def test_a_stop_before_the_start_leaves_the_course_as_it_was(
    journal_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _adjunct(capsys, journal_path, "add", "finasteride", "--start", "2026-04-01")[0] == 0
    ledger = rows(journal_path, "ledger")
    code, _, err = _adjunct(capsys, journal_path, "stop", "finasteride", "--day", "2026-03-31")
    assert code == 1 and "before the start day 2026-04-01" in err
    assert rows(journal_path, "ledger") == ledger
    code, out, _ = _adjunct(capsys, journal_path, "list", "--json")
    assert json.loads(out)["adjuncts"][0]["stopped"] is None


def test_courses_of_one_treatment_never_overlap_and_a_stopped_one_stays_stopped(
    tmp_path: Path,
) -> None:
    clock = Clock()
    with Journal.open(tmp_path / "j.sqlite3", wall=clock) as journal:
        record_session(journal, clock, "C-0112", 1, 0, {"CRN": (1000, 3)})
        client = client_for_record(journal, "C-0112")
        first = start_adjunct(journal, client, "lllt", started=day(0), today=TODAY)
        with pytest.raises(AdjunctError, match="overlaps"):
            start_adjunct(journal, client, "LLLT", started=day(10), today=TODAY)
        stopped = stop_adjunct(journal, client, first[:6], stopped=day(30), today=TODAY)
        assert stopped.stopped == day(30)
        with pytest.raises(AdjunctError, match="already stopped"):
            stop_adjunct(journal, client, first, stopped=day(40), today=TODAY)
        with pytest.raises(AdjunctError, match="overlaps"):
            start_adjunct(journal, client, "lllt", started=day(30), today=TODAY)
        start_adjunct(journal, client, "lllt", started=day(31), today=TODAY)
        with pytest.raises(RecordDayError, match="in the future"):
            stop_adjunct(journal, client, "lllt", stopped=TODAY.replace(year=2027), today=TODAY)
        courses = client_adjuncts(journal, client.uid)
    assert [c.stopped for c in courses] == [day(30), None]
    assert [c.uid for c in active_on(courses, day(30))] == [first]
    assert len(active_during(courses, day(20), day(40))) == 2
    assert active_on(courses, day(-1)) == []
