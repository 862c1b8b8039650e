"""`smpctl clients areas`: measured zone areas recorded all together or not at all, and
the areas in force listed with where each comes from."""

from __future__ import annotations

from pathlib import Path

import pytest
from outcomes_support import Clock, record_session, rows, run_cli

from smpctl.journal import Journal
from smpctl.journal.doses import areas_in_force, client_uid_of


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite3"
    clock = Clock()
    with Journal.open(path, wall=clock) as journal:
        record_session(journal, clock, "C-0101", 1, 0, {"CRN": (1000, 3)})
        record_session(journal, clock, "D-0200", 1, 1, {"HL": (500, 1)})
    return path


def test_areas_are_recorded_and_listed_with_their_source(
    journal_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        capsys,
        "clients", "areas", "C-0101", "CRN=58.5", "hl=27",
        "--day", "2026-03-01", "--method", "tape", "--journal", str(journal_path),
    )  # fmt: skip
    assert code == 0, err
    assert "Recorded 2 area(s) measured on 2026-03-01 for client C-0101" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert lines["CRN"][1:5] == ["58.5", "measured", "2026-03-01", "tape"]
    assert lines["HL"][1:4] == ["27.0", "measured", "2026-03-01"]
    assert lines["MID"][1:4] == ["80.0", "default", "-"]
    with Journal.open(journal_path, writer=False) as journal:
        uid = client_uid_of(journal, "C-0101")
        assert uid is not None
        assert areas_in_force(journal, uid)["CRN"] == (58.5, "measured")

    code, out, _ = run_cli(
        capsys, "clients", "areas", "c-01", "--json", "--journal", str(journal_path)
    )
    assert code == 0 and '"area_cm2": 58.5' in out  # reading takes a unique prefix


@pytest.mark.parametrize(
    ("entries", "said"),
    [
        (["CRN=0"], "is zero"),
        (["CRN=-12"], "is negative"),
        (["CRN=750"], "larger than a whole scalp"),
        (["MID=550", "OCC=550"], "far more than a whole scalp"),
        (["HL=28", "CRN=0"], "is zero"),  # a good entry is not written with a bad one
        (["HL=28", "hl=29"], "given twice"),
        (["HL=28", "XYZ=10"], "unknown zone"),
        (["HL28"], "is not ZONE=CM2"),
        (["HL=abc"], "is not ZONE=CM2"),
    ],
)
def test_an_impossible_area_is_refused_and_nothing_is_written(
    journal_path: Path, capsys: pytest.CaptureFixture[str], entries: list[str], said: str
) -> None:
    ledger = rows(journal_path, "ledger")
    code, _, err = run_cli(
        capsys, "clients", "areas", "C-0101", *entries, "--journal", str(journal_path)
    )
    assert code == 1
    assert said in err and "Traceback" not in err
    assert err.startswith("smpctl: error: ")
    assert rows(journal_path, "client_areas") == 0
    assert rows(journal_path, "ledger") == ledger


def test_a_future_measurement_day_is_refused(
    journal_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys,
        "clients", "areas", "C-0101", "CRN=60", "--day", "2999-01-01",
        "--journal", str(journal_path),
    )  # fmt: skip
    assert code == 1 and "in the future" in err
    assert rows(journal_path, "client_areas") == 0


def test_an_unknown_client_is_refused_with_the_closest_pseudonyms(
    journal_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys, "clients", "areas", "C-0130", "CRN=60", "--journal", str(journal_path)
    )
    assert code == 1
    assert "no client 'C-0130'" in err and "C-0101" in err and "--new" in err
    # a unique prefix is enough to read, never to write under
    code, _, err = run_cli(
        capsys, "clients", "areas", "D-02", "CRN=60", "--journal", str(journal_path)
    )
    assert code == 1 and "Closest matches: D-0200" in err
    assert rows(journal_path, "client_areas") == 0
    assert rows(journal_path, "clients") == 2


def test_a_new_client_is_registered_with_its_first_areas_only_when_asked(
    journal_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys, "clients", "areas", "E-0300", "CRN=0", "--new", "--journal", str(journal_path)
    )
    assert code == 1 and "is zero" in err
    assert rows(journal_path, "clients") == 2  # no client left behind by a refused entry
    code, out, err = run_cli(
        capsys, "clients", "areas", "E-0300", "CRN=61", "--new", "--journal", str(journal_path)
    )
    assert code == 0, err
    assert "(new client)" in out
    assert rows(journal_path, "clients") == 3
    assert rows(journal_path, "client_areas") == 1
    with Journal.open(journal_path, writer=False) as journal:
        assert journal.verify().ok
