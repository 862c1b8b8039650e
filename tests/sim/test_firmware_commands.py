"""Command handling of the simulated firmware: handshake, replies, retries, state machine."""

from __future__ import annotations

from smpctl.protocol import (
    BOOTLOADER_MAGIC,
    Ack,
    Arm,
    Capability,
    ConfigKey,
    Disarm,
    EStop,
    EventKind,
    Hello,
    HelloReply,
    MsgType,
    Nak,
    NakCode,
    ParamTable,
    ParamValue,
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
    WriteParam,
    crc16,
    encode,
)


def test_commands_before_hello_are_refused_with_no_handshake(host):
    for message in (SetSpeed(100), Arm(), Run(), ReadParam(0, 1), SimControl(1, 1)):
        reply = host.command(message)
        assert isinstance(reply, Nak)
        assert reply.code == NakCode.NO_HANDSHAKE
    assert host.telemetry() == []


def test_stop_and_estop_are_executed_and_acked_before_hello(host):
    assert isinstance(host.command(Stop()), Ack)
    assert isinstance(host.command(EStop()), Ack)
    host.hello()
    host.run(0.05)
    assert host.last_telemetry().status & Status.ESTOP_LATCHED


def test_hello_reply_reports_identity_limits_and_capabilities(host):
    reply = host.hello()
    assert reply.protocol_version == "1.0"
    assert reply.model == "SMP-Sim R1"
    assert reply.firmware == "1.0.0"
    assert reply.serial == "SIM00001"
    assert reply.caps & Capability.SIMULATED and reply.caps & Capability.DFU_BOOTLOADER
    assert (reply.max_speed_chz, reply.min_stroke_um, reply.max_stroke_um) == (15000, 2000, 4000)
    assert (reply.min_depth_um, reply.max_depth_um) == (0, 2000)
    assert (reply.max_current_ma, reply.max_temp_cdegc, reply.watchdog_ms) == (3000, 4100, 250)
    assert (reply.max_telemetry_hz, reply.max_slew_hz_per_s) == (2000, 400)


def test_boot_event_is_held_until_the_first_hello_is_answered(host):
    host.run(0.1)
    assert host.received == []
    host.hello()
    host.run(0.01)
    kinds = [type(m).__name__ for _, _, m in host.received[:2]]
    assert kinds == ["HelloReply", "Event"]
    boot = host.events(EventKind.BOOT)[0]
    assert (boot.code, boot.value, boot.event_seq) == (0, 1, 0)


def test_telemetry_starts_at_the_default_rate_after_hello(host):
    host.hello()
    host.run(1.0)
    samples = host.telemetry()
    assert 199 <= len(samples) <= 201
    assert all(s.t_us % 5000 == 0 for s in samples)


def test_major_version_mismatch_naks_every_later_command_but_stop(host):
    reply = host.command(Hello(2, 0))
    assert isinstance(reply, HelloReply) and reply.version_major == 1
    for message in (SetSpeed(100), Arm(), ReadParam(0, 1)):
        nak = host.command(message)
        assert isinstance(nak, Nak) and nak.code == NakCode.VERSION_MISMATCH
    assert isinstance(host.command(Stop()), Ack)
    host.run(0.1)
    assert host.telemetry() == []
    host.hello()
    assert isinstance(host.command(Arm()), Ack)


def test_a_newer_minor_version_is_compatible(host):
    host.command(Hello(1, 7))
    assert isinstance(host.command(SetSpeed(10000)), Ack)


def test_duplicate_frame_gets_the_cached_reply_without_executing_again(host):
    host.hello()
    first = host.command(SetSpeed(20000), seq=77)
    host.run(0.01)
    assert len(host.events(EventKind.SETPOINT_CLAMPED)) == 1
    first_frames = len([m for _, _, m in host.received if m == first])
    again = host.command(SetSpeed(20000), seq=77)
    host.run(0.01)
    assert again == first
    assert len([m for _, _, m in host.received if m == first]) == first_frames + 1
    assert len(host.events(EventKind.SETPOINT_CLAMPED)) == 1
    # same seq, other payload: a new command, executed
    host.command(SetSpeed(20001), seq=77)
    host.run(0.01)
    assert len(host.events(EventKind.SETPOINT_CLAMPED)) == 2


def test_retried_command_is_not_executed_twice(host):
    host.hello()
    host.ok(SetSpeed(5000))
    host.ok(Arm())
    host.ok(Run())
    host.pen.set_pedal(True)
    host.run(0.3)
    stop_seq = host.send(EStop())
    host.run(0.01)
    host.clear()
    host.send(EStop(), seq=stop_seq)  # the host did not see the ACK and retries
    host.run(0.01)
    acks = [m for _, _, m in host.received if isinstance(m, Ack)]
    assert len(acks) == 1 and acks[0].cmd_seq == stop_seq
    assert host.events(EventKind.ESTOP) == []


def test_heartbeat_between_command_and_retry_does_not_break_the_duplicate_rule(host):
    host.hello()
    seq = host.send(SimControl(SimAction.CORRUPT_BYTES, 0))
    host.run(0.2)  # heartbeats go out meanwhile
    host.clear()
    host.send(SimControl(SimAction.CORRUPT_BYTES, 0), seq=seq)
    host.run(0.01)
    assert next(m for _, _, m in host.received if isinstance(m, Ack)).cmd_seq == seq


def raw_frame(seq: int, msg_type: int, payload: bytes) -> bytes:
    """A frame the codec would not build: unknown type or wrong payload length."""
    body = bytes((len(payload), seq, msg_type)) + payload
    crc = crc16(body)
    return b"\xa5" + body + bytes((crc >> 8, crc & 0xFF))


def reply_to_raw(host, msg_type: int, payload: bytes):
    host.pen.receive(raw_frame(42, msg_type, payload))
    return host.run_until(lambda m: isinstance(m, (Ack, Nak)) and m.cmd_seq == 42, 0.01)


def test_unknown_type_is_naked_unknown_command(host):
    host.hello()
    reply = reply_to_raw(host, 0x55, b"\x01\x02")
    assert isinstance(reply, Nak) and reply.code == NakCode.UNKNOWN_COMMAND
    assert reply.cmd_type == 0x55


def test_short_payload_is_naked_bad_length(host):
    host.hello()
    reply = reply_to_raw(host, MsgType.SET_SPEED, b"\x01")
    assert isinstance(reply, Nak)
    assert (reply.code, reply.cmd_type) == (NakCode.BAD_LENGTH, MsgType.SET_SPEED)


def test_a_pen_message_sent_to_the_pen_is_an_unknown_command(host):
    host.hello()
    reply = host.command(Ack(1, 2, 3))
    assert isinstance(reply, Nak) and reply.code == NakCode.UNKNOWN_COMMAND


def test_longer_payload_is_accepted_and_the_tail_ignored(host):
    host.hello()
    host.pen.receive(
        raw_frame(9, MsgType.SET_SPEED, encode(SetSpeed(10000), 9)[4:-2] + b"\xee\xee")
    )
    host.run(0.01)
    assert Ack(9, MsgType.SET_SPEED, 10000) in [m for _, _, m in host.received]


def test_set_speed_above_the_limit_is_clamped_and_reported(host):
    host.hello()
    reply = host.ok(SetSpeed(20000))
    assert reply.value == 15000
    host.run(0.01)
    clamp = host.events(EventKind.SETPOINT_CLAMPED)[-1]
    assert (clamp.code, clamp.value) == (MsgType.SET_SPEED, 15000)


def test_speed_cap_config_lowers_the_speed_limit(host):
    host.hello()
    host.ok(WriteParam(ParamTable.CONFIG, ConfigKey.SPEED_CAP_CHZ, 11000))
    assert host.ok(SetSpeed(12000)).value == 11000


def test_stroke_and_depth_are_clamped_to_the_pen_limits(host):
    """With the default limits (stroke >= 2.0 mm, depth <= 2.0 mm) a clamped depth can
    never exceed a clamped stroke, so the INVALID_VALUE paths of the depth <= stroke rule
    are unreachable; clamping is what shows."""
    host.hello()
    assert host.ok(SetStroke(5000)).value == 4000
    assert host.ok(SetDepth(2500)).value == 2000
    assert host.ok(SetStroke(1000)).value == 2000
    host.run(0.01)
    clamps = [(e.code, e.value) for e in host.events(EventKind.SETPOINT_CLAMPED)]
    assert clamps == [
        (MsgType.SET_STROKE, 4000),
        (MsgType.SET_DEPTH, 2000),
        (MsgType.SET_STROKE, 2000),
    ]


def test_depth_adjuster_moves_at_two_mm_per_second(host):
    host.hello()
    host.run(0.01)
    start = host.last_telemetry().depth_um
    host.ok(SetDepth(2000))
    host.run(0.25)
    moved = host.last_telemetry().depth_um - start
    assert 400 <= moved <= 600
    host.run(0.5)
    assert abs(host.last_telemetry().depth_um - 2000) < 5
    assert host.last_telemetry().faults & 0x0200  # DEPTH_WARN above 1.5 mm


def test_setpoint_changes_are_refused_while_the_motor_runs(host):
    host.start_motor()
    for message in (
        SetStroke(3000),
        SetDepth(800),
        SetRunMode(RunMode.PULSED, 0, 100, 100),
        WriteParam(ParamTable.CONFIG, ConfigKey.SLEW_HZ_PER_S, 500),
        RebootBootloader(BOOTLOADER_MAGIC),
    ):
        reply = host.command(message)
        assert isinstance(reply, Nak) and reply.code == NakCode.BUSY, message
    assert isinstance(host.command(SetSpeed(11000)), Ack)


def test_run_mode_values_are_validated(host):
    host.hello()
    for bad in (
        SetRunMode(2, 0, 100, 100),
        SetRunMode(RunMode.CONTINUOUS, 2001, 0, 0),
        SetRunMode(RunMode.PULSED, 0, 5, 100),
        SetRunMode(RunMode.PULSED, 0, 100, 1001),
    ):
        reply = host.command(bad)
        assert isinstance(reply, Nak) and reply.code == NakCode.INVALID_VALUE, bad
    host.ok(SetRunMode(RunMode.CONTINUOUS, 500, 0, 0))
    host.ok(SetRunMode(RunMode.PULSED, 0, 10, 1000))


def test_run_needs_arm_and_arm_clears_the_estop_latch(host):
    host.hello()
    reply = host.command(Run())
    assert isinstance(reply, Nak) and reply.code == NakCode.NOT_ARMED
    host.ok(EStop())
    reply = host.command(Run())
    assert isinstance(reply, Nak) and reply.code == NakCode.ESTOP_LATCHED
    host.ok(Arm())
    host.ok(Run())
    host.run(0.01)
    status = host.last_telemetry().status
    assert status & Status.ARMED and status & Status.RUN_ENABLED
    assert not status & Status.ESTOP_LATCHED


def test_estop_stops_disarms_and_latches_until_arm(host):
    host.start_motor()
    host.clear()
    host.ok(EStop())
    host.run(0.3)
    kinds = [e.kind for e in host.events()]
    assert kinds[:3] == [EventKind.ESTOP, EventKind.MOTOR_STOPPED, EventKind.DISARMED]
    assert host.events(EventKind.MOTOR_STOPPED)[0].code == StopReason.ESTOP
    assert host.events(EventKind.DISARMED)[0].code == 3
    last = host.last_telemetry()
    assert last.status & Status.ESTOP_LATCHED and not last.status & Status.ARMED
    assert last.speed_chz == 0
    nak = host.command(Run())
    assert isinstance(nak, Nak) and nak.code == NakCode.ESTOP_LATCHED


def test_stop_keeps_the_pen_armed(host):
    host.start_motor()
    host.clear()
    host.ok(Stop())
    host.run(0.3)
    stopped = host.events(EventKind.MOTOR_STOPPED)
    assert [e.code for e in stopped] == [StopReason.HOST_STOP]
    assert stopped[0].value > 10000
    last = host.last_telemetry()
    assert last.status & Status.ARMED and not last.status & Status.MOTOR_ON
    host.ok(Run())
    host.run(0.6)
    assert host.last_telemetry().speed_chz > 11000


def test_disarm_stops_the_motor(host):
    host.start_motor()
    host.clear()
    host.ok(Disarm())
    host.run(0.01)
    assert host.events(EventKind.MOTOR_STOPPED)[0].code == StopReason.DISARMED
    assert host.events(EventKind.DISARMED)[0].code == 0


def test_telemetry_rate_is_clamped_to_what_the_line_carries(host_factory):
    host = host_factory(baud=115200)
    host.hello()
    assert host.ok(SetTelemetryRate(2000)).value == 115200 // 10 // 34
    assert host.ok(SetTelemetryRate(0)).value == 0
    host.run(0.01)
    host.clear()
    host.run(0.2)
    assert host.telemetry() == []


def test_telemetry_rate_clamp_emits_an_event(host):
    host.hello()
    assert host.ok(SetTelemetryRate(5000)).value == 2000
    host.run(0.01)
    clamp = host.events(EventKind.SETPOINT_CLAMPED)[-1]
    assert (clamp.code, clamp.value) == (MsgType.SET_TELEMETRY_RATE, 2000)


def test_read_and_write_params(host):
    host.hello()
    value = host.command(ReadParam(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS))
    assert value == ParamValue(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS, 250)
    assert host.ok(WriteParam(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS, 250)).value == 250
    assert host.command(ReadParam(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS)).value == 250
    baud = host.command(ReadParam(ParamTable.CONFIG, ConfigKey.BAUD))
    assert isinstance(baud, ParamValue) and baud.value == 921600
    for bad, code in (
        (WriteParam(ParamTable.CONFIG, ConfigKey.BAUD, 9600), NakCode.READ_ONLY),
        (WriteParam(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS, 100), NakCode.INVALID_VALUE),
        (WriteParam(ParamTable.CONFIG, 99, 1), NakCode.UNKNOWN_PARAM),
        (WriteParam(7, 1, 1), NakCode.UNKNOWN_PARAM),
        (ReadParam(ParamTable.CALIBRATION, 99), NakCode.UNKNOWN_PARAM),
    ):
        reply = host.command(bad)
        assert isinstance(reply, Nak) and reply.code == code, bad


def test_hello_reply_reports_the_configured_watchdog_and_slew(host):
    host.hello()
    host.ok(WriteParam(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS, 450))
    host.ok(WriteParam(ParamTable.CONFIG, ConfigKey.SLEW_HZ_PER_S, 800))
    reply = host.hello()
    assert (reply.watchdog_ms, reply.max_slew_hz_per_s) == (450, 800)


def test_hello_restarts_the_session_stopped_and_disarmed(host):
    host.start_motor()
    host.clear()
    host.hello()
    host.run(0.05)
    last = host.last_telemetry()
    assert not last.status & (Status.ARMED | Status.RUN_ENABLED | Status.MOTOR_ON)
    assert host.events(EventKind.BOOT) == []  # BOOT is sent once per boot


def test_reboot_to_bootloader_needs_the_magic(host):
    host.hello()
    nak = host.command(RebootBootloader(0x1234))
    assert isinstance(nak, Nak) and nak.code == NakCode.BAD_MAGIC
    host.ok(RebootBootloader(BOOTLOADER_MAGIC))
    host.run(0.01)
    assert not host.pen.link_up
    host.heartbeat = False
    host.run(1.6)
    assert host.pen.link_up
    host.hello()
    host.run(0.01)
    boot = host.events(EventKind.BOOT)[-1]
    assert (boot.code, boot.value) == (2, 2)


def test_sim_control_moves_the_world_and_rejects_bad_values(host):
    host.hello()
    host.ok(SimControl(SimAction.PEDAL, 1))
    host.run(0.01)
    assert host.events(EventKind.PEDAL_DOWN)
    assert host.last_telemetry().status & Status.PEDAL_DOWN
    host.ok(SimControl(SimAction.BATTERY_PCT, 50))
    host.ok(SimControl(SimAction.AMBIENT_CDEGC, 3000))
    host.ok(SimControl(SimAction.SUPPLY_MV, 9000))
    host.run(0.01)
    last = host.last_telemetry()
    assert last.battery_pct == 50 and abs(last.voltage_mv - 9000) < 50
    for action, value in (
        (SimAction.PEDAL, 2),
        (SimAction.SKIN_LOAD, 201),
        (SimAction.INJECT_FAULT, 99),
        (SimAction.BATTERY_PCT, 101),
        (SimAction.LINK_DROP_MS, 0),
        (99, 0),
    ):
        reply = host.command(SimControl(action, value))
        assert isinstance(reply, Nak) and reply.code == NakCode.INVALID_VALUE, (action, value)


def test_corrupt_bytes_damages_output_after_the_ack(host):
    host.hello()
    host.ok(SimControl(SimAction.CORRUPT_BYTES, 40))
    host.run(0.05)
    assert host.decoder.stats.crc_errors + host.decoder.stats.bytes_skipped > 0
    assert isinstance(host.telemetry()[-1], Telemetry)


def test_link_drop_makes_the_pen_vanish_and_reboot(host):
    host.hello()
    host.ok(SimControl(SimAction.LINK_DROP_MS, 200))
    host.run(0.01)
    assert not host.pen.link_up
    host.run(0.2)
    assert host.pen.link_up
    host.clear()
    host.hello()
    host.run(0.01)
    boot = host.events(EventKind.BOOT)[-1]
    assert (boot.code, boot.value) == (3, 2)
