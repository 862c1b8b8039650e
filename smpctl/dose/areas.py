"""Zone areas in cm², the denominator of every dose.

No published per-zone areas exist: the defaults are domain.md's starting estimates, and a
practitioner replaces them with what they measure on the client. A measured area that
cannot be true (zero, negative, more than a whole scalp) is refused, because a dose divided
by it would be wrong without anyone seeing it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from smpctl.errors import UnknownZoneError, ZoneAreaError
from smpctl.zones import ZoneCode

DEFAULT_AREAS_CM2: Mapping[ZoneCode, float] = MappingProxyType(
    {
        ZoneCode.HL: 30.0,
        ZoneCode.TMP_L: 15.0,
        ZoneCode.TMP_R: 15.0,
        ZoneCode.FRN: 60.0,
        ZoneCode.MID: 80.0,
        ZoneCode.CRN: 60.0,
        ZoneCode.PAR_L: 60.0,
        ZoneCode.PAR_R: 60.0,
        ZoneCode.OCC: 80.0,
        ZoneCode.NAP: 40.0,
    }
)
"""domain.md "Zone areas": 500 cm² in all, like a measured adult scalp (492 ± 31)."""

WHOLE_SCALP_MAX_CM2 = 600.0
"""No zone can be larger than a whole, large adult scalp (492 ± 31 cm², with margin)."""


def _zone(code: ZoneCode | str) -> ZoneCode:
    if isinstance(code, ZoneCode):
        return code
    try:
        return ZoneCode(code.strip().upper())
    except ValueError:
        raise UnknownZoneError(
            f"unknown zone {code!r}: use one of {', '.join(z.value for z in ZoneCode)}."
        ) from None


def validate_area(zone: ZoneCode | str, area_cm2: float) -> float:
    """``area_cm2`` if it can be a measured area of ``zone``; otherwise ZoneAreaError."""
    code = _zone(zone)
    if not math.isfinite(area_cm2):
        raise ZoneAreaError(code.value, area_cm2, "is not a number")
    if area_cm2 == 0:
        raise ZoneAreaError(code.value, area_cm2, "is zero")
    if area_cm2 < 0:
        raise ZoneAreaError(code.value, area_cm2, "is negative")
    if area_cm2 > WHOLE_SCALP_MAX_CM2:
        raise ZoneAreaError(
            code.value, area_cm2, f"is larger than a whole scalp ({WHOLE_SCALP_MAX_CM2:g} cm²)"
        )
    return float(area_cm2)


def zone_areas(measured: Mapping[ZoneCode | str, float] | None = None) -> dict[ZoneCode, float]:
    """Every zone's area: the defaults, replaced by ``measured`` ones. All of ``measured``
    is checked before anything is returned, so a bad entry leaves nothing half-applied."""
    areas = dict(DEFAULT_AREAS_CM2)
    checked = {_zone(z): validate_area(z, a) for z, a in (measured or {}).items()}
    total = sum({**areas, **checked}.values())
    if total > WHOLE_SCALP_MAX_CM2 * 1.5:
        raise ZoneAreaError("all zones", total, "adds up to far more than a whole scalp")
    areas.update(checked)
    return areas
