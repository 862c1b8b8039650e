"""Alarms: what the pen and the host warn about, kept until the practitioner acknowledges.

Pure logic (no Textual), so the rules -- what is an alarm, how severe, when it clears --
are tested without a screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from smpctl.client import HostEvent, LinkEvent, LinkEventKind, Notice
from smpctl.protocol import STOP_FAULTS, Event, EventKind, Fault, StopReason

STOP = "STOP"
WARN = "WARN"


@dataclass(frozen=True)
class HostAlarm:
    """An alarm the host decides (a dose limit, an interval, a cartridge), raised as a host
    event on the pen's notice stream: the board shows it like any notice and the recorder
    journals it as an event of ``kind`` with ``data``."""

    kind: str
    severity: str
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Alarm:
    severity: str
    text: str
    host_t: float
    count: int = 1


def fault_name(code: int) -> str:
    try:
        return Fault(code).name or f"fault 0x{code:04x}"
    except ValueError:
        return f"fault 0x{code:04x}"


_FAULT_TEXT: dict[int, str] = {
    Fault.STALL: "needle STALLED: the pen stopped (a stalled needle tears skin). Check the "
    "cartridge, then re-arm",
    Fault.OVERCURRENT: "motor OVER-CURRENT: the pen stopped. Check the cartridge and cam",
    Fault.OVERTEMP: "handpiece OVER 41 °C: the pen stopped. Let it cool below 39 °C",
    Fault.ENCODER: "speed sensor FAILED: the pen stopped. Do not continue with this pen",
    Fault.WATCHDOG: "host heartbeat lost: the pen stopped itself",
    Fault.UNDERSPEED: "speed below 80 % of setpoint: dots may blur, lighten your hand",
    Fault.BATTERY_LOW: "battery below 15 %: finish the dot, then change the battery",
    Fault.SUPPLY_LOW: "supply voltage low: speed may sag",
    Fault.TEMP_HIGH: "handpiece warm (over 39 °C): it stops at 41 °C",
    Fault.DEPTH_WARN: "depth above 1.5 mm: check the setting is intended",
}


def notice_text(notice: Notice) -> str:
    """A notice as one line of the event log (every notice, alarm or not)."""
    if isinstance(notice, LinkEvent):
        return f"LINK {notice.kind.value}: {notice.message}"
    if isinstance(notice, HostEvent):
        return f"{notice.kind}: {notice.message}"
    kind = notice.event_kind
    name = kind.name if isinstance(kind, EventKind) else f"event {kind}"
    extra = ""
    if notice.kind == EventKind.MOTOR_STOPPED:
        try:
            extra = f" ({StopReason(notice.code).name.lower()})"
        except ValueError:
            extra = ""
    return f"pen {name}{extra}"


def alarm_for(notice: Notice) -> tuple[str, str] | None:
    """The (severity, text) alarm a notice raises, or None."""
    if isinstance(notice, LinkEvent):
        if notice.kind is LinkEventKind.LOST:
            return STOP, notice.message
        if notice.kind is LinkEventKind.WRONG_PEN:
            return STOP, notice.message
        if notice.kind is LinkEventKind.RECONNECTED:
            return WARN, notice.message
        return None
    if isinstance(notice, HostEvent):
        severity = notice.data.get("alarm")
        if severity in (STOP, WARN):
            return str(severity), notice.message
        return None
    if isinstance(notice, Event):
        kind = notice.kind
        if kind == EventKind.FAULT_RAISED:
            severity = STOP if notice.code & STOP_FAULTS else WARN
            return severity, _FAULT_TEXT.get(notice.code, fault_name(notice.code))
        if kind == EventKind.WATCHDOG_STOP:
            return STOP, (
                f"WATCHDOG STOP: the pen heard no heartbeat for {notice.value} ms and stopped "
                "itself. Re-arm when ready"
            )
        if kind == EventKind.ESTOP:
            return STOP, "EMERGENCY STOP latched: press a to re-arm"
        if kind == EventKind.TX_OVERFLOW:
            return WARN, f"pen dropped {notice.value} telemetry samples (link too slow)"
        if kind == EventKind.SETPOINT_CLAMPED:
            return WARN, f"the pen clamped a setpoint to {notice.value}"
        if kind == EventKind.MOTOR_STOPPED and notice.code == StopReason.FAULT:
            return None  # the FAULT_RAISED alarm says why
    return None


@dataclass
class AlarmBoard:
    """Unacknowledged alarms, newest first; a repeat of the same alarm counts up."""

    active: list[Alarm] = field(default_factory=list)
    version: int = 0
    """Bumped on every change, so a view redraws only when something changed."""

    def raise_for(self, notice: Notice, host_t: float) -> Alarm | None:
        found = alarm_for(notice)
        if found is None:
            return None
        severity, text = found
        self.version += 1
        for alarm in self.active:
            if alarm.text == text:
                alarm.count += 1
                alarm.host_t = host_t
                return alarm
        alarm = Alarm(severity, text, host_t)
        self.active.insert(0, alarm)
        return alarm

    def raise_host(self, severity: str, text: str, host_t: float) -> Alarm:
        alarm = Alarm(severity, text, host_t)
        self.active.insert(0, alarm)
        self.version += 1
        return alarm

    def acknowledge_all(self) -> int:
        n = len(self.active)
        self.version += 1
        self.active.clear()
        return n

    @property
    def has_stop(self) -> bool:
        return any(a.severity == STOP for a in self.active)
