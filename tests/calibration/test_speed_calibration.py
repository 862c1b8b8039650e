"""Speed calibration against the simulated pen: its built-in sensor error is found and
corrected; a pen on a low supply fails with the right explanation and keeps its old
calibration; the tool records the history and the report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from technician_tools import load_tool

from smpctl.calibration import Cause, SpeedCalibrator, SpeedSweep, TelemetryReader, summarize
from smpctl.calibration.bench import running_in_air
from smpctl.client import connect
from smpctl.journal import Journal
from smpctl.journal.calibrations import calibrations
from smpctl.protocol import CalibrationKey, SimAction

TODAY = dt.date(2025, 3, 1)
QUICK = SpeedSweep(
    start_hz=60, stop_hz=140, step_hz=40, settle_window_s=0.15, window_s=0.3, windows=2
)
"""Three steps and short windows: enough to fit and check, quick enough for the suite."""


def test_a_calibration_corrects_the_sensor_so_reported_speed_is_the_true_rate(
    sim_url: str,
) -> None:
    with connect(sim_url) as pen:
        hardware = pen.link.port.pen.hardware  # type: ignore[union-attr]
        assert hardware.speed_sensor_gain > 1.009  # the simulated sensor reads high

        result = SpeedCalibrator(pen, QUICK, today=TODAY, valid_days=30).run()

        assert result.passed, [str(d) for d in result.outcome.diagnoses]
        correction = result.analysis.correction
        assert correction is not None
        assert correction.gain_ppm == pytest.approx(1e6 / hardware.speed_sensor_gain, rel=0.003)
        assert all(abs(r.residual_pct) <= 2.0 for r in result.analysis.results)
        assert pen.read_calibration(CalibrationKey.SPEED_GAIN_PPM) == correction.gain_ppm
        assert pen.read_calibration(CalibrationKey.SPEED_CAL_DAY) == 20148  # 2025-03-01
        assert pen.read_calibration(CalibrationKey.SPEED_CAL_EXPIRES_DAY) == 20148 + 30
        assert result.verification and all(v.passed for v in result.verification)

        # measured afresh: the speed the pen now reports is the true stroke rate
        reader = TelemetryReader(pen)
        with running_in_air(pen, reader, speed_hz=110, telemetry_hz=500, say=lambda _t: None):
            reader.collect(0.3)
            measured = summarize(reader.collect(0.6))
            with pen.link.port.pen_lock:  # type: ignore[union-attr]
                truth_hz = pen.link.port.pen.truth().speed_hz  # type: ignore[union-attr]
        assert measured.reported_hz == pytest.approx(measured.true_hz, rel=0.02)
        assert measured.reported_hz == pytest.approx(truth_hz, rel=0.02)
        assert measured.true_hz == pytest.approx(110, rel=0.02)


def test_a_pen_on_a_low_supply_fails_for_its_supply_and_nothing_is_written(
    sim_url: str,
) -> None:
    with connect(sim_url) as pen:
        before = {k: pen.read_calibration(k) for k in CalibrationKey}
        pen.sim(SimAction.SUPPLY_MV, 7000)

        result = SpeedCalibrator(pen, QUICK, today=TODAY).run()

        assert not result.passed
        assert [d.cause for d in result.outcome.diagnoses] == [Cause.SUPPLY]
        explanation = str(result.outcome.diagnoses[0])
        assert "supply voltage too low" in explanation and "saturates" in explanation
        assert result.outcome.written is None and "nothing was written" in " ".join(
            result.outcome.notes
        )
        assert {k: pen.read_calibration(k) for k in CalibrationKey} == before
        saturated = [r.step.setpoint_hz for r in result.analysis.results if r.saturated]
        assert saturated == [100, 140]


def test_the_speed_tool_records_a_failure_with_its_cause_in_report_and_history(
    sim_url: str, journal_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = load_tool("calibrate_speed")
    argv = [
        "--port", sim_url, "--json", "--journal", str(journal_file),
        "--report-dir", str(tmp_path / "reports"), "--technician", "T. Nguyen",
        "--step", "40", "--settle", "0.15", "--window", "0.3", "--windows", "2",
        "--sim-supply-mv", "7000",
    ]  # fmt: skip
    assert tool.main(argv) == 1
    out = capsys.readouterr()
    assert "SIMULATED" in out.err
    report = json.loads(out.out)
    assert report["passed"] is False and report["written"] is None
    assert report["diagnoses"][0]["cause"] == "supply voltage too low"
    path = Path(report["report"])
    assert path.parent == tmp_path / "reports"
    assert path.name.startswith(f"{report['pen']['serial']}-speed-") and path.suffix == ".json"
    assert json.loads(path.read_text())["technician"] == "T. Nguyen"
    with Journal.open(journal_file, writer=False) as journal:
        (record,) = calibrations(journal)
        assert journal.verify().ok
    assert record.kind == "speed" and not record.passed and record.written is None
    assert record.technician == "T. Nguyen" and record.simulated
    assert "supply voltage too low" in record.diagnoses[0]
    assert record.report == str(path)
