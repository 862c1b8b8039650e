"""The calibration math on synthetic and recorded-style data: fit, true rate, residuals,
pass/fail, and the diagnosis of each kind of failure (no pen needed)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from smpctl.calibration import (
    BurnInPlan,
    Cause,
    Correction,
    DepthPoint,
    Interruption,
    Segment,
    SpeedStep,
    SpeedSweep,
    Window,
    analyse_depth,
    analyse_speed,
    assess,
    fit_line,
    parse_readings,
    read_readings,
    summarize,
)
from smpctl.calibration.outcome import stopped_run_diagnosis
from smpctl.errors import ReadingsFileError
from smpctl.protocol import Fault, Status, Telemetry

SENSOR_GAIN = 1.015
"""The simulated pen's speed sensor reads 1-2 % high; this is a typical one."""
SWEEP = SpeedSweep(start_hz=60, stop_hz=140, step_hz=20)
DEFAULT = Correction()


def step(
    setpoint: float,
    *,
    reported: float | None = None,
    sensor_gain: float = SENSOR_GAIN,
    scatter: float = 0.05,
    temp: float = 25.0,
    volts: float = 12.2,
    settled: bool = True,
    repeat: bool = False,
    faults: int = 0,
) -> SpeedStep:
    """A step as the pen's speed loop makes it: the reported (sensor) speed sits on the
    setpoint unless the motor cannot get there; the true rate is the sensor's over its gain."""
    shown = setpoint if reported is None else reported
    return SpeedStep(
        setpoint_hz=setpoint,
        true_hz=shown / sensor_gain,
        reported_hz=shown,
        raw_hz=shown,
        scatter_pct=scatter,
        voltage_v=volts,
        current_a=0.3,
        temp_c=temp,
        faults=faults,
        settled=settled,
        repeat=repeat,
    )


def sweep_steps(**kwargs: object) -> list[SpeedStep]:
    return [step(sp, **kwargs) for sp in (60, 80, 100, 120, 140)] + [  # type: ignore[arg-type]
        step(60, repeat=True, **kwargs)  # type: ignore[arg-type]
    ]


# ------------------------------------------------------------------ fit and true rate


def test_fit_line_recovers_gain_and_offset_exactly() -> None:
    raw = [60.0, 80.0, 100.0, 120.0]
    fit = fit_line(raw, [0.98 * x + 0.4 for x in raw])
    assert fit.gain == pytest.approx(0.98) and fit.offset == pytest.approx(0.4)
    assert fit.rms == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="two"):
        fit_line([1.0], [1.0])
    with pytest.raises(ValueError, match="distinct"):
        fit_line([1.0, 1.0], [1.0, 2.0])


def test_the_true_rate_comes_from_the_stroke_counter_across_u32_wraps() -> None:
    # 100 strokes/s for 1 s at 500 Hz, both t_us and the stroke counter wrapping, while the
    # sensor reports 101.5 Hz: the window's true rate must be the counter's, not the report.
    t0, s0 = 0xFFFF_FF00 - 400_000, 0xFFFF_FFF0
    samples = [
        Telemetry(
            (t0 + i * 2000) & 0xFFFF_FFFF,
            i,
            10150,
            10000,
            300,
            12000,
            2500,
            (s0 + int(i * 2000 * 100 / 1e6)) & 0xFFFF_FFFF,
            1000,
            255,
            int(Status.MOTOR_ON),
            0,
        )
        for i in range(501)
    ]
    window = summarize(samples)
    assert window.duration_s == pytest.approx(1.0)
    assert window.true_hz == pytest.approx(100.0, rel=2e-3)
    assert window.reported_hz == pytest.approx(101.5)


# ------------------------------------------------------------------ speed analysis


def test_a_healthy_sweep_passes_and_corrects_the_sensor_scale() -> None:
    analysis = analyse_speed(sweep_steps(), DEFAULT, SWEEP)
    assert analysis.passed and not analysis.diagnoses
    assert analysis.correction is not None
    assert analysis.correction.gain_ppm == pytest.approx(1e6 / SENSOR_GAIN, abs=2)
    assert abs(analysis.correction.offset) <= 1
    assert all(abs(r.residual_pct) < 0.01 for r in analysis.results)


def test_raw_speed_is_taken_behind_the_calibration_in_force() -> None:
    # the same pen, already calibrated once (gain 0.99): the new fit still maps the raw
    # sensor speed to the truth, not the already-corrected one
    in_force = Correction(990_000, 0)
    steps = [
        SpeedStep(
            setpoint_hz=sp,
            true_hz=sp / 0.99 / SENSOR_GAIN,
            reported_hz=sp,
            raw_hz=in_force.raw(sp, 0.01),
            scatter_pct=0.05,
            voltage_v=12.2,
            current_a=0.3,
            temp_c=25.0,
            faults=0,
            settled=True,
        )
        for sp in (60, 100, 140)
    ]
    analysis = analyse_speed(steps, in_force, SWEEP)
    assert analysis.passed and analysis.correction is not None
    assert analysis.correction.gain_ppm == pytest.approx(1e6 / SENSOR_GAIN, abs=2)


def test_saturation_at_the_top_of_the_sweep_is_blamed_on_a_low_supply() -> None:
    steps = [step(sp, reported=min(sp, 91.7), volts=6.92) for sp in (60, 80, 100, 120, 140)] + [
        step(60, repeat=True, volts=6.95)
    ]
    analysis = analyse_speed(steps, DEFAULT, SWEEP)
    assert not analysis.passed
    (d,) = analysis.diagnoses
    assert d.cause is Cause.SUPPLY and "supply voltage too low" in str(d)
    assert "from the 100 Hz step" in d.explanation and "6.92 V" in d.explanation
    # back-EMF scales with speed: about 6.92 * 140 / 90.3 V are needed for the top step
    assert "at least 10.7 V" in d.explanation
    assert [r.saturated for r in analysis.results] == [False, False, True, True, True, False]


def test_falling_short_only_mid_range_is_mechanical_drag() -> None:
    steps = [step(sp, reported=sp - (5 if sp == 100 else 0)) for sp in (60, 80, 100, 120, 140)]
    analysis = analyse_speed(steps, DEFAULT, SWEEP)
    assert [d.cause for d in analysis.diagnoses] == [Cause.DRAG]


def test_scatter_between_windows_is_blamed_on_encoder_or_cam_wear() -> None:
    steps = sweep_steps()
    steps[3] = step(120, scatter=1.4)
    analysis = analyse_speed(steps, DEFAULT, SWEEP)
    assert not analysis.passed
    (d,) = analysis.diagnoses
    assert d.cause is Cause.WEAR and "1.40 %" in d.explanation and "120 Hz" in d.explanation


def test_a_correction_that_moved_by_the_return_step_is_blamed_on_temperature() -> None:
    steps = [step(sp, temp=25 + i * 2) for i, sp in enumerate((60, 80, 100, 120, 140))]
    steps.append(step(60, repeat=True, temp=36, sensor_gain=SENSOR_GAIN * 1.015))
    analysis = analyse_speed(steps, DEFAULT, SWEEP)
    assert not analysis.passed
    assert Cause.TEMPERATURE in [d.cause for d in analysis.diagnoses]
    text = " ".join(str(d) for d in analysis.diagnoses)
    assert "25.0 to 36.0 °C" in text and "drifted by" in text


def test_an_error_that_curves_with_speed_fails_as_wear_not_fitted_away() -> None:
    curved = [
        step(sp, sensor_gain=SENSOR_GAIN + 0.004 * (sp - 100) ** 2 / 100)
        for sp in (60, 80, 100, 120, 140)
    ]
    analysis = analyse_speed(curved, DEFAULT, SWEEP)
    assert not analysis.passed
    (d,) = analysis.diagnoses
    assert d.cause is Cause.WEAR and "not a scale and an offset" in d.explanation


def test_a_correction_beyond_what_the_pen_stores_fails() -> None:
    analysis = analyse_speed(sweep_steps(sensor_gain=1.3), DEFAULT, SWEEP)
    assert not analysis.passed
    assert [d.cause for d in analysis.diagnoses] == [Cause.OUT_OF_RANGE]


def test_a_stall_part_way_names_the_supply_and_fails() -> None:
    steps = [step(60, volts=4.9), step(80, reported=66.0, volts=4.8)]
    stop = Interruption(100.0, "the pen stopped the motor: fault STALL", int(Fault.STALL), 4.8)
    analysis = analyse_speed(steps, DEFAULT, SWEEP, stop)
    assert not analysis.passed
    assert analysis.diagnoses[0].cause is Cause.SUPPLY
    assert "stalled at the 100 Hz step on a 4.80 V supply" in analysis.diagnoses[0].explanation


def test_the_sweep_stays_inside_the_pens_limit_and_needs_two_steps() -> None:
    assert SpeedSweep(start_hz=60, stop_hz=140, step_hz=20).setpoints(130) == [60, 80, 100, 120]
    with pytest.raises(Exception, match="fewer than two steps"):
        SpeedSweep(start_hz=120, stop_hz=140, step_hz=20).setpoints(110)


# ------------------------------------------------------------------ depth analysis


def depth_points(readings: dict[float, float]) -> list[DepthPoint]:
    return [DepthPoint(p, p, p, r) for p, r in readings.items()]


def test_gauge_readings_on_a_line_pass_with_the_offset_they_show() -> None:
    analysis = analyse_depth(
        depth_points({0.6: 0.63, 0.8: 0.83, 1.0: 1.03, 1.2: 1.23}), DEFAULT, 0.02
    )
    assert analysis.passed
    assert analysis.correction.offset == 30 and analysis.correction.gain_ppm == 1_000_000


def test_one_misread_mark_is_named_and_fails() -> None:
    readings = {0.6: 0.61, 0.8: 0.81, 1.0: 1.09, 1.2: 1.21, 1.4: 1.41}
    analysis = analyse_depth(depth_points(readings), DEFAULT, 0.02)
    assert not analysis.passed
    (d,) = analysis.diagnoses
    assert d.cause is Cause.READINGS and "1 mm" in d.explanation


def test_readings_files_in_csv_and_json(tmp_path: Path) -> None:
    csv_file = tmp_path / "r.csv"
    csv_file.write_text("# gauge 2031\nposition_mm,reading_mm\n0.8,0.79\n1.0, 0.99\n")
    assert read_readings(csv_file) == {0.8: 0.79, 1.0: 0.99}
    assert parse_readings(json.dumps({"0.8": 0.79, "1.2": 1.18})) == {0.8: 0.79, 1.2: 1.18}
    listed = [{"position_mm": 0.6, "reading_mm": 0.6}, {"position_mm": 1.4, "reading_mm": 1.41}]
    assert parse_readings(json.dumps(listed)) == {0.6: 0.6, 1.4: 1.41}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0.8,abc\n1.0,1.0\n", "not a number"),
        ("0.8,0.8\n0.8,0.81\n", "appears twice"),
        ("0.8,0.8\n", "two positions"),
        ("{nope", "not valid JSON"),
    ],
)
def test_a_bad_readings_file_says_how_to_write_one(text: str, why: str) -> None:
    with pytest.raises(ReadingsFileError, match=why) as info:
        parse_readings(text, "r.csv")
    assert "position_mm,reading_mm" in str(info.value)


# ------------------------------------------------------------------ burn-in assessment


def window(speed: float, current: float, temp: float, sd: float = 0.03) -> Window:
    return Window(
        samples=200,
        duration_s=1.0,
        setpoint_hz=speed,
        true_hz=speed,
        reported_hz=speed,
        reported_sd_hz=sd,
        voltage_v=12.2,
        min_voltage_v=12.1,
        current_a=current,
        max_current_a=current * 1.1,
        temp_c=temp,
        depth_mm=1.0,
        faults=0,
    )


def test_burn_in_flags_a_creeping_current_and_a_hot_handpiece() -> None:
    plan = BurnInPlan(speeds_hz=(100.0, 110.0), minutes=30)
    segments = [
        Segment(0, 100.0, (window(100, 0.30, 26),)),
        Segment(0, 110.0, (window(110, 0.31, 30),)),
        Segment(1, 100.0, (window(100, 0.42, 36),)),
        Segment(1, 110.0, (window(110, 0.33, 39.5),)),
    ]
    found, figures = assess(segments, plan, max_current_a=3.0, max_temp_c=41.0, interruption=None)
    causes = [d.cause for d in found]
    assert Cause.CURRENT in causes and Cause.TEMPERATURE in causes
    assert figures["current_drift_pct"]["100"] == pytest.approx(40.0)
    assert figures["temp_rise_c"] == pytest.approx(13.5)


def test_a_steady_burn_in_passes_and_an_unsteady_one_fails() -> None:
    plan = BurnInPlan(speeds_hz=(100.0,), minutes=1)
    steady = [Segment(c, 100.0, (window(100, 0.3, 25.5),)) for c in range(3)]
    found, _ = assess(steady, plan, max_current_a=3.0, max_temp_c=41.0, interruption=None)
    assert found == []
    shaky = [Segment(0, 100.0, (window(100, 0.3, 25.5, sd=2.5),))]
    found, _ = assess(shaky, plan, max_current_a=3.0, max_temp_c=41.0, interruption=None)
    assert [d.cause for d in found] == [Cause.WEAR]
    assert math.isclose(shaky[0].spread_pct, 2.5)


def test_a_run_stopped_on_over_temperature_says_to_let_the_pen_cool() -> None:
    """Both the speed and the contact calibration word a stopped run through this one
    diagnosis: over-temperature is its own cause, anything else an interrupted run."""
    hot = stopped_run_diagnosis(120, int(Fault.OVERTEMP | Fault.BATTERY_LOW), "over-temperature")
    assert hot.cause is Cause.TEMPERATURE
    assert "120 Hz" in hot.explanation and "let it cool" in hot.explanation
    other = stopped_run_diagnosis(80, 0, "the pedal was released")
    assert other.cause is Cause.INTERRUPTED
    assert "80 Hz" in other.explanation and "the pedal was released" in other.explanation
    assert "Calibrate again" in other.explanation
