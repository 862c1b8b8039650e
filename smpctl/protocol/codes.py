"""Numbers that appear on the wire, named once.

Everything here is part of protocol version 1.0 (docs/protocol.md). Adding members is a
minor-version change; renumbering one is a major-version change.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 0

SOF = 0xA5
"""Start-of-frame byte. Chosen with alternating bits so a stuck-high or stuck-low line never
looks like a frame start."""

HEADER_SIZE = 4  # SOF, LEN, SEQ, TYPE
CRC_SIZE = 2
OVERHEAD = HEADER_SIZE + CRC_SIZE
MAX_PAYLOAD = 200
"""A LEN above this is rejected at once, so a corrupted length byte never makes a receiver
wait for (and then discard) hundreds of bytes of good frames."""
MAX_FRAME = OVERHEAD + MAX_PAYLOAD

FRAME_GAP_S = 0.02
"""A receiver abandons a partial frame after this much silence (see StreamDecoder.expire)."""

BOOTLOADER_MAGIC = 0xDF00B007
"""REBOOT_BOOTLOADER must carry this value, so a corrupted frame can never reboot a pen."""


class MsgType(IntEnum):
    # host -> pen
    HELLO = 0x01
    HEARTBEAT = 0x02
    SET_SPEED = 0x03
    SET_STROKE = 0x04
    SET_DEPTH = 0x05
    SET_RUN_MODE = 0x06
    ARM = 0x10
    DISARM = 0x11
    RUN = 0x12
    STOP = 0x13
    ESTOP = 0x14
    SET_TELEMETRY_RATE = 0x20
    READ_PARAM = 0x21
    WRITE_PARAM = 0x22
    REBOOT_BOOTLOADER = 0x30
    SIM_CONTROL = 0x3F
    # pen -> host
    HELLO_REPLY = 0x81
    ACK = 0x82
    NAK = 0x83
    TELEMETRY = 0x84
    EVENT = 0x85
    PARAM_VALUE = 0x86


class NakCode(IntEnum):
    """Why a pen refused a command. The text is what a host shows a user."""

    UNKNOWN_COMMAND = 1
    BAD_LENGTH = 2
    INVALID_VALUE = 3
    NOT_ARMED = 4
    ESTOP_LATCHED = 5
    FAULT_ACTIVE = 6
    BATTERY_LOW = 7
    BUSY = 8
    VERSION_MISMATCH = 9
    NO_HANDSHAKE = 10
    UNKNOWN_PARAM = 11
    READ_ONLY = 12
    STORAGE_ERROR = 13
    BAD_MAGIC = 14
    NOT_SIMULATED = 15

    @property
    def reason(self) -> str:
        return _NAK_REASONS[self]


_NAK_REASONS: dict[NakCode, str] = {
    NakCode.UNKNOWN_COMMAND: "the pen does not know this command (update its firmware?)",
    NakCode.BAD_LENGTH: "the command's payload has the wrong length",
    NakCode.INVALID_VALUE: "the value is not valid for this command (e.g. depth above stroke)",
    NakCode.NOT_ARMED: "the pen is not armed: arm it before running",
    NakCode.ESTOP_LATCHED: "emergency stop is latched: re-arm the pen to clear it",
    NakCode.FAULT_ACTIVE: "a fault is active (see the fault flags): clear its cause first",
    NakCode.BATTERY_LOW: "battery below 15 %: charge or change the battery",
    NakCode.BUSY: "not allowed while the motor runs: stop first",
    NakCode.VERSION_MISMATCH: "the host speaks an incompatible protocol major version",
    NakCode.NO_HANDSHAKE: "send HELLO first",
    NakCode.UNKNOWN_PARAM: "no such configuration or calibration key",
    NakCode.READ_ONLY: "this key cannot be written",
    NakCode.STORAGE_ERROR: "the pen could not store the value (non-volatile memory error)",
    NakCode.BAD_MAGIC: "wrong magic value: refused so a corrupted frame cannot reboot the pen",
    NakCode.NOT_SIMULATED: "simulator controls are accepted by the simulated pen only",
}


class Status(IntFlag):
    """Telemetry status byte: the pen's state machine at the sample time."""

    PEDAL_DOWN = 0x01
    ARMED = 0x02
    RUN_ENABLED = 0x04
    MOTOR_ON = 0x08
    ESTOP_LATCHED = 0x10
    HOST_ALIVE = 0x20
    CALIBRATED = 0x40
    IN_RAMP = 0x80


class Fault(IntFlag):
    """Telemetry fault bits. STOP_FAULTS stop the motor and disarm; the others warn."""

    STALL = 0x0001
    OVERCURRENT = 0x0002
    OVERTEMP = 0x0004
    BATTERY_LOW = 0x0008
    ENCODER = 0x0010
    UNDERSPEED = 0x0020
    WATCHDOG = 0x0040
    SUPPLY_LOW = 0x0080
    TEMP_HIGH = 0x0100
    DEPTH_WARN = 0x0200


STOP_FAULTS = Fault.STALL | Fault.OVERCURRENT | Fault.OVERTEMP | Fault.ENCODER | Fault.WATCHDOG


class Capability(IntFlag):
    DEPTH_MOTOR = 0x0001
    STROKE_ADJUST = 0x0002
    PULSED_MODE = 0x0004
    BATTERY = 0x0008
    TEMPERATURE = 0x0010
    CURRENT_SENSE = 0x0020
    DFU_BOOTLOADER = 0x0040
    SIMULATED = 0x0080


class EventKind(IntEnum):
    BOOT = 1
    PEDAL_DOWN = 2
    PEDAL_UP = 3
    FAULT_RAISED = 4
    FAULT_CLEARED = 5
    WATCHDOG_STOP = 6
    SETPOINT_CLAMPED = 7
    ESTOP = 8
    ARMED = 9
    DISARMED = 10
    MOTOR_STOPPED = 11
    TX_OVERFLOW = 12


class StopReason(IntEnum):
    """EVENT MOTOR_STOPPED code: why the motor went to zero."""

    PEDAL_RELEASED = 1
    HOST_STOP = 2
    ESTOP = 3
    FAULT = 4
    WATCHDOG = 5
    DISARMED = 6


class RunMode(IntEnum):
    CONTINUOUS = 0
    PULSED = 1


class ParamTable(IntEnum):
    CONFIG = 0
    CALIBRATION = 1


class ConfigKey(IntEnum):
    WATCHDOG_MS = 1
    SLEW_HZ_PER_S = 2
    SPEED_CAP_CHZ = 3
    TELEMETRY_HZ = 4
    BAUD = 5


class CalibrationKey(IntEnum):
    SPEED_GAIN_PPM = 1
    SPEED_OFFSET_CHZ = 2
    SPEED_CAL_DAY = 3
    SPEED_CAL_EXPIRES_DAY = 4
    DEPTH_GAIN_PPM = 5
    DEPTH_OFFSET_UM = 6
    DEPTH_CAL_DAY = 7
    DEPTH_CAL_EXPIRES_DAY = 8


class SimAction(IntEnum):
    """SIM_CONTROL actions: the simulated pen's outside world (foot, skin, faults, cable)."""

    PEDAL = 1
    SKIN_LOAD = 2
    INJECT_FAULT = 3
    CLEAR_FAULTS = 4
    BATTERY_PCT = 5
    SUPPLY_MV = 6
    LINK_DROP_MS = 7
    CORRUPT_BYTES = 8
    AMBIENT_CDEGC = 9


class SimFault(IntEnum):
    """INJECT_FAULT values: physical faults the simulator can be told to have."""

    STALL = 1
    OVERCURRENT = 2
    OVERHEAT = 3
    LOW_BATTERY = 4
    ENCODER = 5


USB_VID = 0x1209
"""pid.codes vendor id used by the reference pen (see docs/protocol.md, physical layer)."""
USB_PID_PEN = 0x5350
"""The pen's application firmware: a USB CDC ACM serial port."""
USB_PID_DFU = 0x5351
"""The pen's bootloader: a USB DFU 1.1 device."""
