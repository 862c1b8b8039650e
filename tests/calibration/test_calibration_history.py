"""The calibration history in the journal, `smpctl pens`, the tools' common face, and the
upgrade of an existing journal to the schema that holds the history."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from technician_tools import ROOT

from smpctl.cli import main
from smpctl.client import PenIdentity, PenLimits
from smpctl.journal import Journal
from smpctl.journal.calibrations import (
    calibrations,
    in_force,
    known_pens,
    record_calibration,
)
from smpctl.journal.schema import LATEST, migrate
from smpctl.protocol import Capability

FIXTURE_V1 = ROOT / "tests" / "journal" / "journal_v1.sql"
BEFORE_HISTORY = 2
"""The last schema version without the calibrations table."""
LIMITS = PenLimits(150.0, 2.0, 4.0, 0.0, 2.0, 3.0, 41.0, 250, 2000, 400)


def identity(serial: str, *, simulated: bool = False) -> PenIdentity:
    caps = Capability.SIMULATED if simulated else Capability(0)
    return PenIdentity("SMP-Pro R2", serial, "1.2.0", "1.0", caps, LIMITS)


def calibrate(
    journal: Journal, serial: str, kind: str, day: dt.date, *, passed: bool = True
) -> str:
    return record_calibration(
        journal,
        identity(serial),
        kind=kind,
        day=day,
        passed=passed,
        residuals=[{"setpoint_hz": 100.0, "residual_pct": 0.1}],
        written={"SPEED_GAIN_PPM": 985_000} if passed else None,
        expires=day + dt.timedelta(days=90) if passed else None,
        technician="T. Nguyen",
        tolerance="±2 %",
        diagnoses=[] if passed else ["supply voltage too low: ..."],
    )


def test_the_history_lists_latest_first_per_pen_with_expiry(journal_file: Path) -> None:
    clock = itertools.count(1_700_000_000.0)
    with Journal.open(journal_file, wall=lambda: next(clock)) as journal:
        calibrate(journal, "P0001", "speed", dt.date(2024, 1, 10))
        calibrate(journal, "P0001", "speed", dt.date(2024, 6, 1), passed=False)
        calibrate(journal, "P0001", "depth", dt.date(2024, 6, 1))
        calibrate(journal, "P0002", "speed", dt.date(2024, 5, 1))
        journal.register_pen(identity("P0003"))  # used in treatments, never calibrated
        history = calibrations(journal, "P0001")
        assert [(r.kind, r.day.isoformat(), r.passed) for r in history] == [
            ("depth", "2024-06-01", True),
            ("speed", "2024-06-01", False),
            ("speed", "2024-01-10", True),
        ]
        assert len(calibrations(journal)) == 4
        speed = in_force(history, "speed")
        assert speed is not None and speed.day == dt.date(2024, 1, 10)
        assert speed.expired(dt.date(2024, 6, 1)) and not speed.expired(dt.date(2024, 4, 1))
        assert [p.serial for p in known_pens(journal)] == ["P0001", "P0002", "P0003"]
        assert journal.verify().ok


def test_a_calibration_record_edited_afterwards_fails_verify(journal_file: Path) -> None:
    with Journal.open(journal_file) as journal:
        calibrate(journal, "P0001", "speed", dt.date(2024, 1, 10))
    with sqlite3.connect(journal_file) as conn:
        conn.execute("UPDATE calibrations SET expires_day = '2099-01-01'")
    with Journal.open(journal_file, writer=False) as journal:
        report = journal.verify()
    assert not report.ok and any("calibrations record" in p for p in report.problems)


def test_smpctl_pens_shows_each_pen_with_its_history_and_flags_the_expired(
    journal_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long_ago = dt.date(2020, 1, 1)
    recent = dt.datetime.now(dt.UTC).date()
    with Journal.open(journal_file) as journal:
        calibrate(journal, "P0001", "speed", long_ago)
        calibrate(journal, "P0001", "depth", recent)
        calibrate(journal, "P0001", "depth", recent, passed=False)
        journal.register_pen(identity("SIM00001", simulated=True))

    assert main(["pens", "--journal", str(journal_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    pens = {p["serial"]: p for p in data["pens"]}
    assert set(pens) == {"P0001", "SIM00001"}
    p1 = pens["P0001"]
    assert p1["calibration"]["speed"].startswith("EXPIRED")
    assert p1["calibration"]["depth"].startswith("valid until")
    history = p1["history"]
    assert [h["kind"] for h in history] == ["depth", "depth", "speed"]
    assert history[0]["passed"] is False and history[0]["in_force"] is False
    assert history[1]["in_force"] is True and history[1]["expired"] is False
    assert history[2]["expired"] is True and history[2]["in_force"] is True
    assert pens["SIM00001"]["simulated"] and pens["SIM00001"]["history"] == []

    assert main(["pens", "--journal", str(journal_file)]) == 0
    text = capsys.readouterr().out
    assert "P0001" in text and "EXPIRED" in text and "[in force, EXPIRED]" in text
    assert "SIM00001" in text and "SIMULATED" in text and "never calibrated" in text


def test_a_journal_from_before_the_history_is_upgraded_to_hold_it(
    journal_file: Path,
) -> None:
    journal_file.parent.mkdir(mode=0o700)
    conn = sqlite3.connect(journal_file, isolation_level=None)
    conn.executescript(FIXTURE_V1.read_text())
    assert migrate(conn, target=BEFORE_HISTORY) == 1  # as the smpctl before the history left it
    assert conn.execute("PRAGMA user_version").fetchone()[0] == BEFORE_HISTORY
    conn.close()

    with Journal.open(journal_file) as journal:
        assert journal.store.schema_version == LATEST
        assert journal.verify().ok  # the old records and their chain survive the upgrade
        before = journal.verify().records
        (old,) = journal.passes()
        assert old.zone == "HL"
        assert calibrations(journal) == []
        calibrate(journal, "P0001", "speed", dt.date(2024, 1, 10))
        # the pen's record (registered on its first calibration) and the calibration
        assert journal.verify().ok and journal.verify().records == before + 2
        (record,) = calibrations(journal, "P0001")
        assert record.technician == "T. Nguyen" and record.written == {"SPEED_GAIN_PPM": 985000}


@pytest.mark.parametrize(
    "tool", ["calibrate_speed", "calibrate_depth", "calibrate_contact", "burn_in"]
)
def test_each_technician_tool_has_help_with_port_json_and_journal(tool: str) -> None:
    result = subprocess.run(
        [sys.executable, f"tools/{tool}.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--port", "--json", "--journal", "--technician", "--report-dir"):
        assert option in result.stdout
    assert "SIMULATED" in result.stdout
