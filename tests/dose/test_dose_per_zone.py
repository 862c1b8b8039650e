"""Punctures, zone areas and punctures per cm²."""

from __future__ import annotations

from datetime import date

import pytest

from smpctl.dose import (
    DEFAULT_AREAS_CM2,
    CartridgeKind,
    PassDose,
    cumulative_dose,
    needle_count,
    punctures,
    session_dose,
    validate_area,
    zone_areas,
)
from smpctl.errors import (
    NeedleCountMismatchError,
    UnknownCartridgeKindError,
    UnknownZoneError,
    ZoneAreaError,
)
from smpctl.zones import ZoneCode


def test_punctures_are_in_skin_strokes_times_the_cartridges_needles() -> None:
    assert punctures(250, CartridgeKind.RL1) == 250
    assert punctures(250, "36-pin") == 9000
    assert punctures(250, "36pin") == punctures(250, "36") == 9000
    assert punctures(10, "3rl") == 30


def test_a_needle_count_that_does_not_match_the_kind_is_refused() -> None:
    assert needle_count("12-pin", 12) == 12
    with pytest.raises(NeedleCountMismatchError, match="12-pin cartridge has 12"):
        needle_count("12-pin", 36)
    with pytest.raises(UnknownCartridgeKindError, match="use one of"):
        needle_count("7RL")
    assert needle_count(CartridgeKind.NANO) > 0
    assert CartridgeKind.PIN42.microneedling and not CartridgeKind.RL3.microneedling


def test_default_areas_cover_every_zone_and_a_whole_scalp() -> None:
    assert set(DEFAULT_AREAS_CM2) == set(ZoneCode)
    assert sum(DEFAULT_AREAS_CM2.values()) == 500.0
    assert DEFAULT_AREAS_CM2[ZoneCode.HL] == 30.0


@pytest.mark.parametrize(
    ("area", "problem"),
    [(0.0, "is zero"), (-5.0, "is negative"), (750.0, "larger than a whole scalp")],
)
def test_impossible_zone_areas_are_clear_errors(area: float, problem: str) -> None:
    with pytest.raises(ZoneAreaError, match=problem):
        validate_area("CRN", area)


def test_measured_areas_replace_defaults_all_or_nothing() -> None:
    areas = zone_areas({"crn": 72.5, ZoneCode.HL: 24.0})
    assert areas[ZoneCode.CRN] == 72.5 and areas[ZoneCode.HL] == 24.0
    assert areas[ZoneCode.MID] == 80.0
    with pytest.raises(ZoneAreaError):
        zone_areas({"CRN": 72.5, "HL": 0})
    with pytest.raises(UnknownZoneError, match="unknown zone"):
        zone_areas({"TOP": 10})


def test_density_per_zone_for_a_session_and_cumulative() -> None:
    first = session_dose(
        date(2026, 1, 5),
        [
            PassDose(ZoneCode.HL, CartridgeKind.RL1, 1500),
            PassDose(ZoneCode.HL, CartridgeKind.RL1, 1500),
            PassDose(ZoneCode.CRN, CartridgeKind.RL3, 2000),
        ],
    )
    assert first.density[ZoneCode.HL] == pytest.approx(3000 / 30)
    assert first.density[ZoneCode.CRN] == pytest.approx(6000 / 60)
    # the crown re-measured before the second session: its dose uses the new area
    second = session_dose(
        date(2026, 1, 25),
        [PassDose(ZoneCode.CRN, CartridgeKind.PIN36, 500)],
        measured_areas={"CRN": 90.0},
    )
    assert second.density[ZoneCode.CRN] == pytest.approx(18000 / 90)
    history = cumulative_dose([second, first])
    crown = history[ZoneCode.CRN]
    assert crown.cumulative_per_cm2 == pytest.approx(100 + 200)
    assert crown.sessions == 2 and crown.last_treated == date(2026, 1, 25)
    assert crown.days_since(date(2026, 2, 4)) == 10
    assert history[ZoneCode.HL].days_since(date(2026, 2, 4)) == 30
    assert (
        history[ZoneCode.NAP].sessions == 0
        and history[ZoneCode.NAP].days_since(date(2026, 2, 4)) is None
    )
