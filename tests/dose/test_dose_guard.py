"""The dose guard: BELOW / NEAR / AT_CEILING at the documented thresholds, with the messages
docs/dose.md quotes, and interval warnings that name the zone and the dates."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from smpctl.dose import (
    NEAR_CEILING_FRACTION,
    DoseBounds,
    DoseState,
    check_dose,
    interval_warnings,
)
from smpctl.errors import DoseBoundsError, DoseError, UnknownZoneError
from smpctl.zones import ZoneCode

DOC = Path(__file__).resolve().parents[2] / "docs" / "dose.md"

HL = DoseBounds(ZoneCode.HL, target_per_cm2=40.0, ceiling_per_cm2=60.0, min_interval_days=28)


@pytest.mark.parametrize(
    ("per_cm2", "state"),
    [
        (0.0, DoseState.BELOW),
        (40.0, DoseState.BELOW),  # the target reached is not a warning
        (53.99, DoseState.BELOW),
        (54.0, DoseState.NEAR),  # exactly 90 % of the ceiling
        (59.99, DoseState.NEAR),
        (60.0, DoseState.AT_CEILING),  # exactly the ceiling
        (75.0, DoseState.AT_CEILING),
    ],
)
def test_states_change_at_ninety_percent_and_at_the_ceiling(
    per_cm2: float, state: DoseState
) -> None:
    assert check_dose("HL", per_cm2, 40.0, 60.0).state is state
    assert HL.check(per_cm2).state is state


def test_the_near_threshold_is_the_documented_ninety_percent() -> None:
    assert NEAR_CEILING_FRACTION == 0.9
    assert "**NEAR from 90 %**" in DOC.read_text(encoding="utf-8")
    assert HL.near_per_cm2 == 54.0
    # the threshold holds on ceilings whose 90 % is not exact in binary
    for ceiling in (300.0, 480.0, 1440.0, 1800.0, 0.7, 333.3):
        assert check_dose("CRN", ceiling * 0.9, ceiling * 0.5, ceiling).state is DoseState.NEAR
        below = ceiling * 0.9 * (1 - 1e-9)
        assert check_dose("CRN", below, ceiling * 0.5, ceiling).state is DoseState.BELOW


def test_the_running_pass_counts_toward_the_ceiling() -> None:
    done = HL.check(50.0)
    live = HL.check(50.0, running_per_cm2=5.0)
    assert done.state is DoseState.BELOW and live.state is DoseState.NEAR
    assert live.per_cm2 == 55.0 and live.running_per_cm2 == 5.0
    assert HL.check(50.0, running_per_cm2=10.0).state is DoseState.AT_CEILING


def test_messages_name_the_zone_the_share_and_the_bounds() -> None:
    assert HL.check(57.0).message == (
        "HL at 95 % of its ceiling of 60 punctures/cm² (57 this session; target 40)"
    )
    assert HL.check(30.0).message == (
        "HL at 30 of its target of 40 punctures/cm² this session (75 %; ceiling 60)"
    )
    assert HL.check(45.0).message == (
        "HL has reached its target of 40 punctures/cm² (45 this session; ceiling 60)"
    )
    assert HL.check(61.2).message == (
        "HL has reached its ceiling of 60 punctures/cm² (61 this session, 102 %): stop "
        "treating HL this session, or override with a reason"
    )


def test_shown_figures_never_round_up_past_a_threshold() -> None:
    near_miss = HL.check(53.99)
    assert near_miss.state is DoseState.BELOW and "(53 this session" in near_miss.message
    almost = HL.check(59.99)
    assert almost.state is DoseState.NEAR
    assert almost.message.startswith("HL at 99 % of its ceiling") and "(59 this" in almost.message


def test_the_documented_example_messages_are_what_the_guard_says() -> None:
    doc = DOC.read_text(encoding="utf-8")
    hl = DoseBounds(ZoneCode.HL, 200.0, 480.0, 10)
    for per_cm2 in (150.0, 230.0, 456.0, 480.0):
        assert f"`{hl.check(per_cm2).message}`" in doc, per_cm2
    crn = interval_warnings({"CRN": date(2026, 11, 10)}, {"CRN": 28}, date(2026, 11, 25))
    flat = re.sub(r"\s+", " ", doc)
    assert f"`{crn[0].message}`" in flat


def test_fractions_for_the_dashboard_bar() -> None:
    check = HL.check(30.0, running_per_cm2=6.0)
    assert check.fraction_of_target == pytest.approx(0.9)
    assert check.fraction_of_ceiling == pytest.approx(0.6)
    assert not check.target_reached and check.remaining_per_cm2 == pytest.approx(24.0)
    over = HL.check(70.0)
    assert over.target_reached and over.remaining_per_cm2 == 0.0


def test_bounds_the_guard_cannot_judge_are_refused() -> None:
    with pytest.raises(DoseBoundsError) as info:
        check_dose("HL", 10.0, 70.0, 60.0)
    assert str(info.value) == (
        "the dose guard for zone HL cannot run: the target (70 punctures/cm²) is above the "
        "ceiling (60). Fix the profile and run `smpctl profiles check`."
    )
    assert isinstance(info.value, DoseError) and isinstance(info.value, ValueError)
    with pytest.raises(DoseBoundsError, match="the ceiling is 0 punctures/cm²"):
        DoseBounds(ZoneCode.CRN, 10.0, 0.0, 7)
    with pytest.raises(DoseBoundsError, match="the minimum interval is -1 days"):
        DoseBounds(ZoneCode.CRN, 10.0, 20.0, -1)
    with pytest.raises(DoseBoundsError, match="the session dose is -1 punctures/cm²"):
        HL.check(-1.0)
    with pytest.raises(DoseBoundsError, match="the running pass is nan"):
        HL.check(1.0, running_per_cm2=float("nan"))
    with pytest.raises(UnknownZoneError, match="unknown zone 'HX'"):
        check_dose("HX", 1.0, 2.0, 3.0)


def test_zone_codes_may_be_given_as_text() -> None:
    assert check_dose(" crn ", 1.0, 2.0, 3.0).zone is ZoneCode.CRN
    assert DoseBounds("hl", 1.0, 2.0, 0).zone is ZoneCode.HL  # type: ignore[arg-type]


# ------------------------------------------------------------------------- intervals


def test_a_zone_treated_too_soon_is_named_with_its_dates() -> None:
    [warning] = interval_warnings(
        {ZoneCode.CRN: date(2026, 11, 10)}, {ZoneCode.CRN: 28}, date(2026, 11, 25)
    )
    assert (warning.zone, warning.days_since, warning.min_interval_days) == (ZoneCode.CRN, 15, 28)
    assert warning.last_treated == date(2026, 11, 10) and warning.today == date(2026, 11, 25)
    assert warning.earliest == date(2026, 12, 8)
    assert warning.message == (
        "CRN last treated 2026-11-10, 15 days ago (today is 2026-11-25); this profile asks for "
        "at least 28 days between sessions on CRN (from 2026-12-08)"
    )


def test_no_warning_once_enough_days_have_passed() -> None:
    last = {"CRN": date(2026, 11, 10)}
    assert interval_warnings(last, {"CRN": 28}, date(2026, 12, 8)) == []  # exactly 28 days
    assert interval_warnings(last, {"CRN": 28}, date(2027, 3, 1)) == []
    assert len(interval_warnings(last, {"CRN": 28}, date(2026, 12, 7))) == 1  # 27 days


def test_zones_never_treated_or_without_a_minimum_are_silent() -> None:
    last = {"CRN": None, "HL": date(2026, 11, 24), "MID": date(2026, 11, 24)}
    assert interval_warnings(last, {"CRN": 28, "MID": 0}, date(2026, 11, 25)) == []


def test_warnings_come_in_zone_order_from_text_codes_and_datetimes() -> None:
    last = {"occ": date(2026, 11, 20), "HL": datetime(2026, 11, 24, 15, 30)}
    warnings = interval_warnings(last, {"OCC": 10, "hl": 10}, datetime(2026, 11, 25, 9, 0))
    assert [w.zone for w in warnings] == [ZoneCode.HL, ZoneCode.OCC]
    assert warnings[0].message.startswith("HL last treated 2026-11-24, 1 day ago")


def test_same_day_and_future_dates_are_worded_for_what_they_are() -> None:
    today = date(2026, 11, 25)
    [same] = interval_warnings({"HL": today}, {"HL": 7}, today)
    assert same.message == (
        "HL already treated today (2026-11-25); this profile asks for at least 7 days between "
        "sessions on HL (from 2026-12-02)"
    )
    [future] = interval_warnings({"HL": date(2026, 12, 1)}, {"HL": 7}, today)
    assert future.message.startswith(
        "HL last treated 2026-12-01, which is after today (2026-11-25): check this computer's "
        "date and the journal"
    )


def test_a_negative_minimum_is_refused() -> None:
    with pytest.raises(DoseBoundsError, match="the minimum interval is -3 days"):
        interval_warnings({"HL": date(2026, 1, 1)}, {"HL": -3}, date(2026, 2, 1))
