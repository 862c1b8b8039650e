"""`smpctl outcomes add`: hair measurements refused, with nothing written, when they
cannot be true; photos kept by path and hash, never touched, and checked on every read."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import pytest
from outcomes_support import TODAY, Clock, day, record_session, rows, run_cli

from smpctl.errors import RecordDayError
from smpctl.journal import Journal
from smpctl.outcomes import PhotoState, client_for_record, client_outcomes, record_outcome


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite3"
    clock = Clock()
    with Journal.open(path, wall=clock) as journal:
        record_session(journal, clock, "C-0121", 1, 0, {"CRN": (1000, 3)})
        record_session(journal, clock, "C-0121", 2, 21, {"CRN": (1000, 3)})
        journal.client("C-0129")  # known, but no session yet
    return path


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photos" / "C-0121-crown.jpg"
    path.parent.mkdir()
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40)
    return path


def _add(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, "outcomes", "add", *argv, "--journal", str(path))


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["C-0121", "--zone", "CRN", "--day", "2026-03-01", "--terminal", "40"],
         "before client C-0121's first session (2026-03-02)"),
        (["C-0121", "--zone", "CRN", "--day",
          (dt.date.today() + dt.timedelta(days=1)).isoformat(), "--terminal", "40"],
         "in the future"),
        (["C-0121", "--zone", "CRN", "--day", "2026-03-02", "--terminal", "40",
          "--photo", "/nonexistent/crown.jpg"], "photo /nonexistent/crown.jpg: no such file"),
        (["C-0121", "--zone", "CRN", "--day", "2026-03-02"], "no measurement given"),
        (["C-0121", "--zone", "CRN", "--day", "2026-03-02", "--photo", "PHOTO"],
         "a photo alone is not a measurement"),
        (["C-0121", "--zone", "CRN", "--day", "2026-03-02", "--terminal", "-3"], "is negative"),
        (["C-0121", "--zone", "CRN", "--day", "2026-03-02", "--vellus", "4000"],
         "more than any scalp holds"),
        (["C-0121", "--zone", "SCR_FUE", "--day", "2026-03-02", "--terminal", "40"],
         "unknown zone 'SCR_FUE'"),
        (["C-0121", "--zone", "CRN", "--day", "2026-03-02", "--rating", "3"], "needs its scale"),
        (["C-0121", "--zone", "CRN", "--day", "2026-03-02", "--scale", "Norwood"],
         "without --rating"),
        (["C-0112", "--zone", "CRN", "--day", "2026-03-02", "--terminal", "40"],
         "no client 'C-0112' in the journal. Closest matches: C-0129; C-0121. A record names"),
        (["C-0129", "--zone", "CRN", "--day", "2026-03-02", "--terminal", "40"],
         "has no session recorded yet"),
    ],
)  # fmt: skip
def test_a_measurement_that_cannot_be_true_is_refused_and_nothing_is_written(
    journal_path: Path,
    photo: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    said: str,
) -> None:
    ledger = rows(journal_path, "ledger")
    code, _, err = _add(capsys, journal_path, *[str(photo) if a == "PHOTO" else a for a in argv])
    assert code == 1
    assert err.startswith("smpctl: error: ") and "Traceback" not in err
    assert said in err
    assert rows(journal_path, "outcomes") == 0
    assert rows(journal_path, "ledger") == ledger


def test_a_measurement_on_the_first_session_day_is_the_baseline(
    journal_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _add(
        capsys, journal_path, "c-0121", "--zone", "crn", "--day", "2026-03-02",
        "--terminal", "41.5", "--vellus", "18", "--note", "before the needle",
    )  # fmt: skip
    assert code == 0, err
    assert "Recorded for client C-0121, zone CRN, 2026-03-02 (trichoscope)" in out
    assert "terminal 41.5/cm², vellus 18/cm²" in out
    assert rows(journal_path, "outcomes") == 1


def test_the_library_takes_its_clock_and_refuses_tomorrow(journal_path: Path) -> None:
    with Journal.open(journal_path) as journal:
        client = client_for_record(journal, "C-0121")
        with pytest.raises(RecordDayError, match="in the future"):
            record_outcome(
                journal, client, zone="CRN", day=day(30), today=day(29), terminal_per_cm2=40
            )
        record_outcome(
            journal, client, zone="CRN", day=day(30), today=TODAY, rating=2, rating_scale="7-point"
        )
        (m,) = client_outcomes(journal, client.uid)
    assert (m.rating, m.rating_scale, m.method, m.terminal_per_cm2) == (
        2.0,
        "7-point",
        "photo",
        None,
    )


def test_a_photo_is_kept_by_reference_untouched_and_shows_changed_or_missing(
    journal_path: Path, photo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = photo.read_bytes()
    os.utime(photo, (1_700_000_000, 1_700_000_000))
    relative = os.path.relpath(photo)
    code, out, err = _add(
        capsys, journal_path, "C-0121", "--zone", "CRN", "--day", "2026-03-23",
        "--rating", "1", "--scale", "7-point global photo", "--photo", relative, "--json",
    )  # fmt: skip
    assert code == 0, err
    recorded = json.loads(out)["photo"]
    assert recorded["path"] == str(photo.resolve())  # absolute, whatever was typed
    assert recorded["sha256"] == hashlib.sha256(before).hexdigest()
    assert recorded["state"] == "OK"
    assert photo.read_bytes() == before and photo.stat().st_mtime == 1_700_000_000
    assert list(photo.parent.iterdir()) == [photo]  # nothing copied beside it

    def states() -> list[str]:
        code, out, err = run_cli(
            capsys, "outcomes", "C-0121", "--json", "--journal", str(journal_path)
        )
        assert code == 0, err
        crn = json.loads(out)["zones"]["CRN"]["measurements"]
        return [m["photo"]["state"] for m in crn]

    assert states() == ["OK"]
    photo.write_bytes(before[:-1] + b"\x00")  # retouched, same name
    assert states() == ["CHANGED"]
    code, out, _ = run_cli(capsys, "outcomes", "C-0121", "--journal", str(journal_path))
    assert f"PHOTO CHANGED: {photo.resolve()}" in out
    photo.unlink()
    assert states() == ["MISSING"]
    with Journal.open(journal_path, writer=False) as journal:
        (m,) = client_outcomes(journal, client_for_record(journal, "C-0121").uid)
    assert m.photo is not None and m.photo.state is PhotoState.MISSING
