"""A zone's dose bounds and expected cartridges, read from a merged profile with the key
each value came from, so ``resolve`` can show its source and the dashboard can ask for the
bounds of any zone without resolving setpoints for a pen.

The zone's value holds unless the zone has its own for the session
(``[zones.CODE.sessions.N]``); the minimum interval is the zone's alone, since it is about
the time between sessions, not one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smpctl.dose import CartridgeKind, DoseBounds
from smpctl.errors import UnknownZoneError
from smpctl.zones import ZoneCode

from .model import ProfileFile, ProfileKind
from .problems import did_you_mean

DOSE_FIELDS = ("dose_target_per_cm2", "dose_ceiling_per_cm2", "min_interval_days")


@dataclass(frozen=True)
class Sourced:
    """A value and the key path that set it (``zones.HL.dose_target_per_cm2``)."""

    value: object
    key_path: str


def covered_zone(name: str, profile: ProfileFile, zone: ZoneCode | str) -> ZoneCode:
    """``zone`` as a code this profile has settings for; UnknownZoneError otherwise."""
    zones = [z.value for z in profile.zones]
    try:
        code = ZoneCode(zone.strip().upper() if isinstance(zone, str) else zone)
    except ValueError:
        raise UnknownZoneError(
            f"unknown zone code {zone!r}; {did_you_mean(str(zone).upper(), zones)}"
            f"zone codes: {', '.join(z.value for z in ZoneCode)}"
        ) from None
    if code not in profile.zones:
        raise UnknownZoneError(
            f"profile {name!r} has no settings for zone {code.value}; it covers {', '.join(zones)}"
        )
    return code


def dose_sources(
    profile: ProfileFile, zone: ZoneCode, session: int | None
) -> dict[str, Sourced] | None:
    """The zone's three dose values for ``session`` (None: the zone's own), or None when the
    profile sets no dose bounds for the zone (an SMP profile may leave them out)."""
    settings = profile.zones[zone]
    prefix = f"zones.{zone.value}"
    found: dict[str, Sourced] = {}
    for key in DOSE_FIELDS:
        value = getattr(settings, key)
        if value is None:
            return None
        found[key] = Sourced(value, f"{prefix}.{key}")
    override = settings.sessions.get(session) if session is not None else None
    if override is not None:
        for key in ("dose_target_per_cm2", "dose_ceiling_per_cm2"):
            value = getattr(override, key)
            if value is not None:
                found[key] = Sourced(value, f"{prefix}.sessions.{session}.{key}")
    return found


def dose_bounds(profile: ProfileFile, zone: ZoneCode, session: int | None) -> DoseBounds | None:
    sources = dose_sources(profile, zone, session)
    if sources is None:
        return None
    target = sources["dose_target_per_cm2"].value
    ceiling = sources["dose_ceiling_per_cm2"].value
    interval = sources["min_interval_days"].value
    assert isinstance(target, float) and isinstance(ceiling, float) and isinstance(interval, int)
    return DoseBounds(zone, target, ceiling, interval)


def cartridge_source(profile: ProfileFile, zone: ZoneCode) -> Sourced | None:
    """A microneedling zone's expected cartridge kinds (its own list, else the profile's);
    None for SMP, whose cartridge is the resolved needle."""
    if profile.profile_kind is not ProfileKind.MICRONEEDLING:
        return None
    own = profile.zones[zone].cartridges
    if own is not None:
        return Sourced(tuple(own), f"zones.{zone.value}.cartridges")
    assert profile.cartridges is not None  # completeness_problems requires one of the two
    return Sourced(tuple(profile.cartridges), "cartridges")


def cartridge_text(cartridges: Iterable[CartridgeKind]) -> str:
    return " or ".join(k.value for k in cartridges)
