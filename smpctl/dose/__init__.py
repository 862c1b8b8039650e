"""Micro-injury dose: in-skin strokes from telemetry, punctures, zone areas, densities.

Pure computation over telemetry and records: no I/O, no journal writes, no UI.
"""

from __future__ import annotations

from .areas import DEFAULT_AREAS_CM2, WHOLE_SCALP_MAX_CM2, validate_area, zone_areas
from .contact import ContactCounts, ContactDetector, ContactSettings
from .density import PassDose, SessionDose, ZoneHistory, cumulative_dose, session_dose
from .guard import (
    NEAR_CEILING_FRACTION,
    DoseBounds,
    DoseCheck,
    DoseState,
    IntervalWarning,
    check_dose,
    interval_warnings,
)
from .punctures import CartridgeKind, needle_count, punctures

__all__ = [
    "DEFAULT_AREAS_CM2",
    "NEAR_CEILING_FRACTION",
    "WHOLE_SCALP_MAX_CM2",
    "CartridgeKind",
    "ContactCounts",
    "ContactDetector",
    "ContactSettings",
    "DoseBounds",
    "DoseCheck",
    "DoseState",
    "IntervalWarning",
    "PassDose",
    "SessionDose",
    "ZoneHistory",
    "check_dose",
    "cumulative_dose",
    "interval_warnings",
    "needle_count",
    "punctures",
    "session_dose",
    "validate_area",
    "zone_areas",
]
