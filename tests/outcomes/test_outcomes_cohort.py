"""`smpctl outcomes cohort`: change in terminal hair density per zone against cumulative
dose, binned and split by session kind and adjunct, every figure with its n, clients
without a baseline and follow-up left out and counted, worded as an association."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from outcomes_support import TODAY, Clock, day, record_session, run_cli

from smpctl.journal import Journal
from smpctl.outcomes import DOSE_BINS, client_for_record, record_outcome, start_adjunct
from smpctl.outcomes.cohort import dose_bin

SMP_CRN = {"CRN": (10_000, 3)}  # 30000 punctures over 60 cm² = 500/cm²
MN_CRN = {"CRN": (1_500, 12)}  # 18000 over 60 cm² = 300/cm²


@pytest.fixture(scope="module")
def journal_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "journal.sqlite3"
    clock = Clock()
    with Journal.open(path, wall=clock) as journal:

        def counts(client: str, zone: str, *points: tuple[int, float]) -> None:
            ref = client_for_record(journal, client)
            for offset, terminal in points:
                record_outcome(
                    journal, ref, zone=zone, day=day(offset), today=TODAY, terminal_per_cm2=terminal
                )

        def adjunct(client: str, treatment: str, start: int, stop: int | None = None) -> None:
            ref = client_for_record(journal, client)
            stopped = None if stop is None else day(stop)
            start_adjunct(journal, ref, treatment, started=day(start), stopped=stopped, today=TODAY)

        # A: three SMP sessions, 1500/cm² at follow-up, on minoxidil: +12
        for n, offset in enumerate((0, 21, 42), 1):
            record_session(journal, clock, "C-0501", n, offset, SMP_CRN)
        adjunct("C-0501", "minoxidil", 5)
        counts("C-0501", "CRN", (0, 40.0), (100, 52.0))
        # B: two microneedling sessions, 600/cm²: +6
        record_session(journal, clock, "C-0502", 1, 0, MN_CRN, kind="microneedling")
        record_session(journal, clock, "C-0502", 2, 28, MN_CRN, kind="microneedling")
        counts("C-0502", "CRN", (0, 30.0), (90, 36.0))
        # C: one of each, 800/cm²: -3; finasteride stopped before the baseline; HL rated only
        record_session(journal, clock, "C-0503", 1, 0, {**SMP_CRN, "HL": (500, 1)})
        record_session(journal, clock, "C-0503", 2, 30, MN_CRN, kind="microneedling")
        adjunct("C-0503", "finasteride", -60, -10)
        counts("C-0503", "CRN", (0, 50.0), (80, 47.0))
        for offset in (0, 80):
            record_outcome(
                journal, client_for_record(journal, "C-0503"), zone="HL", day=day(offset),
                today=TODAY, rating=offset / 40, rating_scale="7-point",
            )  # fmt: skip
        # D: crown never treated (hairline only): +1, with one PRP day in between
        record_session(journal, clock, "C-0504", 1, 0, {"HL": (800, 1)})
        adjunct("C-0504", "prp", 10, 10)
        counts("C-0504", "CRN", (0, 45.0), (60, 46.0))
        # E: one count only; F: ratings only; G: no measurement; H: a dose unknown
        record_session(journal, clock, "C-0505", 1, 0, SMP_CRN)
        counts("C-0505", "CRN", (0, 41.0))
        record_session(journal, clock, "C-0506", 1, 0, SMP_CRN)
        for offset in (0, 60):
            record_outcome(
                journal, client_for_record(journal, "C-0506"), zone="CRN", day=day(offset),
                today=TODAY, rating=1.0, rating_scale="7-point",
            )  # fmt: skip
        record_session(journal, clock, "C-0507", 1, 0, SMP_CRN)
        record_session(journal, clock, "C-0508", 1, 0, {"CRN": (10_000, None)})
        counts("C-0508", "CRN", (0, 40.0), (50, 44.0))
        # I: MID first treated in session 2 (baseline: the count that day, not day 0);
        # NAP counted only after its treatment began
        record_session(journal, clock, "C-0509", 1, 0, {"HL": (800, 1), "NAP": (1_000, 3)})
        record_session(journal, clock, "C-0509", 2, 21, {"MID": (10_000, 3)})
        counts("C-0509", "MID", (0, 60.0), (21, 58.0), (90, 62.0))
        counts("C-0509", "NAP", (30, 20.0), (90, 22.0))
    return path


def _cohort(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, "outcomes", "cohort", *argv, "--journal", str(path))


def _groups(data: dict[str, object], zone: str, split: str) -> dict[str, tuple[object, ...]]:
    return {
        g["group"]: (g["n"], g["median_change_terminal_per_cm2"], g["min_change"], g["max_change"])
        for g in data["groups"]  # type: ignore[attr-defined]
        if g["zone"] == zone and g["split"] == split
    }


def test_bins_splits_and_n_per_zone(journal_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cohort(capsys, journal_path, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert _groups(data, "CRN", "all") == {"all": (4, 3.5, -3.0, 12.0)}
    assert _groups(data, "CRN", "dose") == {
        "0 (untreated)": (1, 1.0, 1.0, 1.0),
        "250-1000": (2, 1.5, -3.0, 6.0),
        "1000-2500": (1, 12.0, 12.0, 12.0),
    }
    assert _groups(data, "CRN", "session kind") == {
        "smp": (1, 12.0, 12.0, 12.0),
        "microneedling": (1, 6.0, 6.0, 6.0),
        "both": (1, -3.0, -3.0, -3.0),
        "untreated": (1, 1.0, 1.0, 1.0),
    }
    assert _groups(data, "CRN", "adjunct") == {
        "minoxidil": (1, 12.0, 12.0, 12.0),
        "prp": (1, 1.0, 1.0, 1.0),
        "none": (2, 1.5, -3.0, 6.0),  # finasteride stopped before C's baseline
    }
    assert _groups(data, "MID", "dose") == {"250-1000": (1, 4.0, 4.0, 4.0)}
    assert _groups(data, "NAP", "dose") == {"<250": (1, 2.0, 2.0, 2.0)}
    points = {(p["client"], p["zone"]): p for p in data["points"]}
    assert points[("C-0501", "CRN")]["dose_per_cm2"] == pytest.approx(1500.0)
    assert points[("C-0509", "MID")]["baseline_day"] == day(21).isoformat()
    assert points[("C-0509", "NAP")]["baseline_before_treatment"] is False
    assert (data["clients"], data["clients_included"], data["clients_left_out"]) == (9, 5, 4)
    assert data["clients_without_measurement"] == 1
    assert data["client_zones_left_out"] == {"no_count": 2, "no_follow_up": 1, "dose_unknown": 1}
    assert [b["label"] for b in data["dose_bins_punctures_per_cm2"]] == [b.label for b in DOSE_BINS]


def test_the_text_says_association_with_n_and_who_is_left_out(
    journal_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cohort(capsys, journal_path)
    assert code == 0, err
    assert "Association in these records only" in out
    assert "cannot show that any treatment works" in out
    assert "No p-values are computed." in out
    for claim in ("significant", "effective", "proves", "p =", "p<", "p ="):
        assert claim not in out
    assert (
        "Clients: 9; 5 with at least one zone counted at baseline and follow-up; 4 left out" in out
    )
    assert "(1 with no hair measurement at all)" in out
    assert "Client-zones left out: 2 with ratings only (no trichoscope count); " in out
    assert "1 with no count on a day after the baseline (no follow-up); 1 with a session's" in out
    assert "1 client-zone(s) have no count before treatment began" in out
    crn = out[out.index("CRN crown  (n = 4 client-zones)") :]
    assert "\n    250-1000           2      +1.5  -3.0 .. +6.0" in crn
    assert "\n    none               2      +1.5  -3.0 .. +6.0" in crn


def test_the_summary_is_written_as_csv(
    journal_path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "cohort.csv"
    code, out, err = _cohort(capsys, journal_path, "--csv", str(target))
    assert code == 0, err
    assert "cohort table written to" in err and "Association in these records" in out
    with target.open(newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert {(r["zone"], r["split"], r["group"], r["n"]) for r in table} >= {
        ("CRN", "all", "all", "4"),
        ("CRN", "dose", "250-1000", "2"),
        ("CRN", "adjunct", "none", "2"),
        ("NAP", "dose", "<250", "1"),
    }
    assert all(int(r["n"]) > 0 for r in table)


def test_dose_bins_are_half_open_and_zero_is_untreated() -> None:
    assert dose_bin(0.0).label == "0 (untreated)"
    assert dose_bin(0.1).label == "<250"
    assert dose_bin(250.0).label == "250-1000"
    assert dose_bin(999.99).label == "250-1000"
    assert dose_bin(10_000.0).label == ">=10000"
