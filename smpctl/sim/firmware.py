"""The pen firmware: protocol state machine, speed loop and safety duties.

Implements /work/notes/semantics.md (docs/protocol.md). It sees the pen only through
``PenHardware``'s sensors and its PWM duty, and the host only through frames in and a
transmit queue out. One instance lives from one boot to the next: a reboot builds a new
one, so no state can leak across a reset.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import Enum, IntEnum
from typing import NamedTuple

from smpctl.protocol import (
    BOOTLOADER_MAGIC,
    OVERHEAD,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    STOP_FAULTS,
    Ack,
    Arm,
    CalibrationKey,
    Capability,
    ConfigKey,
    Disarm,
    EStop,
    Event,
    EventKind,
    Fault,
    Heartbeat,
    Hello,
    HelloReply,
    Message,
    MsgType,
    Nak,
    NakCode,
    ParamTable,
    ParamValue,
    PenMessage,
    ReadParam,
    RebootBootloader,
    Run,
    RunMode,
    SetDepth,
    SetRunMode,
    SetSpeed,
    SetStroke,
    SetTelemetryRate,
    SimAction,
    SimControl,
    Status,
    Stop,
    StopReason,
    Telemetry,
    Unknown,
    WriteParam,
    encode,
    payload_size,
    type_of,
)

from .eeprom import Eeprom
from .hardware import PenHardware
from .motor import SpeedLoop
from .params import CALIBRATION_SPECS, ParamSpec, config_specs, key_name
from .uart import TransmitQueue

MODEL = "SMP-Sim R1"
FIRMWARE_VERSION = (1, 0, 0)
CAPABILITIES = (
    Capability.DEPTH_MOTOR
    | Capability.STROKE_ADJUST
    | Capability.PULSED_MODE
    | Capability.BATTERY
    | Capability.TEMPERATURE
    | Capability.CURRENT_SENSE
    | Capability.DFU_BOOTLOADER
    | Capability.SIMULATED
)
MAX_SPEED_CHZ = 15000
MIN_STROKE_UM, MAX_STROKE_UM = 2000, 4000
MIN_DEPTH_UM, MAX_DEPTH_UM = 0, 2000
DEPTH_WARN_UM = 1500
MAX_CURRENT_MA = 3000
MAX_TEMP_CDEGC = 4100
TEMP_HIGH_CDEGC = 3900
"""Warning level, and the level an over-heated pen must cool below before it re-arms."""
MAX_TELEMETRY_HZ = 2000
BATTERY_LOW_PCT = 15
SUPPLY_LOW_V = 6.0
RAMP_MS_MAX = 2000
PULSE_MS = (10, 1000)

UNDERSPEED_RATIO, UNDERSPEED_US = 0.8, 250_000
STALL_RATIO, STALL_US = 0.5, 100_000
STALL_MIN_REFERENCE_HZ = 10.0
"""Below this the rotor may still be breaking away from static friction: not a stall."""
ENCODER_US = 50_000
ENCODER_MIN_EMF_HZ = 10.0
OVERCURRENT_WINDOW_US = 5_000
TX_OVERFLOW_EVENT_US = 1_000_000
HELD_EVENTS_MAX = 32
"""Events kept while no host session exists (BOOT first); beyond this the oldest go."""
DFU_US = 1_500_000
"""How long the pen stays away in its bootloader when nobody flashes it."""

TELEMETRY_FRAME = OVERHEAD + payload_size(MsgType.TELEMETRY)
EVENT_FRAME = OVERHEAD + payload_size(MsgType.EVENT)

_HOST_COMMANDS = frozenset(
    {
        MsgType.HELLO,
        MsgType.HEARTBEAT,
        MsgType.SET_SPEED,
        MsgType.SET_STROKE,
        MsgType.SET_DEPTH,
        MsgType.SET_RUN_MODE,
        MsgType.ARM,
        MsgType.DISARM,
        MsgType.RUN,
        MsgType.STOP,
        MsgType.ESTOP,
        MsgType.SET_TELEMETRY_RATE,
        MsgType.READ_PARAM,
        MsgType.WRITE_PARAM,
        MsgType.REBOOT_BOOTLOADER,
        MsgType.SIM_CONTROL,
    }
)


class BootCause(IntEnum):
    POWER_ON = 0
    WATCHDOG_RESET = 1
    FROM_BOOTLOADER = 2
    LINK_REPLUG = 3


class DisarmCause(IntEnum):
    HOST = 0
    WATCHDOG = 1
    FAULT = 2
    ESTOP = 3


class Session(Enum):
    NONE = "none"
    COMPATIBLE = "compatible"
    MISMATCH = "mismatch"


class LinkLeave(NamedTuple):
    """The pen will leave the link once byte ``after_sent`` has gone out (its ACK)."""

    after_sent: int
    away_us: int
    boot_cause: BootCause


class Firmware:
    """One boot of the pen's firmware. Times are pen microseconds (``now_us``)."""

    def __init__(
        self,
        hardware: PenHardware,
        eeprom: Eeprom,
        tx: TransmitQueue,
        *,
        serial: str,
        baud: int,
        boot_us: int,
        boot_cause: BootCause,
        noise_rng: random.Random,
        version: tuple[int, int, int] = FIRMWARE_VERSION,
    ) -> None:
        self.version = version
        """What HELLO_REPLY reports: the image in the pen's flash (a flash changes it)."""
        self.hw = hardware
        self.eeprom = eeprom
        self.tx = tx
        self.serial = serial
        self.baud = baud
        self.boot_us = boot_us
        self._noise = noise_rng
        self._now_us = boot_us
        self.line_max_hz = tx.bytes_per_s // TELEMETRY_FRAME
        self._config_specs = config_specs(MAX_SPEED_CHZ, MAX_TELEMETRY_HZ)

        self.session = Session.NONE
        self.armed = False
        self.run_enabled = False
        self.estop_latched = False
        self.motor_on = False
        self.faults = Fault(0)
        self.motor_stopped_at_us: int | None = None

        self._tx_seq = 0
        self._event_seq = 0
        self._held_events: list[Event] = []
        self._deferred_events: list[Event] | None = None
        self._last_command: tuple[int, type, Message] | None = None
        self._last_reply = b""
        self.link_leave: LinkLeave | None = None

        self._setpoint_chz = 0
        self._stroke_um = 3000
        self._depth_um = 1000
        self._run_mode = RunMode.CONTINUOUS
        self._ramp_ms = 0
        self._pulse_on_us = 100_000
        self._pulse_off_us = 100_000

        self._reference_hz = 0.0
        self._start_ramp_hz_s: float | None = None
        self._pulse_phase_us = 0
        self._measured_hz = 0.0
        self._pedal_seen = hardware.pedal_down
        self._session_start_us = boot_us
        self._last_heartbeat_us: int | None = None
        self._underspeed_us = 0
        self._stall_us = 0
        self._encoder_us = 0
        self._current_window_us = 0
        self._current_window_sum = 0.0

        self.telemetry_hz = 0
        self._sample_index = 0
        self.next_sample_us: int | None = None
        self.sample_seq = 0
        self.telemetry_dropped = 0
        self._dropped_unreported = 0
        self._last_overflow_event_us: int | None = None

        self._loop = SpeedLoop(hardware.params.ke_v_s_per_rad)
        self._handlers: dict[type, Callable[[int, Message], None]] = {
            SetSpeed: self._set_speed,
            SetStroke: self._set_stroke,
            SetDepth: self._set_depth,
            SetRunMode: self._set_run_mode,
            Arm: self._arm,
            Disarm: self._disarm,
            Run: self._run,
            SetTelemetryRate: self._set_telemetry_rate,
            ReadParam: self._read_param,
            WriteParam: self._write_param,
            RebootBootloader: self._reboot_bootloader,
            SimControl: self._sim_control,
        }
        self._load_params()
        hardware.duty = 0.0
        self._emit(EventKind.BOOT, boot_cause, eeprom.count_boot())
        self._check_levels()

    # ================================================================== parameters

    def _param_spec(self, table: int, key: int) -> ParamSpec | None:
        if table == ParamTable.CONFIG:
            return self._config_specs.get(key)
        if table == ParamTable.CALIBRATION:
            return CALIBRATION_SPECS.get(key)
        return None

    def _param(self, table: ParamTable, key: int) -> int:
        if table == ParamTable.CONFIG and key == ConfigKey.BAUD:
            return self.baud
        spec = self._param_spec(table, key)
        name = key_name(table, key)
        assert spec is not None and name is not None
        stored = self.eeprom.get(table, name)
        return spec.default if stored is None or not spec.accepts(stored) else stored

    def _load_params(self) -> None:
        config, cal = ParamTable.CONFIG, ParamTable.CALIBRATION
        self.watchdog_ms = self._param(config, ConfigKey.WATCHDOG_MS)
        self.slew_hz_per_s = self._param(config, ConfigKey.SLEW_HZ_PER_S)
        self.speed_cap_chz = self._param(config, ConfigKey.SPEED_CAP_CHZ)
        self.default_telemetry_hz = self._param(config, ConfigKey.TELEMETRY_HZ)
        self._speed_gain = self._param(cal, CalibrationKey.SPEED_GAIN_PPM) / 1e6
        self._speed_offset_hz = self._param(cal, CalibrationKey.SPEED_OFFSET_CHZ) / 100.0
        self._depth_gain = self._param(cal, CalibrationKey.DEPTH_GAIN_PPM) / 1e6
        self._depth_offset_um = self._param(cal, CalibrationKey.DEPTH_OFFSET_UM)
        self.calibrated = self._param(cal, CalibrationKey.SPEED_CAL_DAY) != 0
        self._command_depth()

    def _command_depth(self) -> None:
        """The adjuster servoes on its own sensor, through the depth calibration."""
        self.hw.depth.target_um = (
            (self._depth_um - self._depth_offset_um) / self._depth_gain
        ) - self.hw.depth_sensor_offset_um

    # ================================================================== output

    def device_us(self) -> int:
        return (self._now_us - self.boot_us) & 0xFFFF_FFFF

    def _send(self, message: PenMessage) -> int:
        frame = encode(message, self._tx_seq)
        self._tx_seq = (self._tx_seq + 1) & 0xFF
        return self.tx.push_priority(frame)

    def _emit(self, kind: EventKind, code: int = 0, value: int = 0) -> None:
        event = Event(self._event_seq, self.device_us(), kind, code, value)
        self._event_seq = (self._event_seq + 1) & 0xFFFF
        if self.session is not Session.COMPATIBLE:
            self._held_events.append(event)
            del self._held_events[:-HELD_EVENTS_MAX]
        elif self._deferred_events is not None:
            self._deferred_events.append(event)
        else:
            self._send(event)

    def _reply(self, message: PenMessage) -> int:
        frame = encode(message, self._tx_seq)
        self._tx_seq = (self._tx_seq + 1) & 0xFF
        self._last_reply = frame
        return self.tx.push_priority(frame)

    def _ack(self, seq: int, msg_type: MsgType, value: int = 0) -> int:
        return self._reply(Ack(seq, msg_type, value))

    def _nak(self, seq: int, msg_type: int, code: NakCode) -> None:
        self._reply(Nak(seq, msg_type & 0xFF, code))

    # ================================================================== input

    def receive(self, frames: list[tuple[int, Message]], now_us: int) -> None:
        self._now_us = now_us
        for seq, message in frames:
            self._deferred_events = []
            try:
                self._dispatch(seq, message)
            finally:
                deferred, self._deferred_events = self._deferred_events, None
            for event in deferred:
                self._send(event)

    def _dispatch(self, seq: int, message: Message) -> None:
        kind = type(message)
        if kind is Heartbeat:
            self._heartbeat()
            return
        if kind is Hello:
            assert isinstance(message, Hello)
            self._hello(seq, message)
            return
        key = (seq, kind, message)
        if key == self._last_command and self._last_reply:
            self.tx.push_priority(self._last_reply)
            return
        self._last_command = key
        if isinstance(message, Unknown):
            code = (
                NakCode.BAD_LENGTH
                if message.msg_type in _HOST_COMMANDS
                else NakCode.UNKNOWN_COMMAND
            )
            self._nak(seq, message.msg_type, code)
            return
        msg_type = type_of(kind)
        if msg_type not in _HOST_COMMANDS:
            self._nak(seq, msg_type, NakCode.UNKNOWN_COMMAND)
        elif kind is Stop:
            self._stop(seq)
        elif kind is EStop:
            self._estop(seq)
        elif self.session is Session.NONE:
            self._nak(seq, msg_type, NakCode.NO_HANDSHAKE)
        elif self.session is Session.MISMATCH:
            self._nak(seq, msg_type, NakCode.VERSION_MISMATCH)
        else:
            self._handlers[kind](seq, message)

    # ================================================================== commands

    def _hello(self, seq: int, hello: Hello) -> None:
        """Always executed, even when repeated: a (re)started session must begin stopped
        and disarmed whoever sent the previous HELLO, and doing that twice is harmless."""
        self._stop_motor(StopReason.HOST_STOP)
        self.run_enabled = False
        was_armed = self.armed
        self.armed = False
        compatible = hello.version_major == PROTOCOL_MAJOR
        self._reply(
            HelloReply(
                PROTOCOL_MAJOR,
                PROTOCOL_MINOR,
                MODEL,
                *self.version,
                self.serial,
                int(CAPABILITIES),
                MAX_SPEED_CHZ,
                MIN_STROKE_UM,
                MAX_STROKE_UM,
                MIN_DEPTH_UM,
                MAX_DEPTH_UM,
                MAX_CURRENT_MA,
                MAX_TEMP_CDEGC,
                self.watchdog_ms,
                MAX_TELEMETRY_HZ,
                self.slew_hz_per_s,
            )
        )
        self._last_command = (seq, Hello, hello)
        self._session_start_us = self._now_us
        self._last_heartbeat_us = None
        if not compatible:
            self.session = Session.MISMATCH
            self._set_telemetry(0)
            return
        first = self.session is not Session.COMPATIBLE
        self.session = Session.COMPATIBLE
        if first:
            held, self._held_events = self._held_events, []
            assert self._deferred_events is not None
            self._deferred_events[:0] = held
        if was_armed:
            self._emit(EventKind.DISARMED, DisarmCause.HOST)
        self._set_telemetry(min(self.default_telemetry_hz, self.line_max_hz))

    def _heartbeat(self) -> None:
        self._last_heartbeat_us = self._now_us
        if self.faults & Fault.WATCHDOG:
            self.faults &= ~Fault.WATCHDOG
            self._emit(EventKind.FAULT_CLEARED, Fault.WATCHDOG, 0)

    def _set_speed(self, seq: int, message: Message) -> None:
        assert isinstance(message, SetSpeed)
        self._apply_speed(seq, message.speed_chz)

    def _apply_speed(self, seq: int, wanted: int) -> None:
        applied = min(wanted, MAX_SPEED_CHZ, self.speed_cap_chz)
        self._setpoint_chz = applied
        self._start_ramp_hz_s = None
        self._ack(seq, MsgType.SET_SPEED, applied)
        if applied != wanted:
            self._emit(EventKind.SETPOINT_CLAMPED, MsgType.SET_SPEED, applied)

    def _set_stroke(self, seq: int, message: Message) -> None:
        assert isinstance(message, SetStroke)
        if self.motor_on:
            return self._nak(seq, MsgType.SET_STROKE, NakCode.BUSY)
        applied = min(max(message.stroke_um, MIN_STROKE_UM), MAX_STROKE_UM)
        if applied < self._depth_um:
            return self._nak(seq, MsgType.SET_STROKE, NakCode.INVALID_VALUE)
        self._stroke_um = applied
        self._ack(seq, MsgType.SET_STROKE, applied)
        if applied != message.stroke_um:
            self._emit(EventKind.SETPOINT_CLAMPED, MsgType.SET_STROKE, applied)

    def _set_depth(self, seq: int, message: Message) -> None:
        assert isinstance(message, SetDepth)
        if self.motor_on:
            return self._nak(seq, MsgType.SET_DEPTH, NakCode.BUSY)
        applied = min(max(message.depth_um, MIN_DEPTH_UM), MAX_DEPTH_UM)
        if applied > self._stroke_um:
            return self._nak(seq, MsgType.SET_DEPTH, NakCode.INVALID_VALUE)
        self._depth_um = applied
        self._command_depth()
        self._ack(seq, MsgType.SET_DEPTH, applied)
        if applied != message.depth_um:
            self._emit(EventKind.SETPOINT_CLAMPED, MsgType.SET_DEPTH, applied)
        self._set_warning(Fault.DEPTH_WARN, applied > DEPTH_WARN_UM, applied)

    def _set_run_mode(self, seq: int, message: Message) -> None:
        assert isinstance(message, SetRunMode)
        if self.motor_on:
            return self._nak(seq, MsgType.SET_RUN_MODE, NakCode.BUSY)
        lo, hi = PULSE_MS
        valid = (
            message.mode in (RunMode.CONTINUOUS, RunMode.PULSED) and message.ramp_ms <= RAMP_MS_MAX
        )
        if valid and message.mode == RunMode.PULSED:
            valid = lo <= message.pulse_on_ms <= hi and lo <= message.pulse_off_ms <= hi
        if not valid:
            return self._nak(seq, MsgType.SET_RUN_MODE, NakCode.INVALID_VALUE)
        self._run_mode = RunMode(message.mode)
        self._ramp_ms = message.ramp_ms
        if self._run_mode is RunMode.PULSED:
            self._pulse_on_us = message.pulse_on_ms * 1000
            self._pulse_off_us = message.pulse_off_ms * 1000
        self._ack(seq, MsgType.SET_RUN_MODE)

    def _stop_cause_present(self) -> bool:
        """Is the cause of a latched stop fault still there? Over-temperature until the pen
        has cooled below 39 °C; a jammed rotor or dead encoder line until repaired; a lost
        host until its next heartbeat. An over-current cannot be measured at rest."""
        faults = self.faults
        hw = self.hw
        return bool(
            (faults & Fault.OVERTEMP and hw.thermal.temp_c * 100 >= TEMP_HIGH_CDEGC)
            or (faults & Fault.STALL and hw.rotor_locked)
            or (faults & Fault.ENCODER and not hw.encoder_ok)
            or faults & Fault.WATCHDOG
        )

    def _arm(self, seq: int, message: Message) -> None:
        if self._stop_cause_present():
            return self._nak(seq, MsgType.ARM, NakCode.FAULT_ACTIVE)
        if self.hw.power.battery_pct < BATTERY_LOW_PCT:
            return self._nak(seq, MsgType.ARM, NakCode.BATTERY_LOW)
        self.estop_latched = False
        self._ack(seq, MsgType.ARM)
        for fault in Fault:
            if fault & STOP_FAULTS & self.faults:
                self.faults &= ~fault
                self._emit(EventKind.FAULT_CLEARED, fault, 0)
        if not self.armed:
            self.armed = True
            self._emit(EventKind.ARMED, DisarmCause.HOST)

    def _disarm(self, seq: int, message: Message) -> None:
        self._ack(seq, MsgType.DISARM)
        self._stop_motor(StopReason.DISARMED)
        self.run_enabled = False
        if self.armed:
            self.armed = False
            self._emit(EventKind.DISARMED, DisarmCause.HOST)

    def _run(self, seq: int, message: Message) -> None:
        if self.estop_latched:
            return self._nak(seq, MsgType.RUN, NakCode.ESTOP_LATCHED)
        if not self.armed:
            return self._nak(seq, MsgType.RUN, NakCode.NOT_ARMED)
        if self.faults & STOP_FAULTS:
            return self._nak(seq, MsgType.RUN, NakCode.FAULT_ACTIVE)
        if self.hw.power.battery_pct < BATTERY_LOW_PCT:
            return self._nak(seq, MsgType.RUN, NakCode.BATTERY_LOW)
        self.run_enabled = True
        self._ack(seq, MsgType.RUN)

    def _stop(self, seq: int) -> None:
        """Executed in every state, before HELLO and on a version mismatch too: stopping
        must never be refused."""
        self._stop_motor(StopReason.HOST_STOP)
        self.run_enabled = False
        self._ack(seq, MsgType.STOP)

    def _estop(self, seq: int) -> None:
        speed = self._stop_motor(StopReason.ESTOP, emit=False)
        self.run_enabled = False
        self.estop_latched = True
        self._ack(seq, MsgType.ESTOP)
        self._emit(EventKind.ESTOP)
        if speed is not None:
            self._emit(EventKind.MOTOR_STOPPED, StopReason.ESTOP, speed)
        if self.armed:
            self.armed = False
            self._emit(EventKind.DISARMED, DisarmCause.ESTOP)

    def _set_telemetry_rate(self, seq: int, message: Message) -> None:
        assert isinstance(message, SetTelemetryRate)
        wanted = message.rate_hz
        applied = 0 if wanted == 0 else max(1, min(wanted, MAX_TELEMETRY_HZ, self.line_max_hz))
        self._set_telemetry(applied)
        self._ack(seq, MsgType.SET_TELEMETRY_RATE, applied)
        if applied != wanted:
            self._emit(EventKind.SETPOINT_CLAMPED, MsgType.SET_TELEMETRY_RATE, applied)

    def _read_param(self, seq: int, message: Message) -> None:
        assert isinstance(message, ReadParam)
        if key_name(message.table, message.key) is None:
            return self._nak(seq, MsgType.READ_PARAM, NakCode.UNKNOWN_PARAM)
        value = self._param(ParamTable(message.table), message.key)
        self._reply(ParamValue(message.table, message.key, value))

    def _write_param(self, seq: int, message: Message) -> None:
        assert isinstance(message, WriteParam)
        name = key_name(message.table, message.key)
        spec = self._param_spec(message.table, message.key)
        if name is None or spec is None:
            return self._nak(seq, MsgType.WRITE_PARAM, NakCode.UNKNOWN_PARAM)
        if spec.read_only:
            return self._nak(seq, MsgType.WRITE_PARAM, NakCode.READ_ONLY)
        if self.motor_on:
            return self._nak(seq, MsgType.WRITE_PARAM, NakCode.BUSY)
        if not spec.accepts(message.value):
            return self._nak(seq, MsgType.WRITE_PARAM, NakCode.INVALID_VALUE)
        try:
            self.eeprom.put(ParamTable(message.table), name, message.value)
        except OSError:
            return self._nak(seq, MsgType.WRITE_PARAM, NakCode.STORAGE_ERROR)
        self._load_params()
        self._ack(seq, MsgType.WRITE_PARAM, message.value)
        if self._setpoint_chz > self.speed_cap_chz:
            self._setpoint_chz = self.speed_cap_chz
            self._emit(EventKind.SETPOINT_CLAMPED, MsgType.SET_SPEED, self._setpoint_chz)

    def _reboot_bootloader(self, seq: int, message: Message) -> None:
        assert isinstance(message, RebootBootloader)
        if message.magic != BOOTLOADER_MAGIC:
            return self._nak(seq, MsgType.REBOOT_BOOTLOADER, NakCode.BAD_MAGIC)
        if self.motor_on:
            return self._nak(seq, MsgType.REBOOT_BOOTLOADER, NakCode.BUSY)
        out_at = self._ack(seq, MsgType.REBOOT_BOOTLOADER)
        self.link_leave = LinkLeave(out_at, DFU_US, BootCause.FROM_BOOTLOADER)

    def _sim_control(self, seq: int, message: Message) -> None:
        assert isinstance(message, SimControl)
        action, value = message.action, message.value
        if action == SimAction.LINK_DROP_MS:
            if not 1 <= value <= 600_000:
                return self._nak(seq, MsgType.SIM_CONTROL, NakCode.INVALID_VALUE)
            out_at = self._ack(seq, MsgType.SIM_CONTROL, value)
            self.link_leave = LinkLeave(out_at, value * 1000, BootCause.LINK_REPLUG)
        elif action == SimAction.CORRUPT_BYTES:
            if not 0 <= value <= 1_000_000:
                return self._nak(seq, MsgType.SIM_CONTROL, NakCode.INVALID_VALUE)
            out_at = self._ack(seq, MsgType.SIM_CONTROL, value)
            self.tx.corrupt(value, out_at)
        elif self.hw.apply_world_control(action, value):
            self._ack(seq, MsgType.SIM_CONTROL, value)
        else:
            self._nak(seq, MsgType.SIM_CONTROL, NakCode.INVALID_VALUE)

    # ================================================================== motor state

    def _stop_motor(self, reason: StopReason, *, emit: bool = True) -> int | None:
        """Motor command to zero now (active braking); MOTOR_STOPPED if it was on.
        Returns the speed (chz) it was stopped at, None if it was not on."""
        if not self.motor_on:
            return None
        self.motor_on = False
        self.hw.duty = 0.0
        self._loop.reset()
        self._reference_hz = 0.0
        self.motor_stopped_at_us = self._now_us
        speed = round(self._measured_hz * 100)
        self._underspeed_us = self._stall_us = self._encoder_us = 0
        self._current_window_us = 0
        self._current_window_sum = 0.0
        if self.faults & Fault.UNDERSPEED:
            self._set_warning(Fault.UNDERSPEED, False, speed)
        if self.faults & Fault.SUPPLY_LOW:
            self._set_warning(Fault.SUPPLY_LOW, False, round(self.hw.bus_v * 1000))
        if emit:
            self._emit(EventKind.MOTOR_STOPPED, reason, speed)
        return speed

    def _motor_may_start(self) -> bool:
        """A low battery lets a running pass finish (never stop mid-dot) but starts no
        new one."""
        return (
            self.armed
            and self.run_enabled
            and self.hw.pedal_down
            and not self.estop_latched
            and not self.faults & STOP_FAULTS
            and not self.faults & Fault.BATTERY_LOW
        )

    def _set_warning(self, fault: Fault, active: bool, value: int) -> None:
        if active == bool(self.faults & fault):
            return
        if active:
            self.faults |= fault
            self._emit(EventKind.FAULT_RAISED, fault, value)
        else:
            self.faults &= ~fault
            self._emit(EventKind.FAULT_CLEARED, fault, value)

    def _raise_stop_fault(self, fault: Fault, value: int) -> None:
        if not self.faults & fault:
            self.faults |= fault
            self._emit(EventKind.FAULT_RAISED, fault, value)
        self._stop_motor(StopReason.FAULT)
        self.run_enabled = False
        if self.armed:
            self.armed = False
            self._emit(EventKind.DISARMED, DisarmCause.FAULT)

    def _watchdog_trip(self, silent_us: int) -> None:
        ms = silent_us // 1000
        self.faults |= Fault.WATCHDOG
        self._emit(EventKind.FAULT_RAISED, Fault.WATCHDOG, ms)
        self._emit(EventKind.WATCHDOG_STOP, 0, ms)
        self._stop_motor(StopReason.WATCHDOG)
        self.run_enabled = False
        if self.armed:
            self.armed = False
            self._emit(EventKind.DISARMED, DisarmCause.WATCHDOG)

    # ================================================================== control tick

    @property
    def host_alive(self) -> bool:
        last = self._last_heartbeat_us
        return last is not None and self._now_us - last <= self.watchdog_ms * 1000

    def tick(self, now_us: int, dt: float) -> None:
        """One control period: sensors, safety duties, speed loop."""
        self._now_us = now_us
        hw = self.hw
        raw_hz = hw.encoder_speed_hz
        measured = raw_hz * self._speed_gain + self._speed_offset_hz if raw_hz > 0.0 else 0.0
        self._measured_hz = measured if measured > 0.0 else 0.0

        pedal = hw.pedal_down
        if pedal != self._pedal_seen:
            self._pedal_seen = pedal
            self._emit(EventKind.PEDAL_DOWN if pedal else EventKind.PEDAL_UP)
            if not pedal:
                self._stop_motor(StopReason.PEDAL_RELEASED)

        if self.session is Session.COMPATIBLE and (self.armed or self.motor_on):
            last = self._last_heartbeat_us
            silent = now_us - (self._session_start_us if last is None else last)
            if silent > self.watchdog_ms * 1000:
                self._watchdog_trip(silent)

        if self.motor_on:
            self._running_duties(now_us, dt)
        self._check_levels()
        if self._dropped_unreported:
            last_event = self._last_overflow_event_us
            if (last_event is None or now_us - last_event >= TX_OVERFLOW_EVENT_US) and self.tx.fits(
                EVENT_FRAME
            ):
                self._last_overflow_event_us = now_us
                dropped, self._dropped_unreported = self._dropped_unreported, 0
                self._emit(EventKind.TX_OVERFLOW, 0, dropped)

        if not self.motor_on and self._motor_may_start():
            self.motor_on = True
            self._reference_hz = 0.0
            self._loop.reset()
            self._pulse_phase_us = 0
            self._start_ramp_hz_s = (
                self._setpoint_chz / 100.0 / (self._ramp_ms / 1000.0) if self._ramp_ms else None
            )
        if self.motor_on:
            self._control(dt)
        else:
            hw.duty = 0.0

    def _target_hz(self, dt: float) -> float:
        if self._run_mode is RunMode.PULSED:
            period = self._pulse_on_us + self._pulse_off_us
            self._pulse_phase_us = (self._pulse_phase_us + round(dt * 1e6)) % period
            if self._pulse_phase_us >= self._pulse_on_us:
                return 0.0
        return self._setpoint_chz / 100.0

    def _control(self, dt: float) -> None:
        target = self._target_hz(dt)
        reference = self._reference_hz
        rate = float(self.slew_hz_per_s)
        if self._start_ramp_hz_s is not None:
            rate = min(rate, self._start_ramp_hz_s)
        step = rate * dt
        if reference < target:
            reference = min(target, reference + step)
            if reference == target:
                self._start_ramp_hz_s = None
        elif reference > target:
            reference = max(target, reference - step)
        self._reference_hz = reference
        hw = self.hw
        hw.duty = self._loop.update(reference, self._measured_hz, hw.bus_v, dt)

    @property
    def in_ramp(self) -> bool:
        return self.motor_on and self._reference_hz != self._setpoint_chz / 100.0

    def _running_duties(self, now_us: int, dt: float) -> None:
        hw = self.hw
        dt_us = round(dt * 1e6)
        measured = self._measured_hz
        reference = self._reference_hz

        self._current_window_sum += hw.sensed_current_a * dt
        self._current_window_us += dt_us
        if self._current_window_us >= OVERCURRENT_WINDOW_US:
            mean_ma = round(self._current_window_sum / (self._current_window_us / 1e6) * 1000)
            self._current_window_sum = 0.0
            self._current_window_us = 0
            if mean_ma > MAX_CURRENT_MA:
                return self._raise_stop_fault(Fault.OVERCURRENT, mean_ma)

        motor = hw.motor
        if motor.applied_duty > 0.0 and measured == 0.0:
            emf_v = motor.applied_duty * hw.bus_v - motor.current_a * hw.params.winding_ohm
            emf_hz = emf_v / self._loop.ke_hz
            self._encoder_us = self._encoder_us + dt_us if emf_hz > ENCODER_MIN_EMF_HZ else 0
            if self._encoder_us > ENCODER_US:
                return self._raise_stop_fault(Fault.ENCODER, round(emf_hz * 100))
        else:
            self._encoder_us = 0

        if reference >= STALL_MIN_REFERENCE_HZ and measured < STALL_RATIO * reference:
            self._stall_us += dt_us
            if self._stall_us > STALL_US:
                return self._raise_stop_fault(Fault.STALL, round(measured * 100))
        else:
            self._stall_us = 0

        if self.in_ramp:
            self._underspeed_us = 0
        elif measured < UNDERSPEED_RATIO * reference:
            self._underspeed_us += dt_us
            if self._underspeed_us > UNDERSPEED_US:
                self._set_warning(Fault.UNDERSPEED, True, round(measured * 100))
        else:
            self._underspeed_us = 0
            self._set_warning(Fault.UNDERSPEED, False, round(measured * 100))

        self._set_warning(Fault.SUPPLY_LOW, hw.bus_v < SUPPLY_LOW_V, round(hw.bus_v * 1000))

    def _check_levels(self) -> None:
        """Temperature and battery, watched whether or not the motor runs."""
        hw = self.hw
        temp = round(hw.thermal.temp_c * 100)
        if temp >= MAX_TEMP_CDEGC and not self.faults & Fault.OVERTEMP:
            self._raise_stop_fault(Fault.OVERTEMP, temp)
        if (temp >= TEMP_HIGH_CDEGC) != bool(self.faults & Fault.TEMP_HIGH):
            self._set_warning(Fault.TEMP_HIGH, temp >= TEMP_HIGH_CDEGC, temp)
        battery = hw.power.battery_pct
        if (battery < BATTERY_LOW_PCT) != bool(self.faults & Fault.BATTERY_LOW):
            self._set_warning(Fault.BATTERY_LOW, battery < BATTERY_LOW_PCT, round(battery))

    # ================================================================== telemetry

    def _set_telemetry(self, rate_hz: int) -> None:
        self.telemetry_hz = rate_hz
        if not rate_hz:
            self.next_sample_us = None
            return
        device = self._now_us - self.boot_us
        # the first multiple of 1/rate strictly after now
        self._sample_index = device * rate_hz // 1_000_000 + 1
        self._schedule_sample()

    def _schedule_sample(self) -> None:
        rate = self.telemetry_hz
        self.next_sample_us = self.boot_us + (self._sample_index * 1_000_000 + rate - 1) // rate

    def status(self) -> Status:
        status = Status(0)
        if self.hw.pedal_down:
            status |= Status.PEDAL_DOWN
        if self.armed:
            status |= Status.ARMED
        if self.run_enabled:
            status |= Status.RUN_ENABLED
        if self.motor_on:
            status |= Status.MOTOR_ON
        if self.estop_latched:
            status |= Status.ESTOP_LATCHED
        if self.host_alive:
            status |= Status.HOST_ALIVE
        if self.calibrated:
            status |= Status.CALIBRATED
        if self.in_ramp:
            status |= Status.IN_RAMP
        return status

    def sample(self, now_us: int) -> None:
        """Take the telemetry sample due now; drop it if the transmit buffer is full."""
        self._now_us = now_us
        seq = self.sample_seq
        self.sample_seq = (seq + 1) & 0xFFFF_FFFF
        self._sample_index += 1
        self._schedule_sample()
        if not self.tx.fits(TELEMETRY_FRAME):
            self.telemetry_dropped += 1
            self._dropped_unreported += 1
            return
        hw = self.hw
        noise = self._noise
        speed = self._measured_hz * 100.0
        if speed > 0.0:
            speed += noise.gauss(0.0, 3.0)
        current = hw.sensed_current_a * 1000.0 + noise.gauss(0.0, 6.0)
        depth = hw.depth_sensor_um * self._depth_gain + self._depth_offset_um
        sample = Telemetry(
            self.device_us(),
            seq,
            _u16(speed),
            self._setpoint_chz,
            _u16(current),
            _u16(hw.bus_v * 1000.0),
            max(-32768, min(32767, round(hw.thermal.temp_c * 100.0))),
            hw.encoder_strokes & 0xFFFF_FFFF,
            _u16(depth),
            min(100, round(hw.power.battery_pct)),
            int(self.status()),
            int(self.faults),
        )
        frame = encode(sample, self._tx_seq)
        self._tx_seq = (self._tx_seq + 1) & 0xFF
        self.tx.offer_telemetry(frame)


def _u16(value: float) -> int:
    if value <= 0.0:
        return 0
    return min(0xFFFF, round(value))
