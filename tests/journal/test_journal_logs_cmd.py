"""`smpctl logs list` and `smpctl logs verify`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from smpctl.cli import main
from smpctl.journal import Journal


def recorded(path: Path) -> None:
    with Journal.open(path) as journal:
        journal.open_session(
            "C-0042", 3, "P1", consent=True, simulated=True, display_name="Real Name", notes="n!"
        )
        journal.set_zone("HL")
        uid = journal.begin_pass(started_t_us=0, wall=journal.now, pen_uid=None)
        journal.flag_pass("check", "private note", pass_uid=uid)
        journal.close_session()


def test_logs_list_shows_sessions_by_pseudonym_only(
    journal_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded(journal_file)
    assert main(["logs", "list", "--journal", str(journal_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (session,) = data["sessions"]
    assert session["client"] == "C-0042" and session["session_number"] == 3
    assert session["passes"] == 1 and session["zones"] == ["HL"] and session["simulated"]
    assert main(["logs", "list", "--journal", str(journal_file)]) == 0
    text = capsys.readouterr().out
    assert "C-0042 #3" in text and "SIMULATED" in text
    assert "Real Name" not in text + json.dumps(data) and "private note" not in text


def test_logs_verify_fails_on_an_edited_record(
    journal_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded(journal_file)
    monkeypatch.setenv("SMPCTL_JOURNAL", str(journal_file))
    assert main(["logs", "verify"]) == 0
    assert "hash chain intact" in capsys.readouterr().out
    with sqlite3.connect(journal_file) as conn:
        conn.execute("UPDATE sessions SET session_number = 1")
    assert main(["logs", "verify", "--journal", str(journal_file)]) == 1
    assert "was edited after it was recorded" in capsys.readouterr().out
