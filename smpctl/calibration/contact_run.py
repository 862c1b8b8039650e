"""The contact calibration run on a pen: step the speed with the needle in the air and
record everything the pen sends, ramps included, for ``analyse_contact``.

Nothing is written to the pen: the baseline lives in the pen's calibration history in the
journal (``record_run``), from where ``contact_settings`` gives it to the dashboard. The
table is keyed by the speed the pen reports, so after a speed calibration the baseline is
measured again with the new correction in force (``tools/calibrate_speed.py --contact``
does both in one run).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smpctl.client import Pen
from smpctl.dose import ContactSettings
from smpctl.errors import CalibrationError, RunInterruptedError
from smpctl.protocol import ConfigKey, Fault

from .bench import running_in_air
from .contact import (
    ContactAnalysis,
    ContactLimits,
    StepRecord,
    analyse_contact,
    compare_with_previous,
    measure_step,
    steady_part,
)
from .measure import TelemetryReader, TelemetryTape
from .outcome import Cause, Diagnosis, Outcome, RunKind, stopped_run_diagnosis
from .speed import sweep_setpoints

Say = Callable[[str], None]

CHUNK_S = 0.05
"""While waiting for a step to settle, the tape is read this much at a time."""


@dataclass(frozen=True)
class ContactPlan:
    """How the run steps. Defaults: the speed calibration's steps, about 10 s in all."""

    start_hz: float = 60.0
    stop_hz: float = 140.0
    step_hz: float = 10.0
    measure_s: float = 0.8
    """Steady stretch measured at each step, after the settle."""
    settle_timeout_s: float = 3.0
    """A step whose ramp has not ended by then is measured as it is (and judged unsettled)."""
    telemetry_hz: int = 500
    limits: ContactLimits = field(default_factory=ContactLimits)

    def setpoints(self, max_hz: float) -> list[float]:
        return sweep_setpoints(self.start_hz, self.stop_hz, self.step_hz, max_hz)


@dataclass(frozen=True)
class ContactCalibrationResult:
    outcome: Outcome
    plan: ContactPlan
    setpoints: tuple[float, ...]
    analysis: ContactAnalysis
    records: tuple[StepRecord, ...]
    """Every sample of the run, by step: enough to analyse it again."""
    missed: int = 0
    """Samples the link or the ring lost during the run."""

    @property
    def passed(self) -> bool:
        return self.outcome.passed

    def as_dict(self) -> dict[str, Any]:
        a = self.analysis
        return {
            **self.outcome.report_head(),
            "model": "i_load = i - i0(speed) - c * dω/dt; i0 per speed from the steady steps, "
            "c fitted on the rising ramps between them (mA per Hz/s)",
            "limits": {
                "max_sd_ma": a.limits.max_sd_ma,
                "max_step_ma": a.limits.max_step_ma,
                "settled_pct": a.limits.settled_pct,
                "settle_s": a.limits.settle_s,
            },
            "baseline": a.residual_rows(),
            "fit": None if a.fit is None else a.fit.as_dict(),
            "ramp_samples": a.ramp_samples,
            "written": self.outcome.written,
            "steps": [s.as_dict() for s in a.steps],
            "diagnoses": [d.as_dict() for d in self.outcome.diagnoses],
            "plan": {
                "setpoints_hz": list(self.setpoints),
                "measure_s": self.plan.measure_s,
                "telemetry_hz": self.plan.telemetry_hz,
            },
            "missed_samples": self.missed,
            "notes": list(self.outcome.notes),
        }


def interruption_diagnosis(
    setpoint_hz: float, exc: RunInterruptedError, volts: float | None
) -> Diagnosis:
    on_supply = f" on a {volts:.2f} V supply" if volts else ""
    if exc.faults & (Fault.STALL | Fault.UNDERSPEED):
        return Diagnosis(
            Cause.SUPPLY,
            f"the motor stalled at the {setpoint_hz:g} Hz step{on_supply} (the pen stopped "
            "it): either something held the needle, or the supply is too low for that speed. "
            "Hold the pen free in the air on a charged battery or a stronger supply, then "
            "calibrate again.",
        )
    return stopped_run_diagnosis(setpoint_hz, exc.faults, exc.reason)


class ContactCalibrator:
    """Runs a contact calibration on a connected pen; never writes to the pen."""

    def __init__(
        self,
        pen: Pen,
        plan: ContactPlan,
        *,
        today: dt.date,
        valid_days: int = 90,
        reader: TelemetryReader | None = None,
        say: Say = lambda _text: None,
        sim_skin_load_pct: int = 0,
        previous: ContactSettings | None = None,
    ) -> None:
        if valid_days < 1:
            raise CalibrationError("a calibration must be valid for at least one day")
        self.pen = pen
        self.plan = plan
        self.today = today
        self.valid_days = valid_days
        self.reader = reader or TelemetryReader(pen)
        self.say = say
        self.sim_skin_load_pct = sim_skin_load_pct
        """SIMULATED pen only: the hand's load during the run (see ``running_in_air``)."""
        self.previous = previous
        """The pen's contact calibration in force before this run, to compare with."""

    def _step(self, tape: TelemetryTape, setpoint: float) -> StepRecord:
        plan, clock = self.plan, self.reader.clock
        self.pen.set_speed(setpoint)
        started = clock()
        got = tape.take(CHUNK_S)
        while (
            not steady_part(StepRecord(setpoint, tuple(got)), plan.limits.settle_s)
            and clock() - started <= plan.settle_timeout_s
        ):
            got += tape.take(CHUNK_S)
        got += tape.take(plan.measure_s)
        record = StepRecord(setpoint, tuple(got))
        step = measure_step(record, plan.limits)
        self.say(
            f"  {setpoint:6.1f} Hz  speed {step.speed_hz:7.2f} Hz  current {step.i0_ma:6.1f} mA "
            f"± {step.sd_ma:5.1f}  ({step.samples} samples)"
            + ("" if step.settled else "  (not settled)")
        )
        return record

    def run(self) -> ContactCalibrationResult:
        pen, plan = self.pen, self.plan
        cap_hz = pen.read_config(ConfigKey.SPEED_CAP_CHZ) / 100
        setpoints = plan.setpoints(min(pen.identity.limits.max_speed_hz, cap_hz))
        self.say(
            f"Contact baseline: {setpoints[0]:g}–{setpoints[-1]:g} Hz in {len(setpoints)} "
            "steps, needle free in the air."
        )
        records: list[StepRecord] = []
        interrupted: Diagnosis | None = None
        missed = 0
        current = setpoints[0]
        try:
            with running_in_air(
                pen,
                self.reader,
                speed_hz=setpoints[0],
                telemetry_hz=plan.telemetry_hz,
                say=self.say,
                sim_skin_load_pct=self.sim_skin_load_pct,
            ):
                tape = TelemetryTape(self.reader)
                for current in setpoints:
                    records.append(self._step(tape, current))
                missed = tape.missed
        except RunInterruptedError as exc:
            latest = pen.latest
            interrupted = interruption_diagnosis(current, exc, latest.voltage_v if latest else None)
        analysis = analyse_contact(records, plan.limits, interrupted=interrupted)
        passed = analysis.passed and interrupted is None
        expires = self.today + dt.timedelta(days=self.valid_days)
        notes = ["nothing goes to the pen: the baseline is kept in the pen's history"]
        if not passed:
            notes.append(
                "nothing was put in force: the dashboard keeps the last passing contact "
                "calibration, or tracks the baseline online"
            )
        if missed:
            notes.append(f"{missed} telemetry samples were lost during the run")
        if self.previous is not None and self.previous.baseline_ma:
            change = compare_with_previous(analysis.steps, self.previous.baseline_ma, plan.limits)
            if change is not None:
                notes.append(change)
        outcome = Outcome(
            kind=RunKind.CONTACT,
            identity=pen.identity,
            day=self.today,
            passed=passed,
            written=analysis.written() if passed else None,
            expires=expires if passed else None,
            tolerance=plan.limits.describe(),
            residuals=analysis.residual_rows(),
            diagnoses=analysis.diagnoses,
            notes=tuple(notes),
        )
        return ContactCalibrationResult(
            outcome, plan, tuple(setpoints), analysis, tuple(records), missed
        )


def table_lines(result: ContactCalibrationResult) -> list[str]:
    """The run as a technician reads it: the baseline table and ``c``."""
    a = result.analysis
    lines = [
        result.outcome.pen_line(),
        f"{'setpoint':>9} {'speed':>9} {'i0':>9} {'sd':>8} {'samples':>8}",
    ]
    for s in a.steps:
        flags = []
        if s.loaded:
            flags.append("LOADED")
        if not s.settled and not s.loaded:
            flags.append("unsettled")
        if s.loaded and s.above_line_ma is not None:
            flags.append(f"{s.above_line_ma:+.0f} mA from the other steps' line")
        speed = f"{s.speed_hz:6.2f} Hz" if math.isfinite(s.speed_hz) else "     — Hz"
        i0 = f"{s.i0_ma:6.1f} mA" if math.isfinite(s.i0_ma) else "     — mA"
        lines.append(
            f"{s.setpoint_hz:6.1f} Hz {speed} {i0} {s.sd_ma:5.1f} mA {s.samples:8d}  "
            + ("ok" if s.settled and not s.loaded else "FAIL")
            + (f"  {' '.join(flags)}" if flags else "")
        )
    if a.fit is not None:
        lines.append(
            f"c = {a.fit.gain_ma_per_hz_s:.3f} mA per Hz/s from {a.fit.samples} ramp samples "
            f"({a.fit.accel_range_hz_s[0]:.0f}–{a.fit.accel_range_hz_s[1]:.0f} Hz/s, rms "
            f"{a.fit.rms_ma:.1f} mA"
            + (f", {a.fit.rejected} left out" if a.fit.rejected else "")
            + ")"
        )
    else:
        lines.append(f"c: not fitted ({a.ramp_samples} usable ramp samples)")
    return lines
