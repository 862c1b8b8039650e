"""Depth calibration from a readings file and from the prompt, and a burn-in of a few
seconds, against the simulated pen."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from technician_tools import load_tool

from smpctl.calibration import (
    BurnIn,
    BurnInPlan,
    DepthCalibrator,
    DepthPlan,
    TelemetryReader,
    file_gauge,
    profile_speeds,
)
from smpctl.client import connect
from smpctl.journal import Journal
from smpctl.journal.calibrations import calibrations
from smpctl.profiles import ProfileLibrary
from smpctl.protocol import CalibrationKey

TODAY = dt.date(2025, 3, 1)
MARKS = (0.6, 0.9, 1.2)


def test_depth_calibration_from_a_readings_file_makes_the_setpoint_the_protrusion(
    sim_url: str, journal_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with connect(sim_url) as pen:
        sensor_offset_um = pen.link.port.pen.hardware.depth_sensor_offset_um  # type: ignore[union-attr]
    # what a gauge shows on this pen before calibration: the adjuster servoes on a sensor
    # that reads `sensor_offset_um` off, so the needle sits that much off each mark
    readings = tmp_path / "gauge.csv"
    readings.write_text(
        "position_mm,reading_mm\n"
        + "".join(f"{m},{m - sensor_offset_um / 1000:.3f}\n" for m in MARKS)
    )
    tool = load_tool("calibrate_depth")
    argv = [
        "--port", sim_url, "--json", "--journal", str(journal_file), "--readings",
        str(readings), "--report-dir", str(tmp_path / "reports"), "--valid-days", "60",
    ]  # fmt: skip
    assert tool.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] and [p["position_mm"] for p in report["points"]] == list(MARKS)
    assert report["correction"]["offset_um"] == pytest.approx(-sensor_offset_um, abs=1.5)
    assert report["written"]["DEPTH_CAL_EXPIRES_DAY"] - report["written"]["DEPTH_CAL_DAY"] == 60
    with Journal.open(journal_file, writer=False) as journal:
        (record,) = calibrations(journal)
    assert record.kind == "depth" and record.passed and len(record.residuals) == 3
    assert record.written == report["written"]


def test_a_passing_depth_calibration_is_on_the_pen_and_moves_the_needle_right(
    sim_url: str,
) -> None:
    with connect(sim_url) as pen:
        core = pen.link.port.pen  # type: ignore[union-attr]
        offset_um = core.hardware.depth_sensor_offset_um
        readings = {m: round(m - offset_um / 1000, 3) for m in MARKS}
        asked: list[float] = []

        def gauge(position: float, reported: float) -> float:
            asked.append(position)
            return file_gauge(readings)(position, reported)

        result = DepthCalibrator(
            pen, DepthPlan(positions_mm=MARKS, settle_window_s=0.1), gauge, today=TODAY
        ).run()
        assert result.passed and asked == list(MARKS)
        assert (
            pen.read_calibration(CalibrationKey.DEPTH_OFFSET_UM)
            == result.outcome.written["DEPTH_OFFSET_UM"]
        )  # type: ignore[index]
        pen.set_depth(1.0)
        TelemetryReader(pen).collect(0.4, motor=False)
        with pen.link.port.pen_lock:  # type: ignore[union-attr]
            true_um = core.truth().depth_um
        assert true_um == pytest.approx(1000, abs=20)


def test_depth_readings_typed_at_the_prompt(sim_url: str) -> None:
    tool = load_tool("calibrate_depth")
    answers = iter(["abc", "0.61", "0.905", "1.2"])
    gauge = tool.prompt_gauge(lambda _question: next(answers))
    with connect(sim_url) as pen:
        result = DepthCalibrator(
            pen, DepthPlan(positions_mm=MARKS, settle_window_s=0.1), gauge, today=TODAY
        ).run()
    assert [r.point.reading_mm for r in result.analysis.results] == [0.61, 0.905, 1.2]


def test_a_short_burn_in_through_the_profile_speeds_passes_with_a_report(
    sim_url: str, tmp_path: Path
) -> None:
    speeds = profile_speeds(ProfileLibrary.default([tmp_path]).load("smp-base"))
    assert speeds[0] >= 80 and speeds[-1] <= 120 and len(speeds) >= 2
    plan = BurnInPlan(speeds_hz=speeds[:2], minutes=2.4 / 60, window_s=0.3)
    with connect(sim_url) as pen:
        result = BurnIn(pen, plan, today=TODAY).run()
    assert result.passed, [str(d) for d in result.outcome.diagnoses]
    assert {s.setpoint_hz for s in result.segments} == set(speeds[:2])
    assert all(abs(s.reported_hz - s.setpoint_hz) < 0.5 for s in result.segments)
    body = result.as_dict()
    assert body["passed"] and body["figures"]["faults_seen"] == "none"
    assert body["figures"]["temp_max_c"] < 39


def test_the_burn_in_tool_writes_its_report_and_history(
    sim_url: str, journal_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = load_tool("burn_in")
    argv = [
        "--port", sim_url, "--journal", str(journal_file), "--minutes", "0.04",
        "--window", "0.3", "--report-dir", str(tmp_path), "--technician", "T. Nguyen",
        "--profiles-dir", str(tmp_path / "profiles"),
    ]  # fmt: skip
    assert tool.main(argv) == 0
    out = capsys.readouterr().out
    assert "RESULT: PASS" in out
    (report,) = tmp_path.glob("*-burn-in-*.json")
    data = json.loads(report.read_text())
    assert data["kind"] == "burn_in" and data["profile"] == "smp-base" and data["passed"]
    with Journal.open(journal_file, writer=False) as journal:
        (record,) = calibrations(journal)
    assert record.kind == "burn_in" and record.passed and record.expires is None
