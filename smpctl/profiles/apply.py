"""Sending resolved setpoints to a pen, all or nothing.

Everything that can be checked without the pen is checked before the first byte goes out:
the limits in force (now including the pen's own), the pen's capabilities and the cartridge
it takes. Then the pen is stopped (geometry never changes under a running needle), each
setpoint is sent and its ACK -- the value the pen actually applied -- compared with what was
sent: a pen that clamped a value has not applied the profile.

If any step fails the pen is stopped again and every value already changed is put back. The
protocol cannot read back the stroke or the run mode, so "previous" is what the caller last
applied (``AppliedProfile.setpoints``) or, for a fresh connection, only the speed setpoint
seen in telemetry; a value that cannot be put back leaves the pen stopped *and disarmed*, and
the error says so, so the needle cannot run on half a profile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any

from smpctl.client import HostEvent, Pen, PenLimits
from smpctl.client import commands as cmd
from smpctl.errors import (
    LimitViolationError,
    NakError,
    ProfileApplyError,
    SmpctlError,
)
from smpctl.protocol import Capability, HostMessage, RunMode, SetDepth, SetSpeed, SetStroke

from .clinic import NO_CLINIC, ClinicSettings, check_needle, raise_needle_problems
from .limits import LimitsInForce, limits_in_force
from .model import RunModeName
from .resolve import ResolvedSetpoints

TELEMETRY_WAIT_S = 0.3
"""How long to wait for a first telemetry sample to learn the pen's speed setpoint."""


@dataclass(frozen=True)
class PenSetpoints:
    """What a pen is set to, as far as this host knows (None: not known)."""

    speed_hz: float | None = None
    stroke_mm: float | None = None
    depth_mm: float | None = None
    run_mode: RunMode | None = None
    ramp_ms: int | None = None
    pulse_on_ms: int | None = None
    pulse_off_ms: int | None = None

    @classmethod
    def observed(cls, pen: Pen, wait_s: float = TELEMETRY_WAIT_S) -> PenSetpoints:
        """The one setpoint telemetry reports exactly: the applied speed setpoint."""
        deadline = time.monotonic() + wait_s
        while pen.latest is None and time.monotonic() < deadline:
            time.sleep(0.005)
        latest = pen.latest
        return cls(speed_hz=latest.setpoint_hz if latest is not None else None)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.run_mode is not None:
            data["run_mode"] = RunModeName(
                "pulsed" if self.run_mode is RunMode.PULSED else "continuous"
            ).value
        return data


@dataclass(frozen=True)
class AppliedProfile:
    resolved: ResolvedSetpoints
    setpoints: PenSetpoints
    """As the pen acknowledged them: pass as ``previous`` to the next apply."""
    event: HostEvent


@dataclass(frozen=True)
class _Step:
    name: str
    value: Any
    command: HostMessage
    expect_ack: int | None
    """The wire value the ACK must carry (None: ACK(0), nothing to compare)."""


def _run_mode(resolved: ResolvedSetpoints) -> RunMode:
    return RunMode.PULSED if resolved.run_mode is RunModeName.PULSED else RunMode.CONTINUOUS


def _geometry(
    stroke_mm: float, depth_mm: float, limits: PenLimits
) -> list[tuple[str, float, HostMessage, int]]:
    """Stroke and depth, in an order the pen accepts at every step (depth <= stroke).

    A depth no deeper than the pen's shortest stroke fits under any stroke, so it goes
    first; otherwise the stroke does (it is then at least the new depth).
    """
    stroke = cmd.set_stroke(stroke_mm, limits)
    depth = cmd.set_depth(depth_mm, limits, stroke_mm=stroke_mm)
    pair: list[tuple[str, float, HostMessage, int]] = [
        ("stroke_mm", stroke_mm, stroke, stroke.stroke_um),
        ("depth_mm", depth_mm, depth, depth.depth_um),
    ]
    return pair[::-1] if depth_mm <= limits.min_stroke_mm else pair


def _check_pen(pen: Pen, resolved: ResolvedSetpoints, clinic: ClinicSettings) -> None:
    caps = pen.identity.capabilities
    missing = []
    if Capability.STROKE_ADJUST not in caps:
        missing.append("an adjustable stroke")
    if Capability.DEPTH_MOTOR not in caps:
        missing.append("a motorised depth adjuster")
    if resolved.run_mode is RunModeName.PULSED and Capability.PULSED_MODE not in caps:
        missing.append("pulsed mode")
    if missing:
        raise ProfileApplyError(
            "pen",
            pen.serial,
            f"the pen has no {' or '.join(missing)}",
            "Nothing was sent. Use a profile this pen can follow, or another pen.",
        )
    if resolved.needle is None or resolved.needle_diameter_mm is None:
        # microneedling: the clinic's list names SMP liners only; comparing the session's
        # registered cartridge with ``resolved.cartridges`` is the caller's part
        return
    accepted, source = clinic.accepted_needles(pen.serial)
    problem = check_needle(
        resolved.needle,
        resolved.needle_diameter_mm,
        accepted,
        source,
        file=resolved.profile,
        key_path=f"zone {resolved.zone.value} needle",
        pen=f"pen {pen.serial}",
    )
    raise_needle_problems([problem] if problem is not None else [])


def plan(pen: Pen, resolved: ResolvedSetpoints, limits: LimitsInForce) -> list[_Step]:
    """The commands that apply ``resolved``, every value checked against ``limits`` and the
    pen's own -- a value outside raises here, before anything is sent."""
    for name in ("speed_hz", "stroke_mm", "depth_mm"):
        limits.check(name, getattr(resolved, name), resolved.came_from(name))
    pen_limits = pen.identity.limits
    steps = [
        _Step(name, value, command, ack)
        for name, value, command, ack in _geometry(
            resolved.stroke_mm, resolved.depth_mm, pen_limits
        )
    ]
    mode = cmd.set_run_mode(
        _run_mode(resolved),
        ramp_ms=resolved.ramp_ms,
        pulse_on_ms=resolved.pulse_on_ms,
        pulse_off_ms=resolved.pulse_off_ms,
    )
    steps.append(_Step("run_mode", resolved.run_mode.value, mode, None))
    speed = cmd.set_speed(resolved.speed_hz, pen_limits)
    steps.append(_Step("speed_hz", resolved.speed_hz, speed, speed.speed_chz))
    return steps


def apply_setpoints(
    pen: Pen,
    resolved: ResolvedSetpoints,
    *,
    clinic: ClinicSettings = NO_CLINIC,
    previous: PenSetpoints | None = None,
) -> AppliedProfile:
    """Apply ``resolved`` to ``pen``, all or nothing (see the module's docstring)."""
    limits = _with_pen(resolved.limits, pen, clinic)
    _check_pen(pen, resolved, clinic)
    steps = plan(pen, resolved, limits)
    before = previous if previous is not None else PenSetpoints.observed(pen)

    pen.stop()
    done: list[_Step] = []
    for step in steps:
        try:
            reply = pen.execute(step.command)
            if step.expect_ack is not None and int(reply.value) != step.expect_ack:
                raise _Clamped(step, int(reply.value))
        except (SmpctlError, _Clamped) as exc:
            applied_anyway = not isinstance(exc, NakError)
            changed = [*done, step] if applied_anyway else done
            outcome, restored = _restore(pen, changed, before, limits)
            reason = str(exc)
            pen.post(
                "profile_apply_failed",
                f"profile {resolved.profile} not applied: {step.name} failed ({reason})",
                profile=resolved.profile,
                hash=resolved.profile_hash,  # not profile_hash: that would mark it in force
                zone=resolved.zone.value,
                session=resolved.session,
                field=step.name,
                value=step.value,
                reason=reason,
                restored=restored,
            )
            raise ProfileApplyError(step.name, step.value, reason, outcome) from exc
        done.append(step)

    setpoints = PenSetpoints(
        speed_hz=resolved.speed_hz,
        stroke_mm=resolved.stroke_mm,
        depth_mm=resolved.depth_mm,
        run_mode=_run_mode(resolved),
        ramp_ms=resolved.ramp_ms,
        pulse_on_ms=resolved.pulse_on_ms,
        pulse_off_ms=resolved.pulse_off_ms,
    )
    values = resolved.values()
    event = pen.post(
        "profile_applied",
        f"profile {resolved.profile} applied: zone {resolved.zone.value}, "
        f"session {resolved.session}",
        profile=resolved.profile,
        profile_hash=resolved.profile_hash,
        zone=resolved.zone.value,
        session=resolved.session,
        skin=[s.value for s in resolved.skin],
        scar=resolved.scar.value if resolved.scar else None,
        setpoints=values,
        simulated=pen.simulated,
    )
    return AppliedProfile(resolved, setpoints, event)


def _with_pen(limits: LimitsInForce, pen: Pen, clinic: ClinicSettings) -> LimitsInForce:
    """The resolved limits, tightened by the pen's own and the clinic's."""
    with_pen = limits_in_force(
        pen=pen.identity.limits,
        pen_name=f"pen {pen.serial}",
        clinic=clinic.limits,
        clinic_name=clinic.name,
    )
    merged = {}
    for name in limits.__dataclass_fields__:
        ours, theirs = getattr(limits, name), getattr(with_pen, name)
        if name.startswith("min_"):
            stricter = theirs.value > ours.value
        else:
            stricter = theirs.value < ours.value
        merged[name] = theirs if stricter else ours
    return replace(limits, **merged)


class _Clamped(Exception):
    def __init__(self, step: _Step, applied: int) -> None:
        self.step = step
        self.applied = applied
        super().__init__(
            f"the pen applied {applied} where {step.expect_ack} was sent (wire units): it "
            "clamped the value to a limit of its own (e.g. its configured speed cap)"
        )


def _restore(
    pen: Pen, changed: list[_Step], before: PenSetpoints, limits: LimitsInForce
) -> tuple[str, bool]:
    """Stop the pen and put back what ``changed`` changed. Returns (what happened, all
    restored)."""
    failures: list[str] = []
    _try(pen.stop, failures, "stop")
    names = {s.name for s in changed}
    pen_limits = pen.identity.limits
    commands: list[tuple[str, HostMessage]] = []
    if "stroke_mm" in names or "depth_mm" in names:
        stroke = before.stroke_mm
        depth = before.depth_mm
        if stroke is None or depth is None:
            failures.append("the stroke and depth it had (the pen cannot report them)")
        elif not (limits.contains("stroke_mm", stroke) and limits.contains("depth_mm", depth)):
            failures.append(
                f"its stroke {stroke:g} mm and depth {depth:g} mm (outside the limits in force)"
            )
        else:
            commands += [(n, c) for n, _v, c, _a in _geometry(stroke, depth, pen_limits)]
    if "run_mode" in names:
        mode = before.run_mode
        if mode is None or before.ramp_ms is None:
            failures.append("the run mode it had (the pen cannot report it)")
        else:
            mode_command = cmd.set_run_mode(
                mode,
                ramp_ms=before.ramp_ms,
                pulse_on_ms=before.pulse_on_ms or 0,
                pulse_off_ms=before.pulse_off_ms or 0,
            )
            commands.append(("run_mode", mode_command))
    if "speed_hz" in names:
        speed = before.speed_hz
        if speed is None:
            failures.append("the speed it had (no telemetry seen)")
        elif not limits.contains("speed_hz", speed) and speed != 0:
            # 0 is an idle pen's setpoint, not a treatment speed: putting it back is safe
            failures.append(f"its speed {speed:g} Hz (outside the limits in force)")
        else:
            commands.append(("speed_hz", cmd.set_speed(speed, pen_limits)))
    for name, command in commands:
        _try(partial(_execute_exact, pen, command), failures, f"its previous {name}")
    if not failures:
        return "The pen is stopped and its previous setpoints are restored.", True
    _try(pen.disarm, failures, "disarm")
    return (
        "The pen is stopped and DISARMED because this could not be put back: "
        + "; ".join(failures)
        + ". Apply a profile again before treating.",
        False,
    )


def _execute_exact(pen: Pen, command: HostMessage) -> None:
    """Send a restoring command; a pen that clamps it has not been restored."""
    reply = pen.execute(command)
    if isinstance(command, SetSpeed):
        sent = command.speed_chz
    elif isinstance(command, SetStroke):
        sent = command.stroke_um
    elif isinstance(command, SetDepth):
        sent = command.depth_um
    else:
        return
    if int(reply.value) != sent:
        raise LimitViolationError(f"the pen applied {int(reply.value)} (wire units), not {sent}")


def _try(action: Callable[[], object], failures: list[str], what: str) -> None:
    try:
        action()
    except (SmpctlError, LimitViolationError) as exc:
        failures.append(f"{what} ({exc})")
