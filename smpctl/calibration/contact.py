"""Contact calibration: a pen's free-running current at each speed, and its acceleration gain.

The skin-contact detector (smpctl.dose.contact) reads load from the motor current as
``i - i0(speed) - c * dω/dt``. Both ``i0`` and ``c`` belong to the pen (its motor, bearing
and cam), so the technician records them with the needle free in the air:

- ``i0``: the speed is stepped across the pen's range; at each step, once the speed
  reference has stopped moving (status IN_RAMP clear) and the loop has settled, the mean
  current is the free-running current there, and its spread shows whether anything
  touched the needle.
- ``c``: between steps the speed ramps up at the pen's slew rate. On those samples the
  current above ``i0(speed)`` is the current that accelerates the rotor, ``c · dω/dt``
  (torque balance: kt·i = friction(ω) + J·dω/dt), so ``c`` is the least-squares slope of
  ``i - i0(speed)`` against ``dω/dt`` through the origin. Only rising ramps count: on a
  falling ramp the driver brakes or coasts and the shunt reads no current.

A needle loaded during the run would put skin into the baseline and make every later
touch of that load look like air, so a step whose current stands far above the line
through the other steps, or spreads too widely, fails the run by name.

Recorded in the pen's calibration history (kind ``contact``), since the pen itself has
no place for it:

- ``residuals``: one row per speed, ``{"speed_hz", "i0_ma", "sd_ma", "samples"}``;
- ``written``: ``{"accel_gain_ua_per_hz_s": c in µA per Hz/s}`` (an integer, like every
  value ``written`` holds; nothing goes to the pen); None for a failed run.

``contact_settings`` turns the calibration in force back into ``ContactSettings``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from smpctl.dose import ContactDetector, ContactSettings
from smpctl.dose.contact import ACCEL_GAIN_RANGE, DEFAULT_THRESHOLD_MA, FIT_MIN_ACCEL_HZ_S
from smpctl.errors import CalibrationError
from smpctl.journal import Journal
from smpctl.journal.calibrations import calibrations, in_force
from smpctl.protocol import Fault, Status, Telemetry

from .fit import fit_line, mean, sample_sd
from .measure import unwrap_u32
from .outcome import Cause, Diagnosis
from .speed import supply_advice

KIND = "contact"
GAIN_KEY = "accel_gain_ua_per_hz_s"
"""``written`` key of ``c``, in µA per Hz/s (1000 × the mA per Hz/s the detector uses)."""

MAX_SD_MA = DEFAULT_THRESHOLD_MA / 4
"""Largest spread of the current at a steady step. A free needle's current scatters by
its sensor noise (a few mA); a baseline scattering by a quarter of the detector's
threshold would already let noise in air reach it."""
MAX_STEP_MA = DEFAULT_THRESHOLD_MA / 3
"""Largest rise of a step's current above the line through the other steps. Free-running
current grows about 1 mA per Hz, nearly on a line; a needle resting on something adds
the load current of a light touch (hundreds of mA)."""
SETTLED_PCT = 1.0
"""A step is settled when its mean speed is within this of the setpoint."""
MIN_STEADY_SAMPLES = 20
MIN_FIT_SAMPLES = 24
"""Ramp samples needed to fit ``c``: two or three ramps at a few hundred Hz of telemetry."""
MAX_DIFF_SPAN_S = 0.012
"""dω/dt is a central difference over the two neighbouring samples; a wider span (lost
samples, telemetry below ~170 Hz) blurs the ramp's ends and is left out."""
CLIPPED_MA = 5.0
"""At or below this the shunt reads nothing: the driver is braking or coasting."""

_MOTOR_ON = int(Status.MOTOR_ON)
_IN_RAMP = int(Status.IN_RAMP)


@dataclass(frozen=True)
class ContactLimits:
    """What a run is judged against. Defaults follow from the detector's threshold."""

    max_sd_ma: float = MAX_SD_MA
    max_step_ma: float = MAX_STEP_MA
    settled_pct: float = SETTLED_PCT
    settle_s: float = 0.15
    """After the ramp ends, the speed loop takes this long to settle before measuring."""

    def describe(self) -> str:
        lo, hi = ACCEL_GAIN_RANGE
        return (
            f"spread ≤ {self.max_sd_ma:g} mA, ≤ {self.max_step_ma:g} mA above the other steps, "
            f"c {lo:g}–{hi:g} mA per Hz/s"
        )


@dataclass(frozen=True)
class StepRecord:
    """Everything the pen sent from one setpoint command up to the next, in order: the
    ramp to the setpoint, then the steady stretch."""

    setpoint_hz: float
    samples: tuple[Telemetry, ...]


@dataclass(frozen=True)
class BaselineStep:
    """One step's free-running current, from its steady stretch."""

    setpoint_hz: float
    speed_hz: float
    """Mean reported speed over the steady stretch: the detector looks ``i0`` up by it."""
    speed_sd_hz: float
    i0_ma: float
    sd_ma: float
    samples: int
    min_voltage_v: float
    faults: int
    settled: bool
    above_line_ma: float | None = None
    """How far ``i0`` stands above the line through the other steps (None: not judged)."""
    loaded: bool = False

    def row(self) -> dict[str, Any]:
        """The history's row for this speed (None where a step gave nothing to measure)."""
        return {
            "speed_hz": _rounded(self.speed_hz, 2),
            "i0_ma": _rounded(self.i0_ma, 1),
            "sd_ma": _rounded(self.sd_ma, 1),
            "samples": self.samples,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "setpoint_hz": self.setpoint_hz,
            **self.row(),
            "speed_sd_hz": _rounded(self.speed_sd_hz, 3),
            "min_voltage_v": _rounded(self.min_voltage_v, 3),
            "settled": self.settled,
            "above_line_ma": _rounded(self.above_line_ma, 1),
            "loaded": self.loaded,
        }


def _rounded(value: float | None, digits: int) -> float | None:
    """JSON has no NaN: a figure a step could not give is None."""
    return round(value, digits) if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class GainFit:
    """``c`` fitted on the rising ramps."""

    gain_ma_per_hz_s: float
    samples: int
    """Ramp samples the fit kept."""
    rejected: int
    """Ramp samples left out as outliers (a touch, a glitch)."""
    rms_ma: float
    accel_range_hz_s: tuple[float, float]

    @property
    def in_range(self) -> bool:
        lo, hi = ACCEL_GAIN_RANGE
        return lo <= self.gain_ma_per_hz_s <= hi

    def as_dict(self) -> dict[str, Any]:
        return {
            "accel_gain_ma_per_hz_s": round(self.gain_ma_per_hz_s, 4),
            "samples": self.samples,
            "rejected": self.rejected,
            "rms_ma": round(self.rms_ma, 2),
            "accel_hz_s": [round(a, 1) for a in self.accel_range_hz_s],
        }


@dataclass(frozen=True)
class ContactAnalysis:
    steps: tuple[BaselineStep, ...]
    fit: GainFit | None
    ramp_samples: int
    """Rising-ramp samples found within the table's speeds (before outliers)."""
    limits: ContactLimits
    diagnoses: tuple[Diagnosis, ...]

    @property
    def passed(self) -> bool:
        return not self.diagnoses and self.fit is not None and self.fit.in_range

    @property
    def baseline_ma(self) -> dict[float, float]:
        """Speed (Hz) -> i0 (mA) of the usable steps."""
        return {round(s.speed_hz, 2): s.i0_ma for s in self.steps if s.settled and not s.loaded}

    def settings(self) -> ContactSettings | None:
        """What the detector would get from this run (None unless it passed)."""
        if not self.passed or self.fit is None:
            return None
        return ContactSettings(
            accel_gain_ma_per_hz_s=self.fit.gain_ma_per_hz_s, baseline_ma=self.baseline_ma
        )

    def residual_rows(self) -> list[dict[str, Any]]:
        return [s.row() for s in self.steps]

    def written(self) -> dict[str, int] | None:
        if not self.passed or self.fit is None:
            return None
        return {GAIN_KEY: round(self.fit.gain_ma_per_hz_s * 1000)}


# ---------------------------------------------------------------------- the steady stretch


def steady_part(record: StepRecord, settle_s: float) -> list[Telemetry]:
    """The samples of ``record`` at its setpoint, motor on, once the speed reference has
    reached the setpoint (IN_RAMP clear) and ``settle_s`` more have passed."""
    setpoint_chz = round(record.setpoint_hz * 100)
    samples = record.samples
    start = 0
    for k, s in enumerate(samples):
        if s.setpoint_chz != setpoint_chz or s.status & _IN_RAMP or not s.status & _MOTOR_ON:
            start = k + 1
    tail = samples[start:]
    if not tail:
        return []
    t0 = tail[0].t_us
    return [s for s in tail if (s.t_us - t0) % (1 << 32) >= settle_s * 1e6]


def measure_step(record: StepRecord, limits: ContactLimits) -> BaselineStep:
    steady = steady_part(record, limits.settle_s)
    if len(steady) < 2:
        return BaselineStep(
            record.setpoint_hz, math.nan, 0.0, math.nan, 0.0, len(steady),
            min((s.voltage_v for s in record.samples), default=math.nan),
            _faults(record.samples), settled=False,
        )  # fmt: skip
    speeds = [s.speed_hz for s in steady]
    currents = [float(s.current_ma) for s in steady]
    speed = mean(speeds)
    settled = (
        len(steady) >= MIN_STEADY_SAMPLES
        and abs(speed - record.setpoint_hz) <= record.setpoint_hz * limits.settled_pct / 100
    )
    return BaselineStep(
        setpoint_hz=record.setpoint_hz,
        speed_hz=speed,
        speed_sd_hz=sample_sd(speeds),
        i0_ma=mean(currents),
        sd_ma=sample_sd(currents),
        samples=len(steady),
        min_voltage_v=min(s.voltage_v for s in steady),
        faults=_faults(steady),
        settled=settled,
    )


def _faults(samples: Sequence[Telemetry]) -> int:
    faults = 0
    for s in samples:
        faults |= s.faults
    return faults


def judge_loads(steps: Sequence[BaselineStep], limits: ContactLimits) -> list[BaselineStep]:
    """Mark the steps where something loaded the needle.

    A step is loaded when its current spreads more than ``max_sd_ma``, or stands more than
    ``max_step_ma`` above the straight line through the other (unloaded, settled) steps.
    The worst offender is taken out first and the others judged again without it, so one
    loaded step cannot hide another by pulling the line up.
    """
    out = list(steps)
    for k, s in enumerate(out):
        # a load also unsettles the speed: judged whether or not the step settled
        if s.samples >= 2 and s.sd_ma > limits.max_sd_ma:
            out[k] = replace(s, loaded=True)
    while True:
        clean = [k for k, s in enumerate(out) if s.settled and not s.loaded]
        if len(clean) < 3:
            break
        above = {k: _above_line(out, k, [j for j in clean if j != k]) for k in clean}
        worst = max(above, key=lambda k: above[k])
        if above[worst] <= limits.max_step_ma:
            for k, value in above.items():
                out[k] = replace(out[k], above_line_ma=value)
            break
        out[worst] = replace(out[worst], above_line_ma=above[worst], loaded=True)
    clean = [k for k, s in enumerate(out) if s.settled and not s.loaded]
    if len(clean) >= 2:
        for k, s in enumerate(out):
            if s.loaded and s.above_line_ma is None and math.isfinite(s.speed_hz):
                out[k] = replace(s, above_line_ma=_above_line(out, k, clean))
    return out


def _above_line(steps: Sequence[BaselineStep], k: int, others: Sequence[int]) -> float:
    line = fit_line([steps[j].speed_hz for j in others], [steps[j].i0_ma for j in others])
    return steps[k].i0_ma - line(steps[k].speed_hz)


# ---------------------------------------------------------------------- the acceleration gain


def ramp_rows(
    records: Sequence[StepRecord], baseline_ma: Mapping[float, float]
) -> list[tuple[float, float]]:
    """``(dω/dt in Hz/s, current above i0 in mA)`` on every rising-ramp sample whose speed
    lies within the table (so ``i0`` is interpolated, never extrapolated)."""
    if len(baseline_ma) < 2:
        return []
    detector = ContactDetector(ContactSettings(baseline_ma=baseline_ma))
    lo, hi = min(baseline_ma), max(baseline_ma)
    samples = [s for r in records for s in r.samples]
    times = [t / 1e6 for t in unwrap_u32([s.t_us for s in samples])]
    rows: list[tuple[float, float]] = []
    for k in range(1, len(samples) - 1):
        before, here, after = samples[k - 1], samples[k], samples[k + 1]
        if not (before.status & here.status & after.status & _MOTOR_ON):
            continue
        span = times[k + 1] - times[k - 1]
        if not 0.0 < span <= MAX_DIFF_SPAN_S:
            continue
        accel = (after.speed_hz - before.speed_hz) / span
        speed = here.speed_hz
        if accel < FIT_MIN_ACCEL_HZ_S or not lo <= speed <= hi or here.current_ma <= CLIPPED_MA:
            continue
        i0 = detector.baseline_ma(speed)
        if i0 is not None:
            rows.append((accel, here.current_ma - i0))
    return rows


def fit_gain(rows: Sequence[tuple[float, float]]) -> GainFit | None:
    """Least squares through the origin of current-above-i0 on acceleration; rows far off
    the first fit (a touch during a ramp) are dropped and the fit made again, twice."""
    if len(rows) < MIN_FIT_SAMPLES:
        return None
    kept = list(rows)
    gain = _slope_through_origin(kept)
    for _ in range(2):
        residuals = [abs(y - gain * a) for a, y in kept]
        spread = sorted(residuals)[len(residuals) // 2] * 3.0 + 5.0
        trimmed = [row for row, r in zip(kept, residuals, strict=True) if r <= spread]
        if len(trimmed) < MIN_FIT_SAMPLES:
            break
        kept = trimmed
        gain = _slope_through_origin(kept)
    rms = math.sqrt(math.fsum((y - gain * a) ** 2 for a, y in kept) / len(kept))
    accels = [a for a, _ in kept]
    return GainFit(gain, len(kept), len(rows) - len(kept), rms, (min(accels), max(accels)))


def _slope_through_origin(rows: Sequence[tuple[float, float]]) -> float:
    return math.fsum(a * y for a, y in rows) / math.fsum(a * a for a, _ in rows)


# ---------------------------------------------------------------------- the whole run


def analyse_contact(
    records: Sequence[StepRecord],
    limits: ContactLimits | None = None,
    *,
    interrupted: Diagnosis | None = None,
) -> ContactAnalysis:
    """Table, fit, pass/fail and diagnosis of a recorded run (pure: no pen)."""
    limits = limits or ContactLimits()
    steps = judge_loads([measure_step(r, limits) for r in records], limits)
    usable = {round(s.speed_hz, 2): s.i0_ma for s in steps if s.settled and not s.loaded}
    clean_records = [r for r, s in zip(records, steps, strict=True) if not s.loaded]
    rows = ramp_rows(clean_records, usable)
    fit = fit_gain(rows)
    diagnoses = diagnose_contact(steps, fit, len(rows), interrupted)
    return ContactAnalysis(tuple(steps), fit, len(rows), limits, tuple(diagnoses))


def _names(steps: Sequence[BaselineStep]) -> str:
    return ", ".join(f"{s.setpoint_hz:g}" for s in steps)


def diagnose_contact(
    steps: Sequence[BaselineStep],
    fit: GainFit | None,
    ramp_samples: int,
    interrupted: Diagnosis | None = None,
) -> list[Diagnosis]:
    """The likely causes of a failure, read from the data; empty when nothing is wrong."""
    found: list[Diagnosis] = [] if interrupted is None else [interrupted]
    loaded = [s for s in steps if s.loaded]
    if loaded:
        details = []
        for s in loaded:
            part = f"at {s.setpoint_hz:g} Hz {s.i0_ma:.0f} mA, spread {s.sd_ma:.0f} mA"
            if s.above_line_ma is not None:
                part += f", {s.above_line_ma:+.0f} mA from the other steps' line"
            details.append(part)
        found.append(
            Diagnosis(
                Cause.LOADED,
                f"the needle was loaded at {_names(loaded)} Hz: run the calibration with the "
                "pen held free in the air, the needle touching nothing ("
                + "; ".join(details)
                + "). A baseline taken with a load on the needle would make later touches "
                "count as air.",
            )
        )
    unsettled = [s for s in steps if not s.settled and not s.loaded]
    short = [s for s in unsettled if s.samples >= MIN_STEADY_SAMPLES and s.speed_hz < s.setpoint_hz]
    if short:
        worst = max(short, key=lambda s: s.setpoint_hz)
        volts = min(s.min_voltage_v for s in short)
        flagged = (
            " (the pen flagged SUPPLY_LOW)"
            if any(s.faults & Fault.SUPPLY_LOW for s in short)
            else ""
        )
        found.append(
            Diagnosis(
                Cause.SUPPLY,
                f"the speed never reached its setpoint at {_names(short)} Hz: only "
                f"{worst.speed_hz:.1f} Hz at the {worst.setpoint_hz:g} Hz step, on a supply of "
                f"{volts:.2f} V under load{flagged}. The supply voltage is too low for the top "
                "of the range. " + supply_advice(volts, worst.setpoint_hz, worst.speed_hz),
            )
        )
    other = [s for s in unsettled if s not in short]
    if other:
        parts = []
        for s in other:
            if s.samples < MIN_STEADY_SAMPLES:
                parts.append(f"{s.setpoint_hz:g} Hz: only {s.samples} steady samples")
            else:
                parts.append(f"{s.setpoint_hz:g} Hz: steady at {s.speed_hz:.1f} Hz")
        found.append(
            Diagnosis(
                Cause.WEAR,
                "the speed never settled (" + "; ".join(parts) + "). Check the cable and "
                "the telemetry rate; if the speed hunts, the encoder or cam is worn: have the "
                "pen serviced, then calibrate again.",
            )
        )
    usable = [s for s in steps if s.settled and not s.loaded]
    if len(usable) < 2 and not found:
        found.append(
            Diagnosis(
                Cause.INTERRUPTED,
                "fewer than two steps gave a free-running current: choose a wider sweep "
                "(--start/--stop/--step) and calibrate again.",
            )
        )
    lo, hi = ACCEL_GAIN_RANGE
    if len(usable) >= 2 and not loaded and interrupted is None:
        if fit is None:
            found.append(
                Diagnosis(
                    Cause.FIT,
                    f"the ramps between steps gave only {ramp_samples} samples accelerating "
                    f"at {FIT_MIN_ACCEL_HZ_S:g} Hz/s or more (at least {MIN_FIT_SAMPLES} "
                    "needed to fit c): raise the telemetry rate (--telemetry-hz) or use "
                    "larger steps (--step), then calibrate again.",
                )
            )
        elif not fit.in_range:
            found.append(
                Diagnosis(
                    Cause.FIT,
                    f"the acceleration gain c came out at {fit.gain_ma_per_hz_s:.2f} mA per "
                    f"Hz/s, outside the {lo:g}–{hi:g} a pen motor can have (rms "
                    f"{fit.rms_ma:.0f} mA over {fit.samples} ramp samples): the current on "
                    "the ramps does not follow the acceleration. Something touched the needle "
                    "while the speed changed, or the current sensor is faulty; hold the pen "
                    "free and calibrate again, and have it serviced if this repeats.",
                )
            )
    return found


def compare_with_previous(
    steps: Sequence[BaselineStep], previous_ma: Mapping[float, float], limits: ContactLimits
) -> str | None:
    """A note when the whole baseline stands above the pen's previous one.

    A needle resting steadily on something through every step raises every step alike, so
    the steps agree with each other and the run cannot see it; only the pen's own history
    can. A real change (a worn bearing, a stiffer cartridge mount) looks the same, so this
    is a note for the technician, not a failure."""
    usable = [s for s in steps if s.settled and not s.loaded]
    if not usable or len(previous_ma) < 2:
        return None
    before = ContactDetector(ContactSettings(baseline_ma=previous_ma))
    rises = sorted(s.i0_ma - (before.baseline_ma(s.speed_hz) or 0.0) for s in usable)
    rise = rises[len(rises) // 2]
    if rise <= limits.max_step_ma:
        return None
    return (
        f"the free-running current is {rise:.0f} mA above this pen's previous contact "
        "calibration: if anything touched the needle during the run, run it again with the "
        "pen held free in the air; if nothing did, the mechanism now drags more (check the "
        "cam, bearing and cartridge mount)"
    )


# ---------------------------------------------------------------------- in force


def settings_from_record(
    residuals: Sequence[Mapping[str, Any]], written: Mapping[str, Any]
) -> ContactSettings:
    """The detector's settings as a contact calibration recorded them."""
    try:
        table = {float(row["speed_hz"]): float(row["i0_ma"]) for row in residuals}
        gain = float(written[GAIN_KEY]) / 1000
    except (KeyError, TypeError, ValueError) as exc:
        raise CalibrationError(
            f"a contact calibration record is malformed ({exc!r}): run "
            "tools/calibrate_contact.py again"
        ) from None
    if len(table) < 2:
        raise CalibrationError(
            "a contact calibration record has fewer than two speeds: run "
            "tools/calibrate_contact.py again"
        )
    return ContactSettings(accel_gain_ma_per_hz_s=gain, baseline_ma=table)


def contact_settings(journal: Journal, serial: str, today: dt.date) -> ContactSettings | None:
    """The contact detector's settings for pen ``serial`` from its calibration in force:
    the newest contact calibration that passed, if it has not expired by ``today``.

    None when the pen has none, or when the newest has expired (an older one would be
    staler still): the detector then tracks the baseline and fits ``c`` online.
    """
    record = in_force(calibrations(journal, serial), KIND)
    if record is None or record.expired(today) or record.written is None:
        return None
    return settings_from_record(record.residuals, record.written)
