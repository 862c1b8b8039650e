"""The contact calibration: the free-running current and acceleration gain it records match
the simulated motor's physics, a touched needle is refused by name, the dashboard gets the
baseline in force from the journal, and a detector given it counts punctures truly."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from technician_tools import load_tool

import smpctl.sim as sim
from smpctl.calibration import (
    Cause,
    ContactCalibrationResult,
    ContactCalibrator,
    ContactPlan,
    StepRecord,
    TelemetryReader,
    analyse_contact,
    contact_settings,
    record_run,
)
from smpctl.calibration.bench import running_in_air
from smpctl.calibration.contact import (
    GAIN_KEY,
    ContactLimits,
    compare_with_previous,
    steady_part,
)
from smpctl.cli import main as smpctl_main
from smpctl.client import Pen, connect
from smpctl.dose import ContactDetector, ContactSettings
from smpctl.journal import Journal
from smpctl.journal.calibrations import calibrations, record_calibration
from smpctl.protocol import Status, Telemetry

TODAY = dt.date(2025, 3, 1)
QUICK = ContactPlan(step_hz=20, measure_s=0.3)
"""Five steps, 60–140 Hz, with short steady stretches: about 3 s on the simulator."""
ON = int(Status.MOTOR_ON)
RAMP = int(Status.IN_RAMP)


def model_i0_ma(pen: Pen, reported_hz: float) -> float:
    """The simulated motor's free-running current at a reported speed: in steady state
    kt·i = Coulomb friction + viscous·ω, the true speed being the reported one over the
    sensor's built-in error (no speed calibration is in force on a fresh simulated pen)."""
    hw = pen.link.port.pen.hardware  # type: ignore[union-attr]
    p = hw.params
    omega = 2 * math.pi * reported_hz / hw.speed_sensor_gain
    return (p.coulomb_friction_nm + p.viscous_nm_s_per_rad * omega) / p.kt_nm_per_a * 1000


def model_gain(pen: Pen) -> float:
    """J/kt in mA per (reported) Hz/s: J·2π·dω/dt over kt, per Hz/s of reported speed."""
    hw = pen.link.port.pen.hardware  # type: ignore[union-attr]
    p = hw.params
    return p.inertia_kgm2 * 2 * math.pi / p.kt_nm_per_a * 1000 / hw.speed_sensor_gain


@dataclass
class Calibrated:
    pen: Pen
    result: ContactCalibrationResult
    journal_file: Path


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Calibrated]:
    """One pen, calibrated once in the air and recorded, for the tests that read the run."""
    name = "contactcal"
    tmp = tmp_path_factory.mktemp("contact")
    journal_file = tmp / "private" / "journal.sqlite3"
    pen = connect(f"sim://{name}?seed=11&baud=921600&serial=SIMCONT1")
    try:
        result = ContactCalibrator(pen, QUICK, today=TODAY, valid_days=30).run()
        with Journal.open(journal_file) as journal:
            record_run(
                result.outcome,
                result.as_dict(),
                report_dir=tmp / "reports",
                journal=journal,
                technician="T. Nguyen",
            )
        yield Calibrated(pen, result, journal_file)
    finally:
        pen.close()
        sim.BUS.power_off(name)


# ---------------------------------------------------------------------- on the simulator


def test_a_run_in_air_records_the_motors_true_free_running_current_at_each_speed(
    calibrated: Calibrated,
) -> None:
    result = calibrated.result
    assert result.passed, [str(d) for d in result.outcome.diagnoses]
    steps = result.analysis.steps
    assert [s.setpoint_hz for s in steps] == [60, 80, 100, 120, 140]
    for step in steps:
        assert step.settled and not step.loaded
        assert step.samples >= 100
        assert step.sd_ma < 15  # sensor noise only
        assert step.i0_ma == pytest.approx(model_i0_ma(calibrated.pen, step.speed_hz), rel=0.03)
    assert result.missed == 0


def test_the_fitted_gain_is_the_motors_inertia_over_its_torque_constant(
    calibrated: Calibrated,
) -> None:
    fit = calibrated.result.analysis.fit
    assert fit is not None and fit.samples >= 24
    assert fit.gain_ma_per_hz_s == pytest.approx(model_gain(calibrated.pen), rel=0.20)
    written = calibrated.result.outcome.written
    assert written == {GAIN_KEY: round(fit.gain_ma_per_hz_s * 1000)}


def test_the_history_holds_one_row_per_speed_and_the_gain(calibrated: Calibrated) -> None:
    with Journal.open(calibrated.journal_file, writer=False) as journal:
        (record,) = calibrations(journal, "SIMCONT1")
        assert journal.verify().ok
    assert record.kind == "contact" and record.passed and record.simulated
    assert record.expires == TODAY + dt.timedelta(days=30)
    assert [set(row) for row in record.residuals] == [{"speed_hz", "i0_ma", "sd_ma", "samples"}] * 5
    assert record.residuals == calibrated.result.analysis.residual_rows()
    assert record.written == calibrated.result.outcome.written
    assert record.report is not None and json.loads(Path(record.report).read_text())["passed"]


def test_contact_settings_give_the_table_in_force_and_none_without_one(
    calibrated: Calibrated, tmp_path: Path
) -> None:
    with Journal.open(tmp_path / "empty" / "journal.sqlite3") as empty:
        assert contact_settings(empty, "SIMCONT1", TODAY) is None

    with Journal.open(calibrated.journal_file, writer=False) as journal:
        settings = contact_settings(journal, "SIMCONT1", TODAY)
        assert contact_settings(journal, "SIMCONT1", TODAY + dt.timedelta(days=31)) is None
        assert contact_settings(journal, "SOMEOTHER", TODAY) is None
    assert settings is not None
    rows = calibrated.result.analysis.residual_rows()
    assert settings.baseline_ma == {row["speed_hz"]: row["i0_ma"] for row in rows}
    fit = calibrated.result.analysis.fit
    assert fit is not None
    assert settings.accel_gain_ma_per_hz_s == pytest.approx(fit.gain_ma_per_hz_s, abs=0.001)
    assert settings.threshold_ma == ContactSettings().threshold_ma


def test_a_failed_run_leaves_the_passing_calibration_in_force(
    calibrated: Calibrated, tmp_path: Path
) -> None:
    copy = tmp_path / "private" / "journal.sqlite3"
    copy.parent.mkdir(mode=0o700)
    copy.write_bytes(calibrated.journal_file.read_bytes())
    with Journal.open(copy) as journal:
        before = contact_settings(journal, "SIMCONT1", TODAY)
        record_calibration(
            journal,
            calibrated.pen.identity,
            kind="contact",
            day=TODAY + dt.timedelta(days=1),
            passed=False,
            residuals=[{"speed_hz": 100.0, "i0_ma": 900.0, "sd_ma": 200.0, "samples": 150}],
            diagnoses=["needle loaded: ..."],
        )
        assert contact_settings(journal, "SIMCONT1", TODAY + dt.timedelta(days=1)) == before


def test_a_detector_given_the_calibration_counts_in_skin_strokes_truly(
    calibrated: Calibrated,
) -> None:
    pen = calibrated.pen
    with Journal.open(calibrated.journal_file, writer=False) as journal:
        settings = contact_settings(journal, pen.serial, TODAY)
    assert settings is not None
    detector = ContactDetector(settings)
    reader = TelemetryReader(pen)
    core, lock = pen.link.port.pen, pen.link.port.pen_lock  # type: ignore[union-attr]
    with lock:
        truth_before = core.truth()
    cursor = pen.telemetry.cursor
    for speed in (90.0, 110.0):  # between the calibrated speeds: the table interpolates
        with running_in_air(
            pen, reader, speed_hz=speed, telemetry_hz=500, say=lambda _t: None, sim_skin_load_pct=-1
        ):
            reader.collect(2.5)
    reader.collect(0.1, motor=False)
    with lock:
        truth_after = core.truth()
    read = pen.telemetry.since(cursor)
    assert read.missed == 0
    detector.feed_all(read.items)

    true_skin = truth_after.skin_strokes - truth_before.skin_strokes
    assert detector.strokes == truth_after.strokes - truth_before.strokes
    assert true_skin > 60  # the hand touched the skin often enough to tell
    assert abs(detector.in_skin_strokes - true_skin) <= 0.05 * true_skin
    assert detector.accel_gain_ma_per_hz_s == settings.accel_gain_ma_per_hz_s


def test_a_needle_touching_skin_fails_by_name_and_the_failure_is_recorded(
    sim_url: str, journal_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = load_tool("calibrate_contact")
    argv = [
        "--port", sim_url, "--journal", str(journal_file), "--report-dir", str(tmp_path),
        "--step", "40", "--measure", "0.3", "--sim-hand", "auto",
    ]  # fmt: skip
    assert tool.main(argv) == 1
    out = capsys.readouterr().out
    assert "LOADED" in out and "RESULT: FAIL" in out and "likely cause: needle loaded" in out
    assert "run the calibration with the pen held free in the air" in out
    assert f"history: {journal_file}" in out
    with Journal.open(journal_file, writer=False) as journal:
        (record,) = calibrations(journal)
        assert contact_settings(journal, record.pen_serial, dt.date.today()) is None
    assert record.kind == "contact" and not record.passed and record.written is None
    assert record.diagnoses[0].startswith("needle loaded: the needle was loaded at ")


def test_the_speed_tool_records_the_contact_baseline_after_its_correction(
    sim_url: str, journal_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = load_tool("calibrate_speed")
    argv = [
        "--port", sim_url, "--json", "--journal", str(journal_file),
        "--report-dir", str(tmp_path), "--step", "40", "--settle", "0.15",
        "--window", "0.3", "--windows", "2", "--no-verify", "--contact",
    ]  # fmt: skip
    assert tool.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "speed" and report["passed"]
    contact = report["contact"]
    assert contact["kind"] == "contact" and contact["passed"]
    assert [row["speed_hz"] for row in contact["baseline"]] == pytest.approx(
        [60, 100, 140], abs=0.2
    )
    assert Path(contact["report"]).name.startswith(f"{report['pen']['serial']}-contact-")
    with Journal.open(journal_file, writer=False) as journal:
        kinds = sorted(r.kind for r in calibrations(journal) if r.passed)
    assert kinds == ["contact", "speed"]


def test_smpctl_pens_lists_contact_calibrations_with_their_gain(
    calibrated: Calibrated, capsys: pytest.CaptureFixture[str]
) -> None:
    assert smpctl_main(["pens", "--journal", str(calibrated.journal_file)]) == 0
    text = capsys.readouterr().out
    assert "contact: EXPIRED" in text or "contact: valid until" in text
    assert "contact pass" in text and "mA per Hz/s" in text and "[in force" in text
    assert smpctl_main(["pens", "--journal", str(calibrated.journal_file), "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)["pens"]
    assert entry["history"][0]["kind"] == "contact" and entry["history"][0]["in_force"]


# ---------------------------------------------------------------------- on recorded samples


def _loaded(records: tuple[StepRecord, ...], setpoint_hz: float, extra_ma: int) -> list[StepRecord]:
    """The run as if something had rested on the needle through one step."""
    out = []
    for record in records:
        if record.setpoint_hz == setpoint_hz:
            record = replace(
                record,
                samples=tuple(
                    s._replace(current_ma=s.current_ma + extra_ma) for s in record.samples
                ),
            )
        out.append(record)
    return out


@pytest.mark.parametrize("touched_hz", [100.0, 140.0])
def test_a_step_with_the_needle_resting_on_something_is_named(
    calibrated: Calibrated, touched_hz: float
) -> None:
    analysis = analyse_contact(_loaded(calibrated.result.records, touched_hz, 120))
    assert not analysis.passed
    assert [s.setpoint_hz for s in analysis.steps if s.loaded] == [touched_hz]
    (diagnosis,) = analysis.diagnoses
    assert diagnosis.cause is Cause.LOADED
    assert diagnosis.explanation.startswith(
        f"the needle was loaded at {touched_hz:g} Hz: run the calibration with the pen held "
        "free in the air"
    )
    assert analysis.settings() is None and analysis.written() is None


def test_the_recorded_run_analyses_again_to_the_same_result(calibrated: Calibrated) -> None:
    again = analyse_contact(calibrated.result.records)
    assert again.residual_rows() == calibrated.result.analysis.residual_rows()
    assert again.fit == calibrated.result.analysis.fit


# ---------------------------------------------------------------------- on synthetic samples


def synthetic_run(
    *,
    gain: float = 1.1,
    rate_hz: int = 500,
    setpoints: tuple[float, ...] = (60.0, 80.0, 100.0, 120.0, 140.0),
    reached: dict[float, float] | None = None,
    slew_hz_s: float = 400.0,
    seed: int = 1,
) -> list[StepRecord]:
    """A pen with i0 = 180 mA + 0.85 mA/Hz, ramping at ``slew_hz_s`` between steps, with
    6 mA of current noise; ``reached`` caps a step's speed (a saturated motor)."""
    rng = random.Random(seed)
    dt_s = 1 / rate_hz
    t = 0.0
    speed = setpoints[0]
    strokes = 0.0
    records = []
    for sp in setpoints:
        target = (reached or {}).get(sp, sp)
        samples: list[Telemetry] = []
        held = 0.0
        while held < 0.6:
            accel = 0.0
            if speed < target:
                accel = slew_hz_s
                speed = min(target, speed + slew_hz_s * dt_s)
            in_ramp = speed < sp and speed < target
            current = 180 + 0.85 * speed + gain * accel + rng.gauss(0, 6)
            strokes += speed * dt_s
            status = ON | (RAMP if in_ramp else 0)
            sample = Telemetry(
                round(t * 1e6), len(samples), round(speed * 100), round(sp * 100),
                round(current), 11_800, 2500, int(strokes), 800, 90, status, 0,
            )  # fmt: skip
            samples.append(sample)
            t += dt_s
            if not in_ramp:
                held += dt_s
        records.append(StepRecord(sp, tuple(samples)))
    return records


def test_synthetic_pen_gives_back_its_baseline_and_gain() -> None:
    analysis = analyse_contact(synthetic_run())
    assert analysis.passed, [str(d) for d in analysis.diagnoses]
    for step in analysis.steps:
        assert step.i0_ma == pytest.approx(180 + 0.85 * step.speed_hz, abs=2)
    assert analysis.fit is not None
    assert analysis.fit.gain_ma_per_hz_s == pytest.approx(1.1, rel=0.05)


def test_a_gain_no_motor_can_have_is_refused() -> None:
    analysis = analyse_contact(synthetic_run(gain=8.0))
    assert not analysis.passed
    (diagnosis,) = analysis.diagnoses
    assert diagnosis.cause is Cause.FIT and "outside the 0.2–5" in diagnosis.explanation


def test_too_few_ramp_samples_to_fit_says_what_to_change() -> None:
    analysis = analyse_contact(synthetic_run(rate_hz=50))
    (diagnosis,) = analysis.diagnoses
    assert diagnosis.cause is Cause.FIT and "--telemetry-hz" in diagnosis.explanation


def test_a_step_that_never_reaches_its_setpoint_is_blamed_on_the_supply() -> None:
    analysis = analyse_contact(synthetic_run(reached={140.0: 128.0}))
    assert [s.setpoint_hz for s in analysis.steps if not s.settled] == [140.0]
    assert [d.cause for d in analysis.diagnoses] == [Cause.SUPPLY]
    assert "only 128.0 Hz at the 140 Hz step" in analysis.diagnoses[0].explanation


def test_the_steady_stretch_starts_after_the_ramp_and_the_settle() -> None:
    record = synthetic_run()[1]
    ramp_end = max(k for k, s in enumerate(record.samples) if s.status & RAMP)
    steady = steady_part(record, 0.1)
    assert steady[0].t_us - record.samples[ramp_end + 1].t_us >= 100_000
    assert all(not s.status & RAMP for s in steady)


def test_a_baseline_raised_at_every_speed_is_noted_against_the_pens_previous_one() -> None:
    previous = analyse_contact(synthetic_run(seed=2)).baseline_ma
    steadily_pressed = [
        replace(r, samples=tuple(s._replace(current_ma=s.current_ma + 130) for s in r.samples))
        for r in synthetic_run()
    ]
    analysis = analyse_contact(steadily_pressed)
    assert analysis.passed  # the steps agree with each other: only the history can tell
    note = compare_with_previous(analysis.steps, previous, ContactLimits())
    assert note is not None and note.startswith("the free-running current is 130 mA above")
    unchanged = analyse_contact(synthetic_run()).steps
    assert compare_with_previous(unchanged, previous, ContactLimits()) is None
