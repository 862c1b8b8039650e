"""The skin-contact detector against the simulator's ground truth."""

from __future__ import annotations

import pytest
from dose_rig import PassRig

from smpctl.dose import ContactDetector, ContactSettings
from smpctl.protocol import Status, Telemetry


@pytest.mark.parametrize("rate_hz", [200, 1000])
def test_in_skin_strokes_match_the_truth_at_low_and_high_telemetry_rates(rate_hz: int) -> None:
    rig = PassRig.start(ContactDetector(), rate_hz, seed=3)
    rig.passes(8)
    t = rig.tally
    assert t.true_skin > 500
    assert t.error_pct <= 5.0
    assert t.air_counted_pct <= 3.0
    assert rig.detector.in_skin_strokes == t.counted_skin
    assert rig.detector.strokes == t.strokes


def test_passes_in_air_count_almost_no_punctures() -> None:
    rig = PassRig.start(ContactDetector(), 500, seed=4)
    rig.pen.set_skin_load(0)
    rig.passes(5)
    assert rig.tally.true_skin == 0
    assert rig.tally.strokes > 500
    assert rig.detector.in_skin_strokes <= 0.005 * rig.detector.strokes


def test_a_sagging_supply_does_not_break_the_baseline() -> None:
    rig = PassRig.start(ContactDetector(), 500, seed=5)
    rig.passes(3)
    for supply_mv in (10_500, 9_800):
        rig.pen.set_supply_mv(supply_mv)
        rig.passes(3)
    assert rig.tally.error_pct <= 5.0
    assert rig.tally.air_counted_pct <= 3.0


def test_a_calibrated_baseline_and_gain_replace_the_online_estimates() -> None:
    learner = PassRig.start(ContactDetector(), 500, seed=6)
    learner.passes(3)
    table = {hz: learner.detector.baseline_ma(hz) or 0.0 for hz in (90.0, 100.0, 110.0, 115.0)}
    settings = ContactSettings(baseline_ma=table, accel_gain_ma_per_hz_s=1.1)
    rig = PassRig.start(ContactDetector(settings), 500, seed=7)
    assert rig.detector.baseline_ma(105.0) == pytest.approx((table[100.0] + table[110.0]) / 2)
    rig.passes(4)
    assert rig.detector.accel_gain_ma_per_hz_s == 1.1
    assert rig.tally.error_pct <= 5.0
    assert rig.tally.air_counted_pct <= 3.0


def test_the_fitted_acceleration_gain_is_near_the_motors_inertia_over_kt() -> None:
    rig = PassRig.start(ContactDetector(), 1000, seed=8)
    rig.passes(6)
    # J/kt of the simulated motor: 2e-6 * 2π / 0.01125 A per Hz/s = 1.12 mA per Hz/s
    assert 0.8 <= rig.detector.accel_gain_ma_per_hz_s <= 1.4


def test_counters_wrap_and_a_stopped_motor_is_air() -> None:
    on = int(Status.MOTOR_ON)
    detector = ContactDetector(ContactSettings(baseline_ma={100.0: 250.0}))
    base = Telemetry(
        0xFFFF_FF00, 0, 10_000, 10_000, 250, 12_000, 2500, 0xFFFF_FFFF, 1000, 90, on, 0
    )
    detector.feed(base)
    loaded = base._replace(t_us=(base.t_us + 5000) % (1 << 32), strokes=1, current_ma=800)
    assert detector.feed(loaded) is True
    assert (detector.strokes, detector.in_skin_strokes) == (2, 2)
    stopped = loaded._replace(t_us=loaded.t_us + 5000, strokes=2, status=0, speed_chz=0)
    assert detector.feed(stopped) is False
    assert (detector.strokes, detector.in_skin_strokes) == (3, 2)
