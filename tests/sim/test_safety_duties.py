"""The firmware's own safety duties, whatever the host does."""

from __future__ import annotations

import itertools

from smpctl.protocol import (
    Ack,
    Arm,
    ConfigKey,
    EventKind,
    Fault,
    Nak,
    NakCode,
    ParamTable,
    Run,
    RunMode,
    SetRunMode,
    SetSpeed,
    SimFault,
    Status,
    StopReason,
    WriteParam,
)


def test_pen_stops_when_heartbeat_lost(host):
    host.start_motor()
    host.heartbeat = False
    last_heartbeat = host.last_heartbeat_at
    host.clear()
    host.run(0.5)
    stop = host.events(EventKind.WATCHDOG_STOP)[0]
    assert 250 <= stop.value <= 260
    stopped_at = host.pen.truth().motor_stopped_at_s
    assert stopped_at is not None
    assert 0.250 <= stopped_at - last_heartbeat <= 0.252
    kinds = [e.kind for e in host.events()]
    assert kinds[:4] == [
        EventKind.FAULT_RAISED,
        EventKind.WATCHDOG_STOP,
        EventKind.MOTOR_STOPPED,
        EventKind.DISARMED,
    ]
    assert host.events(EventKind.MOTOR_STOPPED)[0].code == StopReason.WATCHDOG
    assert host.events(EventKind.DISARMED)[0].code == 1
    assert host.last_telemetry().faults & Fault.WATCHDOG


def test_watchdog_fault_clears_on_the_next_heartbeat_but_the_pen_stays_disarmed(host):
    host.start_motor()
    host.heartbeat = False
    host.run(0.5)
    nak = host.command(Arm())
    assert isinstance(nak, Nak) and nak.code == NakCode.FAULT_ACTIVE
    host.heartbeat = True
    host.run(0.2)
    cleared = host.events(EventKind.FAULT_CLEARED)
    assert [e.code for e in cleared] == [Fault.WATCHDOG]
    last = host.last_telemetry()
    assert not last.status & Status.ARMED and last.status & Status.HOST_ALIVE
    assert isinstance(host.command(Arm()), Ack)


def test_watchdog_timeout_follows_the_config(host):
    host.hello()
    host.ok(WriteParam(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS, 200))
    host.start_motor()
    host.heartbeat = False
    last_heartbeat = host.last_heartbeat_at
    host.run(0.4)
    stopped_at = host.pen.truth().motor_stopped_at_s
    assert stopped_at is not None and 0.200 <= stopped_at - last_heartbeat <= 0.202


def test_only_heartbeats_feed_the_watchdog(host):
    host.start_motor()
    host.heartbeat = False
    for _ in range(5):
        host.ok(SetSpeed(12000))
        host.run(0.1)
    assert host.events(EventKind.WATCHDOG_STOP)


def test_idle_pen_without_heartbeats_is_not_a_fault(host):
    host.hello()
    host.heartbeat = False
    host.run(1.0)
    assert host.events(EventKind.WATCHDOG_STOP) == []
    assert not host.last_telemetry().status & Status.HOST_ALIVE


def test_pedal_release_stops_the_motor_within_100_ms(host):
    host.start_motor()
    host.clear()
    released = host.pen.time
    host.pen.set_pedal(False)
    host.run(0.2)
    stopped_at = host.pen.truth().motor_stopped_at_s
    assert stopped_at is not None and stopped_at - released <= 0.001
    kinds = [e.kind for e in host.events()]
    assert kinds[:2] == [EventKind.PEDAL_UP, EventKind.MOTOR_STOPPED]
    assert host.events(EventKind.MOTOR_STOPPED)[0].code == StopReason.PEDAL_RELEASED
    last = host.last_telemetry()
    assert last.status & Status.ARMED and last.status & Status.RUN_ENABLED
    host.pen.set_pedal(True)
    host.run(0.6)
    assert host.last_telemetry().speed_chz > 11000


def test_speed_reference_is_slew_limited_never_a_step(host):
    host.start_motor(speed_chz=12000, settle=0.0)
    host.run(0.1)
    samples = host.telemetry()
    assert samples[-1].status & Status.IN_RAMP
    # 400 Hz/s: after 100 ms the speed is ~40 Hz, nowhere near 120
    assert 2500 <= samples[-1].speed_chz <= 4500
    rises = [b.speed_chz - a.speed_chz for a, b in itertools.pairwise(samples)]
    assert max(rises) <= 400 * 100 * 0.005 + 60  # the slew per 5 ms sample, plus noise
    host.run(0.5)
    assert not host.last_telemetry().status & Status.IN_RAMP


def test_soft_start_ramp_is_slower_than_the_slew_limit(host):
    host.hello()
    host.ok(SetRunMode(RunMode.CONTINUOUS, 1000, 0, 0))
    host.start_motor(speed_chz=10000, settle=0.5)
    assert 4000 <= host.last_telemetry().speed_chz <= 5500
    host.run(0.7)
    assert host.last_telemetry().speed_chz > 9500


def test_pulsed_mode_alternates_running_and_pausing(host):
    host.hello()
    host.ok(SetRunMode(RunMode.PULSED, 0, 300, 300))
    host.start_motor(speed_chz=8000, settle=1.2)
    speeds = [s.speed_chz for s in host.telemetry()[-240:]]
    assert max(speeds) > 7000 and min(speeds) < 1500
    assert all(s.status & Status.MOTOR_ON for s in host.telemetry()[-240:])


def test_injected_stall_stops_the_motor_and_arm_is_refused_while_jammed(host):
    host.start_motor()
    host.clear()
    host.pen.inject_fault(SimFault.STALL)
    host.run(0.3)
    raised = host.events(EventKind.FAULT_RAISED)
    assert [e.code for e in raised] == [Fault.STALL]
    stopped = host.events(EventKind.MOTOR_STOPPED)[0]
    assert stopped.code == StopReason.FAULT
    assert host.events(EventKind.DISARMED)[0].code == 2
    assert 0.1 <= stopped.t_us / 1e6 - raised[0].t_us / 1e6 + 0.1 <= 0.2
    nak = host.command(Arm())
    assert isinstance(nak, Nak) and nak.code == NakCode.FAULT_ACTIVE
    host.pen.clear_faults()
    assert isinstance(host.command(Arm()), Ack)
    host.run(0.01)
    assert [e.code for e in host.events(EventKind.FAULT_CLEARED)] == [Fault.STALL]
    assert not host.last_telemetry().faults & Fault.STALL


def test_stall_is_detected_within_about_100_ms(host):
    host.start_motor()
    jammed = host.pen.time
    host.pen.inject_fault(SimFault.STALL)
    host.run(0.3)
    stopped_at = host.pen.truth().motor_stopped_at_s
    assert stopped_at is not None and 0.1 <= stopped_at - jammed <= 0.15


def test_injected_short_trips_over_current_within_milliseconds(host):
    host.start_motor()
    shorted = host.pen.time
    host.pen.inject_fault(SimFault.OVERCURRENT)
    host.run(0.05)
    raised = host.events(EventKind.FAULT_RAISED)
    assert raised and raised[0].code == Fault.OVERCURRENT and raised[0].value > 3000
    stopped_at = host.pen.truth().motor_stopped_at_s
    assert stopped_at is not None and stopped_at - shorted <= 0.011
    # the short cannot be seen at rest: ARM succeeds, RUN trips again
    assert isinstance(host.command(Arm()), Ack)
    host.ok(Run())
    host.run(0.05)
    assert len(host.events(EventKind.FAULT_RAISED)) == 2


def test_overheat_stops_at_41_c_and_arm_waits_until_below_39_c(host):
    host.start_motor()
    host.pen.inject_fault(SimFault.OVERHEAT)
    host.run_until(lambda m: getattr(m, "kind", 0) == EventKind.MOTOR_STOPPED, limit=6.0)
    host.run(0.01)
    raised = {e.code: e.value for e in host.events(EventKind.FAULT_RAISED)}
    assert Fault.TEMP_HIGH in raised and Fault.OVERTEMP in raised
    assert raised[Fault.OVERTEMP] >= 4100
    assert host.events(EventKind.MOTOR_STOPPED)[0].code == StopReason.FAULT
    host.pen.clear_faults()
    nak = host.command(Arm())
    assert isinstance(nak, Nak) and nak.code == NakCode.FAULT_ACTIVE
    host.pen.set_ambient(0)  # a cold room cools it in seconds rather than minutes
    host.run_until(lambda m: getattr(m, "temp_cdegc", 9999) < 3890, limit=40.0)
    assert isinstance(host.command(Arm()), Ack)


def test_dead_encoder_stops_the_motor_and_blocks_arm(host):
    host.start_motor()
    host.clear()
    host.pen.inject_fault(SimFault.ENCODER)
    host.run(0.2)
    raised = host.events(EventKind.FAULT_RAISED)
    assert raised[0].code == Fault.ENCODER
    assert host.events(EventKind.MOTOR_STOPPED)[0].code == StopReason.FAULT
    nak = host.command(Arm())
    assert isinstance(nak, Nak) and nak.code == NakCode.FAULT_ACTIVE
    host.pen.clear_faults()
    assert isinstance(host.command(Arm()), Ack)


def test_low_battery_refuses_arm_and_run_but_does_not_stop_a_running_pass(host):
    host.start_motor()
    host.clear()
    host.pen.inject_fault(SimFault.LOW_BATTERY)
    host.run(0.2)
    assert [e.code for e in host.events(EventKind.FAULT_RAISED)] == [Fault.BATTERY_LOW]
    assert host.last_telemetry().status & Status.MOTOR_ON
    assert host.last_telemetry().battery_pct == 10
    nak = host.command(Run())
    assert isinstance(nak, Nak) and nak.code == NakCode.BATTERY_LOW
    host.pen.set_pedal(False)
    host.run(0.05)
    host.pen.set_pedal(True)  # the next pass does not start
    host.run(0.05)
    assert not host.last_telemetry().status & Status.MOTOR_ON
    nak = host.command(Arm())
    assert isinstance(nak, Nak) and nak.code == NakCode.BATTERY_LOW
    host.pen.clear_faults()
    host.run(0.01)
    assert host.last_telemetry().battery_pct == 100
    assert Fault.BATTERY_LOW in [e.code for e in host.events(EventKind.FAULT_CLEARED)]


def test_arm_is_refused_on_a_low_battery(host):
    host.hello()
    host.pen.set_battery(14)
    nak = host.command(Arm())
    assert isinstance(nak, Nak) and nak.code == NakCode.BATTERY_LOW


def test_supply_below_6_v_while_running_warns(host):
    host.start_motor(speed_chz=3000)
    host.pen.set_supply_mv(5500)
    host.run(0.05)
    assert Fault.SUPPLY_LOW in [e.code for e in host.events(EventKind.FAULT_RAISED)]
    assert host.last_telemetry().status & Status.MOTOR_ON


def test_underspeed_warns_after_250_ms_below_80_percent(host):
    host.start_motor(speed_chz=14000)
    host.pen.set_supply_mv(7500)  # too weak for 140 Hz
    host.run(0.2)
    assert host.events(EventKind.FAULT_RAISED) == []
    host.run(0.2)
    raised = host.events(EventKind.FAULT_RAISED)
    assert [e.code for e in raised] == [Fault.UNDERSPEED]
    assert host.last_telemetry().status & Status.MOTOR_ON
    host.pen.set_supply_mv(0)
    host.run(0.3)
    assert [e.code for e in host.events(EventKind.FAULT_CLEARED)] == [Fault.UNDERSPEED]
