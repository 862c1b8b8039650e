"""The dose guard: where a zone's dose this session stands against its profile's bounds, and
which zones come back before their minimum interval.

Pure: numbers and dates in, a state and a message out. The dashboard decides what to do
with a state (warn when NEAR, stop the needle on the zone AT_CEILING until the practitioner
overrides with a reason). Thresholds and the reasoning behind the shipped bounds:
docs/dose.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final, TypeVar

from smpctl.errors import DoseBoundsError
from smpctl.zones import ZoneCode

from .areas import _zone

NEAR_CEILING_FRACTION: Final = 0.9
"""NEAR from 90 % of the ceiling: on an SMP hairline the last 10 % is still ~120 dots (48
punctures/cm² over 30 cm², 12 strokes a dot), time to finish the area in hand; on a
microneedling ceiling of 300/cm² it starts at 270, just past the usual target of 250
(docs/dose.md)."""

UNIT = "punctures/cm²"

LastKey = TypeVar("LastKey", bound=str)
MinKey = TypeVar("MinKey", bound=str)
"""Zone keys: ``ZoneCode`` or its text (a journal query's ``str`` keys); two variables, so
each mapping may use either (a Mapping's key type is invariant)."""


class DoseState(StrEnum):
    BELOW = "below"
    """Under NEAR_CEILING_FRACTION of the ceiling (the target may already be reached)."""
    NEAR = "near"
    """At or above NEAR_CEILING_FRACTION of the ceiling, below the ceiling."""
    AT_CEILING = "at_ceiling"
    """At or above the ceiling."""


def _whole(value: float) -> int:
    """Rounded down, so a zone shown at 90 % is NEAR and one shown at 89 % is not, and a
    dose shown as 60 of a ceiling of 60 is at the ceiling."""
    return math.floor(value + 1e-9)


def _percent(fraction: float) -> int:
    return _whole(fraction * 100)


def _days(n: int) -> str:
    return f"{n} day{'' if abs(n) == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class DoseBounds:
    """A zone's bounds in a profile, for one session: punctures per cm² to aim for and not
    to pass, and the fewest days between two sessions on the zone."""

    zone: ZoneCode
    target_per_cm2: float
    ceiling_per_cm2: float
    min_interval_days: int

    def __post_init__(self) -> None:
        zone = _zone(self.zone)
        object.__setattr__(self, "zone", zone)
        fix = "Fix the profile and run `smpctl profiles check`."
        for name in ("target_per_cm2", "ceiling_per_cm2"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise DoseBoundsError(zone.value, f"the {name[:-8]} is {value:g} {UNIT}", fix)
        if self.target_per_cm2 > self.ceiling_per_cm2:
            raise DoseBoundsError(
                zone.value,
                f"the target ({self.target_per_cm2:g} {UNIT}) is above the ceiling "
                f"({self.ceiling_per_cm2:g})",
                fix,
            )
        if self.min_interval_days < 0:
            raise DoseBoundsError(
                zone.value, f"the minimum interval is {self.min_interval_days} days", fix
            )

    @property
    def near_per_cm2(self) -> float:
        """The dose from which the zone is NEAR its ceiling."""
        return round(self.ceiling_per_cm2 * NEAR_CEILING_FRACTION, 6)

    def check(self, session_per_cm2: float, *, running_per_cm2: float = 0.0) -> DoseCheck:
        """Where this session's dose (done, plus the pass running now) stands."""
        return check_dose(
            self.zone,
            session_per_cm2,
            self.target_per_cm2,
            self.ceiling_per_cm2,
            running_per_cm2=running_per_cm2,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "zone": self.zone.value,
            "target_per_cm2": self.target_per_cm2,
            "ceiling_per_cm2": self.ceiling_per_cm2,
            "near_per_cm2": self.near_per_cm2,
            "min_interval_days": self.min_interval_days,
        }


@dataclass(frozen=True, slots=True)
class DoseCheck:
    """One zone's dose this session against its bounds, with the line to show."""

    zone: ZoneCode
    state: DoseState
    per_cm2: float
    """This session's dose on the zone: passes done plus the running pass."""
    running_per_cm2: float
    target_per_cm2: float
    ceiling_per_cm2: float
    message: str

    @property
    def fraction_of_ceiling(self) -> float:
        return self.per_cm2 / self.ceiling_per_cm2

    @property
    def fraction_of_target(self) -> float:
        """For a bar toward the target (1.0 = reached; above 1 past it)."""
        return self.per_cm2 / self.target_per_cm2

    @property
    def target_reached(self) -> bool:
        return self.per_cm2 >= self.target_per_cm2

    @property
    def remaining_per_cm2(self) -> float:
        """Punctures per cm² left before the ceiling (0 at or past it)."""
        return max(0.0, self.ceiling_per_cm2 - self.per_cm2)


def check_dose(
    zone: ZoneCode | str,
    session_per_cm2: float,
    target_per_cm2: float,
    ceiling_per_cm2: float,
    *,
    running_per_cm2: float = 0.0,
) -> DoseCheck:
    """BELOW, NEAR (from NEAR_CEILING_FRACTION of the ceiling) or AT_CEILING, for the zone's
    dose this session: ``session_per_cm2`` from the passes done, ``running_per_cm2`` from
    the pass in progress (live use)."""
    code = _zone(zone)
    bounds = DoseBounds(code, target_per_cm2, ceiling_per_cm2, 0)
    for name, value in (("session dose", session_per_cm2), ("running pass", running_per_cm2)):
        if not (math.isfinite(value) and value >= 0):
            raise DoseBoundsError(
                code.value,
                f"the {name} is {value:g} {UNIT}",
                "A dose is never negative: this is a fault in the caller; report it.",
            )
    per_cm2 = session_per_cm2 + running_per_cm2
    fraction = per_cm2 / ceiling_per_cm2
    ceiling, target = bounds.ceiling_per_cm2, bounds.target_per_cm2
    z = code.value
    if fraction >= 1.0:
        state = DoseState.AT_CEILING
        message = (
            f"{z} has reached its ceiling of {ceiling:g} {UNIT} ({_whole(per_cm2)} this session, "
            f"{_percent(fraction)} %): stop treating {z} this session, or override with a "
            "reason"
        )
    elif fraction >= NEAR_CEILING_FRACTION:
        state = DoseState.NEAR
        message = (
            f"{z} at {_percent(fraction)} % of its ceiling of {ceiling:g} {UNIT} "
            f"({_whole(per_cm2)} this session; target {target:g})"
        )
    else:
        state = DoseState.BELOW
        if per_cm2 >= target:
            message = (
                f"{z} has reached its target of {target:g} {UNIT} ({_whole(per_cm2)} this "
                f"session; ceiling {ceiling:g})"
            )
        else:
            message = (
                f"{z} at {_whole(per_cm2)} of its target of {target:g} {UNIT} this session "
                f"({_percent(per_cm2 / target)} %; ceiling {ceiling:g})"
            )
    return DoseCheck(code, state, per_cm2, running_per_cm2, target, ceiling, message)


@dataclass(frozen=True, slots=True)
class IntervalWarning:
    """A zone about to be treated again sooner than the profile's minimum interval."""

    zone: ZoneCode
    last_treated: date
    today: date
    min_interval_days: int

    @property
    def days_since(self) -> int:
        return (self.today - self.last_treated).days

    @property
    def earliest(self) -> date:
        """The first day the profile's interval allows."""
        return self.last_treated + timedelta(days=self.min_interval_days)

    @property
    def message(self) -> str:
        z, days = self.zone.value, self.days_since
        asks = (
            f"this profile asks for at least {_days(self.min_interval_days)} between sessions "
            f"on {z}"
        )
        if days < 0:
            return (
                f"{z} last treated {self.last_treated.isoformat()}, which is after today "
                f"({self.today.isoformat()}): check this computer's date and the journal; {asks}"
            )
        if days == 0:
            when = f"{z} already treated today ({self.today.isoformat()})"
        else:
            when = (
                f"{z} last treated {self.last_treated.isoformat()}, {_days(days)} ago "
                f"(today is {self.today.isoformat()})"
            )
        return f"{when}; {asks} (from {self.earliest.isoformat()})"


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def interval_warnings(
    last_treated: Mapping[LastKey, date | None],
    min_interval_days: Mapping[MinKey, int],
    today: date,
) -> list[IntervalWarning]:
    """One warning per zone last treated fewer than its minimum days before ``today``, in
    zone order (a last date after today counts as too soon: the clock or the record is
    wrong). Zones never treated, or without a minimum in ``min_interval_days``, are not
    warned about."""
    minimum = {_zone(z): days for z, days in min_interval_days.items()}
    for zone, days in minimum.items():
        if days < 0:
            raise DoseBoundsError(
                zone.value,
                f"the minimum interval is {days} days",
                "Fix the profile and run `smpctl profiles check`.",
            )
    last = {_zone(z): _day(d) for z, d in last_treated.items() if d is not None}
    today = _day(today)
    warnings = []
    for zone in ZoneCode:
        if zone not in last or zone not in minimum:
            continue
        warning = IntervalWarning(zone, last[zone], today, minimum[zone])
        if warning.days_since < minimum[zone]:
            warnings.append(warning)
    return warnings
