"""The pen's physics: motor figures, the hand on the skin, heat, battery, calibration."""

from __future__ import annotations

import statistics

from smpctl.protocol import (
    CalibrationKey,
    ParamTable,
    SetSpeed,
    WriteParam,
)
from smpctl.sim import SimulatedPen, VirtualClock
from smpctl.sim.motor import DcMotor, MotorParams


def run_motor_open_loop(duty: float, load_nm: float = 0.0, seconds: float = 0.5) -> DcMotor:
    motor = DcMotor(MotorParams())
    for _ in range(round(seconds / 0.0005)):
        motor.step(0.0005, duty, 12.0, 0.3, load_nm)
    return motor


def test_no_load_top_speed_at_12_v_is_150_to_160_hz():
    motor = run_motor_open_loop(1.0)
    assert 150 <= motor.speed_hz <= 162
    assert 0.2 <= motor.current_a <= 0.4


def test_stall_current_exceeds_3_a_without_the_limiter():
    params = MotorParams()
    stall_a = 12.0 / (params.winding_ohm + 0.3)
    assert stall_a > 3.0


def test_motor_current_is_about_0_3_a_in_air_and_0_6_to_0_9_a_in_skin(host):
    host.start_motor(speed_chz=12000, settle=0.8)
    in_air = statistics.mean(s.current_ma for s in host.telemetry()[-50:])
    assert 250 <= in_air <= 350
    host.pen.set_skin_load(100)
    host.run(0.5)
    in_skin = statistics.mean(s.current_ma for s in host.telemetry()[-50:])
    assert 600 <= in_skin <= 900
    assert abs(host.last_telemetry().speed_chz - 12000) < 100


def test_120_hz_is_held_in_skin_at_double_load(host):
    host.start_motor(speed_chz=12000, settle=0.8)
    host.pen.set_skin_load(200)
    host.run(0.5)
    speeds = [s.speed_chz for s in host.telemetry()[-50:]]
    assert min(speeds) > 11800
    assert host.pen.truth().duty < 0.97


def test_supply_sags_under_load(host):
    host.start_motor(speed_chz=12000, settle=0.8)
    air_mv = host.last_telemetry().voltage_mv
    host.pen.set_skin_load(150)
    host.run(0.3)
    assert host.last_telemetry().voltage_mv < air_mv - 50


def test_automatic_hand_taps_dots_with_gaps_and_counts_skin_strokes(host):
    host.pen.set_skin_load(-1)
    host.start_motor(speed_chz=12000, settle=0.0)
    contacts: list[float] = []
    gaps: list[float] = []
    state = host.pen.truth().in_contact
    since = host.pen.time
    for _ in range(4000):
        host.run(0.001)
        now_in = host.pen.truth().in_contact
        if now_in != state:
            (contacts if state else gaps).append(host.pen.time - since)
            state, since = now_in, host.pen.time
    assert len(contacts) >= 8
    assert min(contacts) >= 0.02 and max(contacts) <= 0.21
    assert min(gaps[1:]) >= 0.04 and max(gaps) <= 0.31
    truth = host.pen.truth()
    assert 0 < truth.skin_strokes < truth.strokes
    currents = [s.current_ma for s in host.telemetry()[-400:]]
    assert max(currents) > 600 and min(currents) < 350


def test_hand_pressure_varies_from_touch_to_touch(host):
    host.pen.set_skin_load(-1)
    host.start_motor(speed_chz=12000, settle=0.0)
    peaks: list[int] = []
    for _ in range(30):
        host.run(0.1)
        peaks.append(max(s.current_ma for s in host.telemetry()[-20:]))
    touching = [p for p in peaks if p > 450]
    assert max(touching) - min(touching) > 150


def test_encoder_stroke_count_matches_revolutions(host):
    host.start_motor(speed_chz=10000, settle=2.0)
    last = host.last_telemetry()
    assert abs(last.strokes - host.pen.truth().strokes) <= 2


def test_handpiece_warms_slowly_with_work(host):
    host.pen.set_skin_load(150)
    host.start_motor(speed_chz=12000, settle=10.0)
    temp = host.last_telemetry().temp_cdegc
    assert 2510 <= temp <= 2700  # minutes-long time constant: barely warm after 10 s


def test_battery_drains_with_charge_drawn():
    pen = SimulatedPen(clock=VirtualClock())
    pen.set_pedal(False)
    before = pen.truth().battery_pct
    pen.step(60.0)
    idle_drop = before - pen.truth().battery_pct
    assert 0 < idle_drop < 0.05


def test_raw_speed_sensor_reads_high_until_calibrated(host):
    host.start_motor(speed_chz=12000, settle=1.0)
    true_hz = host.pen.truth().speed_hz
    reported = host.last_telemetry().speed_hz
    assert abs(reported - 120.0) < 0.5
    error = reported / true_hz - 1.0
    assert 0.009 <= error <= 0.021
    host.ok(SetSpeed(0))
    host.pen.set_pedal(False)
    host.run(0.3)
    gain_ppm = round(1e6 / (1.0 + error))
    host.ok(WriteParam(ParamTable.CALIBRATION, CalibrationKey.SPEED_GAIN_PPM, gain_ppm))
    host.ok(SetSpeed(12000))
    host.pen.set_pedal(True)
    host.run(1.0)
    assert abs(host.pen.truth().speed_hz - 120.0) < 0.3


def test_speed_offset_calibration_shifts_the_reported_speed(host):
    host.hello()
    host.ok(WriteParam(ParamTable.CALIBRATION, CalibrationKey.SPEED_OFFSET_CHZ, -200))
    host.start_motor(speed_chz=10000, settle=1.0)
    assert abs(host.pen.truth().speed_hz * 1.015 - 102.0) < 1.5
