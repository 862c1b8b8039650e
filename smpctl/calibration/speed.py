"""Speed calibration: sweep the setpoint, measure the true stroke rate, fit, check, store.

The model is a straight line, ``true = gain * raw + offset``, and the pen applies it to its
raw sensor speed (docs/protocol.md, section 13). Why a line: the speed sensor's error is a
scale factor (encoder edges per revolution and the timer that measures between them: a
worn or slipping disc, a clock a little off) plus a fixed part (a constant lag of the
speed filter, an edge the comparator catches late every revolution), and those two are
exactly a gain and an offset. Anything else (a curve, a scatter) is not an encoder that
needs correcting but a pen that needs servicing, so it must show up in the residuals
rather than be fitted away: the check after the fit is that every step's residual stays
inside the tolerance, and the diagnosis below says what the shape of a failure means.

The sweep ends by returning to its first setpoint: the same speed measured at the start
and the end must need the same correction, or something (most often temperature) drifted
while it ran.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from smpctl.client import Pen
from smpctl.errors import CalibrationError, RunInterruptedError
from smpctl.protocol import ConfigKey, Fault

from . import pen_table
from .bench import running_in_air
from .fit import LinearFit, correlation, fit_line, mean, sample_sd
from .measure import TelemetryReader, Window, fault_names, summarize
from .outcome import Cause, Diagnosis, Outcome, RunKind, stopped_run_diagnosis
from .pen_table import Correction

SPEED_UNIT = 0.01
"""The speed offset is stored in 0.01 Hz."""

Say = Callable[[str], None]


@dataclass(frozen=True)
class SpeedSweep:
    """How the sweep runs. Defaults suit a technician's bench; tests shorten the windows."""

    start_hz: float = 60.0
    stop_hz: float = 140.0
    step_hz: float = 10.0
    tolerance_pct: float = 2.0
    settle_window_s: float = 0.4
    settle_timeout_s: float = 6.0
    settle_pct: float = 0.3
    """Settled: two consecutive settle windows' mean speeds within this of the setpoint."""
    window_s: float = 1.0
    windows: int = 3
    telemetry_hz: int = 500
    scatter_limit_pct: float | None = None
    """Largest spread of the correction between windows; default a quarter of the
    tolerance (a healthy encoder and cam repeat far better than that)."""
    drift_limit_pct: float | None = None
    """Largest change of the correction between the first step and the return to it;
    default half the tolerance."""
    verify: bool = True

    @property
    def scatter_limit(self) -> float:
        return (
            self.scatter_limit_pct
            if self.scatter_limit_pct is not None
            else (self.tolerance_pct / 4)
        )

    @property
    def drift_limit(self) -> float:
        return (
            self.drift_limit_pct if self.drift_limit_pct is not None else (self.tolerance_pct / 2)
        )

    def setpoints(self, max_hz: float) -> list[float]:
        """The sweep's setpoints, upward, within ``max_hz`` (the pen's limit and cap)."""
        return sweep_setpoints(self.start_hz, self.stop_hz, self.step_hz, max_hz)


def sweep_setpoints(start_hz: float, stop_hz: float, step_hz: float, max_hz: float) -> list[float]:
    """Setpoints from ``start_hz`` up to ``stop_hz`` by ``step_hz``, within ``max_hz`` (the
    pen's limit and cap); at least two, as every sweep fits a line or a slope."""
    if step_hz <= 0:
        raise CalibrationError("the sweep's step must be positive")
    stop = min(stop_hz, max_hz)
    points: list[float] = []
    value = start_hz
    while value <= stop + 1e-9:
        points.append(round(value, 2))
        value += step_hz
    if len(points) < 2:
        raise CalibrationError(
            f"the sweep {start_hz:g}–{stop_hz:g} Hz gives fewer than two steps "
            f"within this pen's limit of {max_hz:g} Hz: choose --start/--stop/--step"
        )
    return points


@dataclass(frozen=True)
class SpeedStep:
    """One setpoint of the sweep, measured."""

    setpoint_hz: float
    true_hz: float
    reported_hz: float
    raw_hz: float
    """The sensor's speed before the pen's calibration in force."""
    scatter_pct: float
    """Relative spread (sample s.d.) of true/raw between the windows."""
    voltage_v: float
    current_a: float
    temp_c: float
    faults: int
    settled: bool
    repeat: bool = False
    """The return to the first setpoint at the end of the sweep."""
    windows: tuple[Window, ...] = ()

    @property
    def ratio(self) -> float:
        """The correction this step alone asks for (true over raw)."""
        return self.true_hz / self.raw_hz if self.raw_hz else math.nan

    @classmethod
    def measured(
        cls,
        setpoint_hz: float,
        windows: Sequence[Window],
        in_force: Correction,
        *,
        settled: bool,
        repeat: bool = False,
    ) -> SpeedStep:
        true = mean([w.true_hz for w in windows])
        reported = mean([w.reported_hz for w in windows])
        ratios = [
            w.true_hz / in_force.raw(w.reported_hz, SPEED_UNIT)
            for w in windows
            if w.reported_hz > 0
        ]
        ratio_mean = mean(ratios)
        faults = 0
        for w in windows:
            faults |= w.faults
        return cls(
            setpoint_hz=setpoint_hz,
            true_hz=true,
            reported_hz=reported,
            raw_hz=in_force.raw(reported, SPEED_UNIT),
            scatter_pct=sample_sd(ratios) / ratio_mean * 100 if ratio_mean else 0.0,
            voltage_v=min(w.min_voltage_v for w in windows),
            current_a=mean([w.current_a for w in windows]),
            temp_c=mean([w.temp_c for w in windows]),
            faults=faults,
            settled=settled,
            repeat=repeat,
            windows=tuple(windows),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "setpoint_hz": self.setpoint_hz,
            "true_hz": round(self.true_hz, 4),
            "reported_hz": round(self.reported_hz, 4),
            "raw_hz": round(self.raw_hz, 4),
            "scatter_pct": round(self.scatter_pct, 4),
            "voltage_v": round(self.voltage_v, 3),
            "current_a": round(self.current_a, 4),
            "temp_c": round(self.temp_c, 2),
            "faults": fault_names(self.faults),
            "settled": self.settled,
            "repeat": self.repeat,
            "windows": [w.as_dict() for w in self.windows],
        }


@dataclass(frozen=True)
class Interruption:
    """The motor stopped mid-sweep."""

    setpoint_hz: float
    reason: str
    faults: int
    voltage_v: float | None


@dataclass(frozen=True)
class StepResult:
    step: SpeedStep
    corrected_hz: float
    """What the pen would report with the new correction."""
    residual_pct: float
    """Corrected minus true, in % of true."""
    saturated: bool
    """The pen's own speed loop could not reach the setpoint."""
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "setpoint_hz": self.step.setpoint_hz,
            "true_hz": round(self.step.true_hz, 4),
            "corrected_hz": round(self.corrected_hz, 4),
            "residual_pct": round(self.residual_pct, 4),
            "saturated": self.saturated,
            "settled": self.step.settled,
            "repeat": self.step.repeat,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class SpeedAnalysis:
    results: tuple[StepResult, ...]
    fit: LinearFit | None
    correction: Correction | None
    in_force: Correction
    tolerance_pct: float
    diagnoses: tuple[Diagnosis, ...]
    interruption: Interruption | None = None

    @property
    def passed(self) -> bool:
        return (
            self.correction is not None
            and not self.diagnoses
            and self.interruption is None
            and all(r.passed for r in self.results)
        )


def analyse_speed(
    steps: Sequence[SpeedStep],
    in_force: Correction,
    sweep: SpeedSweep,
    interruption: Interruption | None = None,
) -> SpeedAnalysis:
    """Fit, residuals, pass/fail and diagnosis of a measured sweep (pure: no pen)."""
    tol = sweep.tolerance_pct
    usable = [s for s in steps if s.raw_hz > 0 and s.true_hz > 0]
    fit: LinearFit | None = None
    correction: Correction | None = None
    if len({round(s.setpoint_hz, 3) for s in usable}) >= 2:
        fit = fit_line([s.raw_hz for s in usable], [s.true_hz for s in usable])
        correction = Correction(round(fit.gain * pen_table.PPM), round(fit.offset / SPEED_UNIT))
    results: list[StepResult] = []
    for s in steps:
        corrected = correction.apply(s.raw_hz, SPEED_UNIT) if correction else s.reported_hz
        residual = (corrected - s.true_hz) / s.true_hz * 100 if s.true_hz > 0 else math.inf
        saturated = s.reported_hz < s.setpoint_hz * (1 - tol / 100)
        passed = s.settled and not saturated and abs(residual) <= tol
        results.append(StepResult(s, corrected, residual, saturated, passed))
    diagnoses = diagnose_speed(results, sweep, interruption, correction)
    return SpeedAnalysis(
        results=tuple(results),
        fit=fit,
        correction=correction,
        in_force=in_force,
        tolerance_pct=tol,
        diagnoses=tuple(diagnoses),
        interruption=interruption,
    )


def supply_advice(volts: float, wanted_hz: float, reached_hz: float) -> str:
    # Back-EMF grows with speed, so at full duty the speed reached scales with the supply:
    # the voltage needed for the top step is about V * wanted / reached.
    needed = volts * wanted_hz / reached_hz if reached_hz > 0 else math.nan
    return (
        f"Charge the battery or use a supply of at least {needed:.1f} V, then calibrate again."
        if math.isfinite(needed)
        else "Charge the battery or use a stronger supply, then calibrate again."
    )


def diagnose_speed(
    results: Sequence[StepResult],
    sweep: SpeedSweep,
    interruption: Interruption | None,
    correction: Correction | None,
) -> list[Diagnosis]:
    """The likely causes of a failure, read from the data; empty when nothing is wrong."""
    found: list[Diagnosis] = []
    tol = sweep.tolerance_pct
    sweep_steps = [r for r in results if not r.step.repeat]

    if interruption is not None:
        on_supply = f" on a {interruption.voltage_v:.2f} V supply" if interruption.voltage_v else ""
        if interruption.faults & (Fault.STALL | Fault.UNDERSPEED):
            reached = [r.step.true_hz for r in sweep_steps]
            found.append(
                Diagnosis(
                    Cause.SUPPLY,
                    f"the motor stalled at the {interruption.setpoint_hz:g} Hz step{on_supply} "
                    "(the pen stopped it: speed below half the setpoint): the supply voltage "
                    "is too low for that speed, unless the cam is jammed. "
                    + supply_advice(
                        interruption.voltage_v or 0.0,
                        interruption.setpoint_hz,
                        max(reached) if reached else 0.0,
                    ),
                )
            )
        else:
            found.append(
                stopped_run_diagnosis(
                    interruption.setpoint_hz, interruption.faults, interruption.reason
                )
            )

    saturated = [r for r in sweep_steps if r.saturated]
    if saturated and not any(d.cause is Cause.SUPPLY for d in found):
        first = min(r.step.setpoint_hz for r in saturated)
        top = all(r.saturated for r in sweep_steps if r.step.setpoint_hz >= first)
        if top:
            worst = max(saturated, key=lambda r: r.step.setpoint_hz)
            volts = min(r.step.voltage_v for r in saturated)
            flagged = (
                " (the pen flagged SUPPLY_LOW)"
                if any(r.step.faults & Fault.SUPPLY_LOW for r in saturated)
                else ""
            )
            found.append(
                Diagnosis(
                    Cause.SUPPLY,
                    f"the speed saturates: from the {first:g} Hz step up the motor falls short "
                    f"of its setpoint and reaches only {worst.step.true_hz:.1f} Hz at the "
                    f"{worst.step.setpoint_hz:g} Hz setpoint, on a supply of {volts:.2f} V "
                    f"under load{flagged}. The supply voltage is too low for the top of the "
                    "range. " + supply_advice(volts, worst.step.setpoint_hz, worst.step.true_hz),
                )
            )
        else:
            names = ", ".join(f"{r.step.setpoint_hz:g}" for r in saturated)
            found.append(
                Diagnosis(
                    Cause.DRAG,
                    f"the motor fell short of its setpoint at {names} Hz but reached higher "
                    "steps: something drags (cam, bearing, cartridge mount). Inspect and clean "
                    "the mechanism, then calibrate again.",
                )
            )

    noisy = [r for r in results if r.step.scatter_pct > sweep.scatter_limit]
    unsettled = [r for r in results if not r.step.settled]
    if noisy or unsettled:
        parts = []
        if noisy:
            worst_noise = max(noisy, key=lambda r: r.step.scatter_pct)
            parts.append(
                f"the stroke rate scattered by up to {worst_noise.step.scatter_pct:.2f} % "
                f"between measurement windows (at {worst_noise.step.setpoint_hz:g} Hz; limit "
                f"{sweep.scatter_limit:.2f} %)"
            )
        if unsettled:
            names = ", ".join(f"{r.step.setpoint_hz:g}" for r in unsettled)
            parts.append(f"the speed never settled at {names} Hz")
        found.append(
            Diagnosis(
                Cause.WEAR,
                "the measurement is noisy: "
                + "; ".join(parts)
                + ". The encoder or the cam is worn: clean or replace the encoder disc, "
                "inspect the cam, then calibrate again.",
            )
        )

    repeats = [r for r in results if r.step.repeat]
    drift_found = False
    for again in repeats:
        firsts = [r for r in sweep_steps if r.step.setpoint_hz == again.step.setpoint_hz]
        if not firsts or not math.isfinite(firsts[0].step.ratio):
            continue
        first_step = firsts[0].step
        change = (again.step.ratio / first_step.ratio - 1) * 100
        if abs(change) > sweep.drift_limit:
            drift_found = True
            found.append(
                Diagnosis(
                    Cause.TEMPERATURE,
                    f"the correction drifted by {change:+.2f} % between the first and the "
                    f"last measurement at {first_step.setpoint_hz:g} Hz (limit "
                    f"{sweep.drift_limit:.2f} %) while the handpiece went from "
                    f"{first_step.temp_c:.1f} to {again.step.temp_c:.1f} °C. Let the pen run "
                    "about 10 minutes to reach a steady temperature, then calibrate again.",
                )
            )
    temps = [r.step.temp_c for r in results]
    residuals = [r.residual_pct for r in results if math.isfinite(r.residual_pct)]
    if (
        not drift_found
        and len(residuals) == len(temps) >= 3
        and max(temps) - min(temps) >= 2.0
        and max(abs(x) for x in residuals) > tol / 2
        and abs(correlation(temps, residuals)) >= 0.8
    ):
        found.append(
            Diagnosis(
                Cause.TEMPERATURE,
                f"the residuals follow the handpiece temperature ({min(temps):.1f}–"
                f"{max(temps):.1f} °C during the sweep): temperature drift. Let the pen run "
                "about 10 minutes to reach a steady temperature, then calibrate again.",
            )
        )

    off = [r for r in results if math.isfinite(r.residual_pct) and abs(r.residual_pct) > tol]
    if off and not found:
        names = ", ".join(f"{r.step.setpoint_hz:g} Hz {r.residual_pct:+.2f} %" for r in off)
        found.append(
            Diagnosis(
                Cause.WEAR,
                f"after the best straight-line correction the residuals still exceed ±{tol:g} % "
                f"({names}): the sensor's error is not a scale and an offset but changes with "
                "speed, the mark of a worn encoder or cam. Have the pen serviced.",
            )
        )
    if correction is not None:
        problem = correction.problem(pen_table.SPEED_OFFSET_CHZ_RANGE, "× 0.01 Hz")
        if problem is not None:
            found.append(
                Diagnosis(
                    Cause.OUT_OF_RANGE,
                    f"{problem}: the speed sensor is too far off to correct. Have the pen "
                    "serviced.",
                )
            )
    return found


@dataclass(frozen=True)
class VerifyPoint:
    setpoint_hz: float
    reported_hz: float
    true_hz: float
    error_pct: float
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "setpoint_hz": self.setpoint_hz,
            "reported_hz": round(self.reported_hz, 4),
            "true_hz": round(self.true_hz, 4),
            "error_pct": round(self.error_pct, 4),
            "passed": self.passed,
        }


@dataclass(frozen=True)
class SpeedCalibrationResult:
    outcome: Outcome
    sweep: SpeedSweep
    setpoints: tuple[float, ...]
    analysis: SpeedAnalysis
    previous: dict[str, int]
    verification: tuple[VerifyPoint, ...] = ()
    restored: bool = False
    """Written, failed verification, and the previous calibration was put back."""

    @property
    def passed(self) -> bool:
        return self.outcome.passed

    def as_dict(self) -> dict[str, Any]:
        a = self.analysis
        return {
            **self.outcome.report_head(),
            "tolerance_pct": a.tolerance_pct,
            "model": "true = gain * raw + offset (raw: the sensor's speed before calibration)",
            "fit": None
            if a.fit is None
            else {
                "gain": a.fit.gain,
                "offset_hz": a.fit.offset,
                "rms_hz": a.fit.rms,
                "points": a.fit.points,
            },
            "correction": None
            if a.correction is None
            else {"gain_ppm": a.correction.gain_ppm, "offset_chz": a.correction.offset},
            "in_force_before": {
                "gain_ppm": a.in_force.gain_ppm,
                "offset_chz": a.in_force.offset,
            },
            "previous": self.previous,
            "written": self.outcome.written,
            "restored": self.restored,
            "steps": [r.as_dict() for r in a.results],
            "verification": [v.as_dict() for v in self.verification],
            "diagnoses": [d.as_dict() for d in self.outcome.diagnoses],
            "interruption": None
            if a.interruption is None
            else {
                "setpoint_hz": a.interruption.setpoint_hz,
                "reason": a.interruption.reason,
                "faults": fault_names(a.interruption.faults),
            },
            "measurements": [r.step.as_dict() for r in a.results],
            "sweep": {
                "setpoints_hz": list(self.setpoints),
                "settle_window_s": self.sweep.settle_window_s,
                "window_s": self.sweep.window_s,
                "windows": self.sweep.windows,
                "telemetry_hz": self.sweep.telemetry_hz,
            },
            "notes": list(self.outcome.notes),
        }


class SpeedCalibrator:
    """Runs a speed calibration on a connected pen. Writes to the pen only on a pass (and
    puts the previous calibration back if the check after writing fails)."""

    def __init__(
        self,
        pen: Pen,
        sweep: SpeedSweep,
        *,
        today: dt.date,
        valid_days: int = 90,
        reader: TelemetryReader | None = None,
        say: Say = lambda _text: None,
    ) -> None:
        if valid_days < 1:
            raise CalibrationError("a calibration must be valid for at least one day")
        self.pen = pen
        self.sweep = sweep
        self.today = today
        self.valid_days = valid_days
        self.reader = reader or TelemetryReader(pen)
        self.say = say

    # ------------------------------------------------------------------ measuring

    def _measure(self, setpoint: float, in_force: Correction, *, repeat: bool) -> SpeedStep:
        sweep, reader, clock = self.sweep, self.reader, self.reader.clock
        self.pen.set_speed(setpoint)
        started = clock()
        previous: Window | None = None
        settled = False
        while True:
            window = summarize(reader.collect(sweep.settle_window_s))
            if (
                previous is not None
                and abs(window.reported_hz - previous.reported_hz)
                <= setpoint * sweep.settle_pct / 100
            ):
                settled = True
                break
            if clock() - started > sweep.settle_timeout_s:
                break
            previous = window
        windows = [summarize(reader.collect(sweep.window_s)) for _ in range(sweep.windows)]
        step = SpeedStep.measured(setpoint, windows, in_force, settled=settled, repeat=repeat)
        self.say(
            f"  {setpoint:6.1f} Hz{' (again)' if repeat else '        '}  reported "
            f"{step.reported_hz:7.2f} Hz  true {step.true_hz:7.2f} Hz  "
            f"{step.voltage_v:5.2f} V  {step.current_a:4.2f} A  {step.temp_c:4.1f} °C"
            + ("" if settled else "  (not settled)")
        )
        return step

    def _sweep(
        self, setpoints: Sequence[float], in_force: Correction
    ) -> tuple[list[SpeedStep], Interruption | None]:
        plan = [(sp, False) for sp in setpoints] + [(setpoints[0], True)]
        steps: list[SpeedStep] = []
        current = plan[0][0]
        try:
            with running_in_air(
                self.pen,
                self.reader,
                speed_hz=setpoints[0],
                telemetry_hz=self.sweep.telemetry_hz,
                say=self.say,
            ):
                for current, repeat in plan:
                    steps.append(self._measure(current, in_force, repeat=repeat))
        except RunInterruptedError as exc:
            latest = self.pen.latest
            return steps, Interruption(
                current, exc.reason, exc.faults, latest.voltage_v if latest else None
            )
        return steps, None

    def _verify(self, setpoints: Sequence[float], correction: Correction) -> list[VerifyPoint]:
        picks = sorted({setpoints[0], setpoints[len(setpoints) // 2], setpoints[-1]})
        points: list[VerifyPoint] = []
        tol = self.sweep.tolerance_pct
        try:
            with running_in_air(
                self.pen,
                self.reader,
                speed_hz=picks[0],
                telemetry_hz=self.sweep.telemetry_hz,
                say=self.say,
            ):
                for sp in picks:
                    step = self._measure(sp, correction, repeat=False)
                    error = (step.reported_hz - step.true_hz) / step.true_hz * 100
                    points.append(
                        VerifyPoint(sp, step.reported_hz, step.true_hz, error, abs(error) <= tol)
                    )
        except RunInterruptedError as exc:
            self.say(f"verification stopped: {exc.reason}")
            points.append(VerifyPoint(picks[len(points)], 0.0, 0.0, math.inf, False))
        return points

    # ------------------------------------------------------------------ the run

    def run(self) -> SpeedCalibrationResult:
        pen = self.pen
        in_force = pen_table.speed_in_force(pen)
        previous = {k.name: v for k, v in pen_table.read_values(pen, pen_table.SPEED_KEYS).items()}
        cap_hz = pen.read_config(ConfigKey.SPEED_CAP_CHZ) / 100
        setpoints = self.sweep.setpoints(min(pen.identity.limits.max_speed_hz, cap_hz))
        self.say(
            f"Speed sweep {setpoints[0]:g}–{setpoints[-1]:g} Hz in {len(setpoints)} steps, "
            f"then back to {setpoints[0]:g} Hz; tolerance ±{self.sweep.tolerance_pct:g} %."
        )
        steps, interruption = self._sweep(setpoints, in_force)
        analysis = analyse_speed(steps, in_force, self.sweep, interruption)
        expires = self.today + dt.timedelta(days=self.valid_days)
        written: dict[str, int] | None = None
        verification: list[VerifyPoint] = []
        restored = False
        notes: list[str] = []
        diagnoses = list(analysis.diagnoses)
        if analysis.passed and analysis.correction is not None:
            values = pen_table.calibration_values(
                pen_table.SPEED_KEYS, analysis.correction, self.today, expires
            )
            before = pen_table.write_values(pen, values)
            written = {k.name: v for k, v in values.items()}
            self.say(
                f"Wrote gain {analysis.correction.gain_ppm} ppm, offset "
                f"{analysis.correction.offset} × 0.01 Hz, valid until {expires.isoformat()}."
            )
            if self.sweep.verify:
                self.say("Checking the new calibration:")
                verification = self._verify(setpoints, analysis.correction)
                if not all(v.passed for v in verification):
                    pen_table.restore_values(pen, before)
                    restored = True
                    written = None
                    diagnoses.append(
                        Diagnosis(
                            Cause.INTERRUPTED,
                            "the check after writing found the reported speed still off by "
                            + ", ".join(f"{v.error_pct:+.2f} %" for v in verification)
                            + "; the previous calibration was put back. Calibrate again.",
                        )
                    )
        passed = analysis.passed and not restored
        if not passed:
            notes.append("nothing was written to the pen")
        outcome = Outcome(
            kind=RunKind.SPEED,
            identity=pen.identity,
            day=self.today,
            passed=passed,
            written=written,
            expires=expires if passed else None,
            tolerance=f"±{self.sweep.tolerance_pct:g} %",
            residuals=[r.as_dict() for r in analysis.results],
            diagnoses=tuple(diagnoses),
            notes=tuple(notes),
        )
        return SpeedCalibrationResult(
            outcome=outcome,
            sweep=self.sweep,
            setpoints=tuple(setpoints),
            analysis=analysis,
            previous=previous,
            verification=tuple(verification),
            restored=restored,
        )
