"""Applying to the simulated pen: exactly the resolved values, all or nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from profiles_support import sim_setpoints

from smpctl.client import HostEvent, Pen, connect
from smpctl.errors import (
    NakError,
    NeedleNotAcceptedError,
    ProfileApplyError,
    SetpointOutsideLimitsError,
)
from smpctl.profiles import (
    ProfileLibrary,
    ResolvedSetpoints,
    apply_setpoints,
    limits_for,
    load_clinic,
    resolve,
)
from smpctl.protocol import Capability, ConfigKey, HostMessage, NakCode, SetRunMode

Write = Callable[[str, str], Path]


@pytest.fixture
def pen(sim_name: str) -> Iterator[Pen]:
    with connect(f"sim://{sim_name}?seed=5") as p:
        yield p


def recorded(pen: Pen, fail_on: type | None = None) -> list[HostMessage]:
    """Record every command sent; optionally make the pen refuse one kind (fault injection)."""
    sent: list[HostMessage] = []
    real = pen.execute

    def execute(command: HostMessage) -> Any:
        sent.append(command)
        if fail_on is not None and type(command) is fail_on:
            raise NakError(type(command).__name__, NakCode.INVALID_VALUE, "injected refusal")
        return real(command)

    pen.execute = execute  # type: ignore[method-assign]
    return sent


def resolved_for(pen: Pen, name: str, zone: str, session: int, **kw: Any) -> ResolvedSetpoints:
    loaded = ProfileLibrary.default().load(name)
    limits = limits_for(loaded, pen=pen.identity.limits, pen_name=f"pen {pen.serial}")
    return resolve(loaded, zone, session, limits=limits, **kw)


def wait_for(pred: Callable[[], bool], timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def test_apply_sets_exactly_the_resolved_values(pen: Pen) -> None:
    resolved = resolved_for(pen, "smp-dotting", "FRN", 2, skin=["oily"], scar="FUE")
    applied = apply_setpoints(pen, resolved)
    truth = sim_setpoints(pen)
    assert truth["speed_hz"] == resolved.speed_hz == 103.95
    assert truth["stroke_mm"] == resolved.stroke_mm
    assert truth["depth_mm"] == resolved.depth_mm
    assert truth["run_mode"] == 1
    assert (truth["ramp_ms"], truth["pulse_on_ms"], truth["pulse_off_ms"]) == (100, 120, 180)
    assert applied.setpoints.speed_hz == resolved.speed_hz
    assert wait_for(lambda: pen.latest is not None and pen.latest.setpoint_chz == 10395)


def test_apply_emits_the_setpoints_and_the_profile_hash(pen: Pen) -> None:
    seen: list[HostEvent] = []
    pen.subscribe(lambda n: seen.append(n) if isinstance(n, HostEvent) else None)
    resolved = resolved_for(pen, "smp-base", "HL", 2)
    applied = apply_setpoints(pen, resolved)
    [event] = [e for e in seen if e.kind == "profile_applied"]
    assert event is applied.event
    assert event.data["profile_hash"] == resolved.profile_hash
    assert event.data["setpoints"] == resolved.values()
    assert event.data["zone"] == "HL" and event.data["session"] == 2
    assert event.data["simulated"] is True


def test_apply_is_all_or_nothing_when_the_pen_clamps_a_value(pen: Pen) -> None:
    first = apply_setpoints(pen, resolved_for(pen, "smp-base", "HL", 2))
    before = sim_setpoints(pen)
    pen.write_config(ConfigKey.SPEED_CAP_CHZ, 10_500)  # this pen's own cap: 105 Hz
    with pytest.raises(ProfileApplyError) as info:
        apply_setpoints(pen, resolved_for(pen, "smp-base", "OCC", 2), previous=first.setpoints)
    message = str(info.value)
    assert message.startswith(
        "applying the profile failed at speed_hz = 115.0: the pen applied 10500 where 11500 "
        "was sent (wire units): it clamped the value to a limit of its own"
    )
    assert message.endswith("The pen is stopped and its previous setpoints are restored.")
    assert sim_setpoints(pen) == before
    failed = [
        n for n in pen.notices.latest(50) if getattr(n, "kind", None) == "profile_apply_failed"
    ]
    assert failed and failed[-1].data["field"] == "speed_hz"  # type: ignore[union-attr]


def test_a_refused_step_restores_the_previous_setpoints(pen: Pen) -> None:
    first = apply_setpoints(pen, resolved_for(pen, "smp-base", "HL", 2))
    pen.arm()
    before = sim_setpoints(pen)
    recorded(pen, fail_on=SetRunMode)
    with pytest.raises(ProfileApplyError) as info:
        apply_setpoints(pen, resolved_for(pen, "smp-dotting", "CRN", 2), previous=first.setpoints)
    assert str(info.value).startswith(
        "applying the profile failed at run_mode = pulsed: pen refused SetRunMode: injected refusal"
    )
    after = sim_setpoints(pen)
    assert after == before
    assert after["armed"] and not after["motor_on"]


def test_unknown_previous_setpoints_leave_the_pen_stopped_and_disarmed(pen: Pen) -> None:
    pen.arm()
    pen.write_config(ConfigKey.SPEED_CAP_CHZ, 10_000)
    with pytest.raises(ProfileApplyError) as info:
        apply_setpoints(pen, resolved_for(pen, "smp-base", "FRN", 2))
    assert "stopped and DISARMED because this could not be put back: the stroke and depth" in str(
        info.value
    )
    truth = sim_setpoints(pen)
    assert not truth["armed"] and not truth["motor_on"]
    assert truth["speed_hz"] == 0.0  # the one setpoint telemetry told us, put back


def test_a_value_outside_the_pens_limits_sends_nothing(pen: Pen) -> None:
    resolved = resolved_for(pen, "smp-base", "FRN", 2)
    tight = replace(pen.identity.limits, max_depth_mm=0.5)
    pen.identity = replace(pen.identity, limits=tight)
    sent = recorded(pen)
    with pytest.raises(SetpointOutsideLimitsError, match=r"at most 0\.5 mm \(pen SIM\d+'s own"):
        apply_setpoints(pen, resolved)
    with pytest.raises(SetpointOutsideLimitsError):
        resolved_for(pen, "smp-base", "FRN", 2)
    assert sent == []


def test_a_needle_the_pen_does_not_take_sends_nothing(pen: Pen, write: Write) -> None:
    clinic = load_clinic(
        str(
            write(
                "clinic.toml",
                f"[pens.{pen.serial}]\n"
                'accepted_needles = [{ needle = "3RL", needle_diameter_mm = 0.25 }]\n',
            )
        )
    )
    sent = recorded(pen)
    with pytest.raises(NeedleNotAcceptedError) as info:
        apply_setpoints(pen, resolved_for(pen, "smp-base", "HL", 2), clinic=clinic)
    assert (
        f'smp-base: zone HL needle = "1RL 0.18 mm": pen {pen.serial} does not accept this '
        f"cartridge; it accepts 3RL 0.25 mm (clinic settings {clinic.path} "
        f"[pens.{pen.serial}] accepted_needles)"
    ) in str(info.value)
    assert sent == []


def test_pulsed_profile_on_a_pen_without_pulsed_mode_sends_nothing(pen: Pen) -> None:
    caps = pen.identity.capabilities & ~Capability.PULSED_MODE
    pen.identity = replace(pen.identity, capabilities=caps)
    sent = recorded(pen)
    with pytest.raises(ProfileApplyError, match="the pen has no pulsed mode"):
        apply_setpoints(pen, resolved_for(pen, "smp-dotting", "HL", 2))
    assert sent == []
