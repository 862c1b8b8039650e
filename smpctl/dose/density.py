"""Dose: punctures per cm² per zone, for one session and summed over a client's sessions.

Each session carries the zone areas in force when it was done, so a later re-measurement
does not rewrite past doses: a session's density uses its own areas, and the cumulative
dose is the sum of the sessions' densities (punctures on the same skin add up per cm²).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from smpctl.zones import ZoneCode

from .areas import zone_areas
from .punctures import CartridgeKind, punctures


@dataclass(frozen=True, slots=True)
class PassDose:
    """One pass as the dose needs it: where, with what cartridge, how many in-skin strokes."""

    zone: ZoneCode
    cartridge: CartridgeKind
    in_skin_strokes: int

    @property
    def punctures(self) -> int:
        return punctures(self.in_skin_strokes, self.cartridge)


@dataclass(frozen=True, slots=True)
class SessionDose:
    """Punctures and densities of one session, with the areas it was computed with."""

    day: date
    punctures: Mapping[ZoneCode, int]
    areas_cm2: Mapping[ZoneCode, float]
    density: Mapping[ZoneCode, float] = field(init=False)

    def __post_init__(self) -> None:
        density = {z: n / self.areas_cm2[z] for z, n in self.punctures.items()}
        object.__setattr__(self, "density", density)


def session_dose(
    day: date,
    passes: Iterable[PassDose],
    measured_areas: Mapping[ZoneCode | str, float] | None = None,
) -> SessionDose:
    """Sum a session's passes per zone; areas are the defaults replaced by ``measured``."""
    areas = zone_areas(measured_areas)
    totals: dict[ZoneCode, int] = {}
    for p in passes:
        totals[p.zone] = totals.get(p.zone, 0) + p.punctures
    return SessionDose(day, totals, areas)


@dataclass(frozen=True, slots=True)
class ZoneHistory:
    """One zone over a client's sessions."""

    zone: ZoneCode
    cumulative_per_cm2: float
    sessions: int
    last_treated: date | None

    def days_since(self, today: date) -> int | None:
        return None if self.last_treated is None else (today - self.last_treated).days


def cumulative_dose(sessions: Iterable[SessionDose]) -> dict[ZoneCode, ZoneHistory]:
    """Per zone: the sum of each session's density, how many sessions touched it, when."""
    total: dict[ZoneCode, float] = {}
    count: dict[ZoneCode, int] = {}
    last: dict[ZoneCode, date] = {}
    for s in sorted(sessions, key=lambda s: s.day):
        for zone, per_cm2 in s.density.items():
            if s.punctures[zone] <= 0:
                continue
            total[zone] = total.get(zone, 0.0) + per_cm2
            count[zone] = count.get(zone, 0) + 1
            last[zone] = s.day
    return {
        zone: ZoneHistory(zone, total.get(zone, 0.0), count.get(zone, 0), last.get(zone))
        for zone in ZoneCode
    }
