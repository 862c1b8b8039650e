"""Protocol messages as immutable values.

Fields hold the wire integers, with their unit in the name (``speed_chz`` is 0.01 Hz), so a
decoded message round-trips exactly. Properties give the physical values. NamedTuples, not
dataclasses: telemetry is built thousands of times a second and a NamedTuple is made straight
from ``struct.unpack_from`` at a third of a dataclass's cost.
"""

from __future__ import annotations

from typing import NamedTuple

from .codes import Capability, EventKind, Fault, NakCode, Status

# --------------------------------------------------------------------- host -> pen


class Hello(NamedTuple):
    version_major: int
    version_minor: int


class Heartbeat(NamedTuple):
    counter: int


class SetSpeed(NamedTuple):
    speed_chz: int


class SetStroke(NamedTuple):
    stroke_um: int


class SetDepth(NamedTuple):
    depth_um: int


class SetRunMode(NamedTuple):
    mode: int
    ramp_ms: int
    pulse_on_ms: int
    pulse_off_ms: int


class Arm(NamedTuple):
    pass


class Disarm(NamedTuple):
    pass


class Run(NamedTuple):
    pass


class Stop(NamedTuple):
    pass


class EStop(NamedTuple):
    pass


class SetTelemetryRate(NamedTuple):
    rate_hz: int


class ReadParam(NamedTuple):
    table: int
    key: int


class WriteParam(NamedTuple):
    table: int
    key: int
    value: int


class RebootBootloader(NamedTuple):
    magic: int


class SimControl(NamedTuple):
    action: int
    value: int


# --------------------------------------------------------------------- pen -> host


class HelloReply(NamedTuple):
    version_major: int
    version_minor: int
    model: str
    fw_major: int
    fw_minor: int
    fw_patch: int
    serial: str
    capabilities: int
    max_speed_chz: int
    min_stroke_um: int
    max_stroke_um: int
    min_depth_um: int
    max_depth_um: int
    max_current_ma: int
    max_temp_cdegc: int
    watchdog_ms: int
    max_telemetry_hz: int
    max_slew_hz_per_s: int

    @property
    def firmware(self) -> str:
        return f"{self.fw_major}.{self.fw_minor}.{self.fw_patch}"

    @property
    def protocol_version(self) -> str:
        return f"{self.version_major}.{self.version_minor}"

    @property
    def caps(self) -> Capability:
        return Capability(self.capabilities)

    @property
    def simulated(self) -> bool:
        return bool(self.capabilities & Capability.SIMULATED)


class Ack(NamedTuple):
    cmd_seq: int
    cmd_type: int
    value: int
    """The value the pen applied (after clamping) for setpoint commands, else 0."""


class Nak(NamedTuple):
    cmd_seq: int
    cmd_type: int
    code: int

    @property
    def reason(self) -> str:
        try:
            return NakCode(self.code).reason
        except ValueError:
            return f"unknown error code {self.code}"


class Telemetry(NamedTuple):
    t_us: int
    sample_seq: int
    speed_chz: int
    setpoint_chz: int
    current_ma: int
    voltage_mv: int
    temp_cdegc: int
    strokes: int
    depth_um: int
    battery_pct: int
    status: int
    faults: int

    @property
    def speed_hz(self) -> float:
        return self.speed_chz / 100.0

    @property
    def setpoint_hz(self) -> float:
        return self.setpoint_chz / 100.0

    @property
    def current_a(self) -> float:
        return self.current_ma / 1000.0

    @property
    def voltage_v(self) -> float:
        return self.voltage_mv / 1000.0

    @property
    def temp_c(self) -> float:
        return self.temp_cdegc / 100.0

    @property
    def depth_mm(self) -> float:
        return self.depth_um / 1000.0

    @property
    def pedal_down(self) -> bool:
        return bool(self.status & Status.PEDAL_DOWN)

    @property
    def motor_on(self) -> bool:
        return bool(self.status & Status.MOTOR_ON)

    @property
    def flags(self) -> Status:
        return Status(self.status)

    @property
    def fault_flags(self) -> Fault:
        return Fault(self.faults)


class Event(NamedTuple):
    event_seq: int
    t_us: int
    kind: int
    code: int
    value: int

    @property
    def event_kind(self) -> EventKind | int:
        try:
            return EventKind(self.kind)
        except ValueError:
            return self.kind


class ParamValue(NamedTuple):
    table: int
    key: int
    value: int


class Unknown(NamedTuple):
    """A frame with a good CRC that this version cannot read: an unknown type code, or a
    payload shorter than its type needs. Returned (and counted) rather than dropped so a pen
    can NAK it with UNKNOWN_COMMAND or BAD_LENGTH."""

    msg_type: int
    payload: bytes


HostMessage = (
    Hello
    | Heartbeat
    | SetSpeed
    | SetStroke
    | SetDepth
    | SetRunMode
    | Arm
    | Disarm
    | Run
    | Stop
    | EStop
    | SetTelemetryRate
    | ReadParam
    | WriteParam
    | RebootBootloader
    | SimControl
)
PenMessage = HelloReply | Ack | Nak | Telemetry | Event | ParamValue
Message = HostMessage | PenMessage | Unknown
