"""Burn-in: run a pen through the speeds its treatments use, for a while, and see that it
holds them steadily without its current or temperature creeping up.

A new or repaired pen shows its faults under time, not in a quick check: a bearing that
tightens as it warms (current drifts up), a cam that starts to chatter (speed stability
worsens), a motor that cannot shed its heat (temperature climbs toward the pen's limit).
The speeds are a treatment profile's zone speeds (by default the shipped smp-base), cycled
so each is visited repeatedly; what the pen does at a speed in the last cycle is compared
with the first.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from smpctl.client import Pen
from smpctl.errors import CalibrationError, RunInterruptedError
from smpctl.profiles import LoadedProfile
from smpctl.protocol import STOP_FAULTS, Fault, Status

from .bench import running_in_air
from .fit import mean
from .measure import TelemetryReader, Window, fault_names, summarize
from .outcome import Cause, Diagnosis, Outcome, RunKind

Say = Callable[[str], None]
DEFAULT_PROFILE = "smp-base"
SLEW_TIMEOUT_S = 5.0
SETTLE_S = 0.2
WARNING_FAULTS = Fault.UNDERSPEED | Fault.SUPPLY_LOW | Fault.TEMP_HIGH


def profile_speeds(profile: LoadedProfile) -> tuple[float, ...]:
    """Every speed the profile's zones (and their per-session values) run at, ascending."""
    speeds: set[float] = set()
    for zone in profile.profile.zones.values():
        if zone.speed_hz is not None:
            speeds.add(float(zone.speed_hz))
        for override in zone.sessions.values():
            if override.speed_hz is not None:
                speeds.add(float(override.speed_hz))
    if not speeds:
        raise CalibrationError(f"the profile {profile.name} sets no zone speeds to burn in at")
    return tuple(sorted(speeds))


@dataclass(frozen=True)
class BurnInPlan:
    speeds_hz: tuple[float, ...]
    minutes: float = 30.0
    dwell_s: float = 60.0
    """Time at each speed per cycle (shortened so a short run still visits every speed)."""
    window_s: float = 1.0
    telemetry_hz: int = 200
    speed_tolerance_pct: float = 2.0
    """Mean reported speed within this of the setpoint."""
    stability_pct: float = 1.0
    """Spread (s.d.) of the reported speed within a window, in % of the setpoint."""
    current_drift_pct: float = 25.0
    """Largest change of the current at one speed from its first window to its last."""
    current_fraction: float = 0.8
    """Largest current, as a fraction of the pen's over-current limit."""
    temp_margin_c: float = 2.0
    """Largest temperature: this far below the pen's over-temperature limit (its warning
    level)."""

    @property
    def dwell(self) -> float:
        total = self.minutes * 60
        return max(self.window_s, min(self.dwell_s, total / max(1, len(self.speeds_hz))))


@dataclass(frozen=True)
class Segment:
    """One stay at one speed."""

    cycle: int
    setpoint_hz: float
    windows: tuple[Window, ...]

    @property
    def reported_hz(self) -> float:
        return mean([w.reported_hz for w in self.windows])

    @property
    def true_hz(self) -> float:
        return mean([w.true_hz for w in self.windows])

    @property
    def spread_pct(self) -> float:
        return max(w.reported_sd_hz for w in self.windows) / self.setpoint_hz * 100

    @property
    def current_a(self) -> float:
        return mean([w.current_a for w in self.windows])

    @property
    def faults(self) -> int:
        faults = 0
        for w in self.windows:
            faults |= w.faults
        return faults

    def as_dict(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle,
            "setpoint_hz": self.setpoint_hz,
            "reported_hz": round(self.reported_hz, 4),
            "true_hz": round(self.true_hz, 4),
            "spread_pct": round(self.spread_pct, 4),
            "current_a": round(self.current_a, 4),
            "max_current_a": round(max(w.max_current_a for w in self.windows), 4),
            "temp_start_c": round(self.windows[0].temp_c, 2),
            "temp_end_c": round(self.windows[-1].temp_c, 2),
            "voltage_v": round(min(w.min_voltage_v for w in self.windows), 3),
            "faults": fault_names(self.faults),
            "windows": len(self.windows),
        }


@dataclass(frozen=True)
class BurnInResult:
    outcome: Outcome
    plan: BurnInPlan
    segments: tuple[Segment, ...]
    duration_s: float
    interruption: str | None
    figures: dict[str, Any]

    @property
    def passed(self) -> bool:
        return self.outcome.passed

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.outcome.report_head(),
            "minutes_planned": self.plan.minutes,
            "duration_s": round(self.duration_s, 2),
            "speeds_hz": list(self.plan.speeds_hz),
            "limits": {
                "speed_tolerance_pct": self.plan.speed_tolerance_pct,
                "stability_pct": self.plan.stability_pct,
                "current_drift_pct": self.plan.current_drift_pct,
                "current_fraction": self.plan.current_fraction,
                "temp_margin_c": self.plan.temp_margin_c,
            },
            "figures": self.figures,
            "segments": [s.as_dict() for s in self.segments],
            "interruption": self.interruption,
            "diagnoses": [d.as_dict() for d in self.outcome.diagnoses],
        }


def assess(
    segments: Sequence[Segment],
    plan: BurnInPlan,
    *,
    max_current_a: float,
    max_temp_c: float,
    interruption: str | None,
) -> tuple[list[Diagnosis], dict[str, Any]]:
    """What the segments say (pure: no pen): the diagnoses of a failure, and the figures
    the report shows either way."""
    found: list[Diagnosis] = []
    if interruption is not None:
        found.append(Diagnosis(Cause.INTERRUPTED, f"the burn-in stopped early: {interruption}"))
    windows = [w for s in segments for w in s.windows]
    figures: dict[str, Any] = {}
    if not windows:
        return found, figures
    temps = [w.temp_c for w in windows]
    peak_current = max(w.max_current_a for w in windows)
    faults = 0
    for s in segments:
        faults |= s.faults
    figures.update(
        temp_start_c=round(temps[0], 2),
        temp_end_c=round(temps[-1], 2),
        temp_max_c=round(max(temps), 2),
        temp_rise_c=round(temps[-1] - temps[0], 2),
        peak_current_a=round(peak_current, 4),
        faults_seen=fault_names(faults),
    )

    off = [
        s
        for s in segments
        if abs(s.reported_hz - s.setpoint_hz) / s.setpoint_hz * 100 > plan.speed_tolerance_pct
    ]
    if off:
        worst = max(off, key=lambda s: abs(s.reported_hz - s.setpoint_hz) / s.setpoint_hz)
        slow_top = all(s.reported_hz < s.setpoint_hz for s in off) and min(
            s.setpoint_hz for s in off
        ) >= max(s.setpoint_hz for s in segments if s not in off)
        cause = Cause.SUPPLY if slow_top else Cause.DRAG
        why = (
            "the supply voltage is too low for the top speeds: charge the battery or use a "
            "stronger supply"
            if slow_top
            else "something drags or binds: inspect the cam, bearing and cartridge mount"
        )
        found.append(
            Diagnosis(
                cause,
                f"the pen did not hold {worst.setpoint_hz:g} Hz (it ran at "
                f"{worst.reported_hz:.2f} Hz in cycle {worst.cycle + 1}; tolerance "
                f"±{plan.speed_tolerance_pct:g} %): {why}.",
            )
        )
    unstable = [s for s in segments if s.spread_pct > plan.stability_pct]
    if unstable:
        worst = max(unstable, key=lambda s: s.spread_pct)
        found.append(
            Diagnosis(
                Cause.WEAR,
                f"the speed was unsteady: it spread by {worst.spread_pct:.2f} % at "
                f"{worst.setpoint_hz:g} Hz (limit {plan.stability_pct:g} %). The encoder or "
                "the cam is worn: service the pen.",
            )
        )

    drifts: dict[float, float] = {}
    by_speed: dict[float, list[Window]] = {}
    for s in segments:
        by_speed.setdefault(s.setpoint_hz, []).extend(s.windows)
    for speed, ws in by_speed.items():
        if len(ws) >= 2 and ws[0].current_a > 0:
            drifts[speed] = (ws[-1].current_a / ws[0].current_a - 1) * 100
    figures["current_drift_pct"] = {f"{k:g}": round(v, 2) for k, v in sorted(drifts.items())}
    drifting = {k: v for k, v in drifts.items() if abs(v) > plan.current_drift_pct}
    if drifting:
        speed, drift = max(drifting.items(), key=lambda kv: abs(kv[1]))
        found.append(
            Diagnosis(
                Cause.CURRENT,
                f"the motor current at {speed:g} Hz changed by {drift:+.1f} % over the run "
                f"(limit ±{plan.current_drift_pct:g} %): friction is changing as the pen "
                "runs (a tightening bearing, a binding cam). Service the pen.",
            )
        )
    if peak_current > plan.current_fraction * max_current_a:
        found.append(
            Diagnosis(
                Cause.DRAG,
                f"the motor drew up to {peak_current:.2f} A in the air, over "
                f"{plan.current_fraction:.0%} of the pen's {max_current_a:g} A limit: the "
                "mechanism is too stiff. Service the pen.",
            )
        )
    warm_limit = max_temp_c - plan.temp_margin_c
    if max(temps) >= warm_limit or faults & Fault.OVERTEMP:
        found.append(
            Diagnosis(
                Cause.TEMPERATURE,
                f"the handpiece reached {max(temps):.1f} °C (limit {warm_limit:g} °C, started "
                f"at {temps[0]:.1f} °C): it cannot shed its heat. Check its vents and bearing.",
            )
        )
    flagged = faults & (WARNING_FAULTS | STOP_FAULTS) & ~Fault.TEMP_HIGH
    if flagged and not found:
        found.append(
            Diagnosis(
                Cause.INTERRUPTED,
                f"the pen flagged {fault_names(flagged)} during the run: run it again and "
                "look at the pen's events.",
            )
        )
    return found, figures


class BurnIn:
    def __init__(
        self,
        pen: Pen,
        plan: BurnInPlan,
        *,
        today: dt.date,
        reader: TelemetryReader | None = None,
        say: Say = lambda _text: None,
    ) -> None:
        limits = pen.identity.limits
        too_fast = [s for s in plan.speeds_hz if s > limits.max_speed_hz]
        if too_fast:
            raise CalibrationError(
                f"the speeds {', '.join(f'{s:g}' for s in too_fast)} Hz are above this pen's "
                f"{limits.max_speed_hz:g} Hz"
            )
        if plan.minutes <= 0 or not plan.speeds_hz:
            raise CalibrationError("a burn-in needs a positive duration and at least one speed")
        self.pen = pen
        self.plan = plan
        self.today = today
        self.reader = reader or TelemetryReader(pen)
        self.say = say

    def run(self) -> BurnInResult:
        pen, plan, reader = self.pen, self.plan, self.reader
        clock = reader.clock
        segments: list[Segment] = []
        interruption: str | None = None
        started = clock()
        end = started + plan.minutes * 60
        self.say(
            f"Burn-in for {plan.minutes:g} min at {', '.join(f'{s:g}' for s in plan.speeds_hz)} "
            f"Hz, {plan.dwell:g} s at each per cycle."
        )
        cycle = 0
        current = plan.speeds_hz[0]
        try:
            with running_in_air(
                pen, reader, speed_hz=current, telemetry_hz=plan.telemetry_hz, say=self.say
            ):
                while clock() < end:
                    for current in plan.speeds_hz:
                        if clock() >= end and segments:
                            break
                        pen.set_speed(current)
                        stay_end = min(end, clock() + plan.dwell)
                        reader.wait_for(
                            lambda s: Status.IN_RAMP not in Status(s.status),
                            SLEW_TIMEOUT_S,
                            f"the speed to reach {current:g} Hz",
                        )
                        reader.collect(SETTLE_S)  # the speed loop catches up with the ramp
                        windows: list[Window] = []
                        while not windows or clock() + plan.window_s <= stay_end:
                            windows.append(summarize(reader.collect(plan.window_s)))
                        segment = Segment(cycle, current, tuple(windows))
                        segments.append(segment)
                        self.say(
                            f"  cycle {cycle + 1} {current:6.1f} Hz  ran {segment.reported_hz:7.2f}"
                            f" Hz  spread {segment.spread_pct:4.2f} %  {segment.current_a:4.2f} A"
                            f"  {segment.windows[-1].temp_c:4.1f} °C"
                        )
                    cycle += 1
        except RunInterruptedError as exc:
            interruption = f"at {current:g} Hz: {exc.reason}"
        limits = pen.identity.limits
        diagnoses, figures = assess(
            segments,
            plan,
            max_current_a=limits.max_current_a,
            max_temp_c=limits.max_temp_c,
            interruption=interruption,
        )
        duration = clock() - started
        passed = not diagnoses and bool(segments)
        outcome = Outcome(
            kind=RunKind.BURN_IN,
            identity=pen.identity,
            day=self.today,
            passed=passed,
            written=None,
            expires=None,
            tolerance=(
                f"speed ±{plan.speed_tolerance_pct:g} %, spread ≤{plan.stability_pct:g} %, "
                f"current drift ±{plan.current_drift_pct:g} %"
            ),
            residuals=[s.as_dict() for s in segments],
            diagnoses=tuple(diagnoses),
        )
        return BurnInResult(
            outcome=outcome,
            plan=plan,
            segments=tuple(segments),
            duration_s=duration if math.isfinite(duration) else 0.0,
            interruption=interruption,
            figures=figures,
        )
