"""A client's measured zone areas: each replaces domain.md's estimate in the doses of the
client's next sessions (a past session keeps the areas recorded with it).

Every entry of one command is checked, and the whole scalp with them, before any is
written: a dose divided by a wrong area is wrong without anyone seeing it, and half of a
re-measurement applied is a scalp nobody measured.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smpctl.dose import validate_area, zone_areas
from smpctl.errors import ClientRecordError, ZoneAreaError
from smpctl.journal import Insert, Journal
from smpctl.journal.doses import areas_in_force
from smpctl.zones import ZoneCode

from .client_ref import ClientRef
from .record_fields import check_not_future, parse_zone


@dataclass(frozen=True)
class ZoneArea:
    """One zone's area in force for the client's next session."""

    zone: str
    area_cm2: float
    source: str
    """``measured`` (on this client) or ``default`` (domain.md's estimate)."""
    measured_day: dt.date | None
    method: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "area_cm2": self.area_cm2,
            "source": self.source,
            "measured_day": self.measured_day.isoformat() if self.measured_day else None,
            "method": self.method,
        }


def record_areas(
    journal: Journal,
    client: ClientRef,
    entries: Sequence[tuple[str, float]],
    *,
    day: dt.date,
    today: dt.date,
    method: str | None = None,
) -> list[str]:
    """Record ``entries`` (zone, cm²) measured on ``day``, all in one write; their uids."""
    if not entries:
        raise ClientRecordError("no area given: write ZONE=CM2, e.g. CRN=58.5")
    check_not_future(day, today, "the measurement day")
    checked: dict[ZoneCode, float] = {}
    for text, area in entries:
        zone = parse_zone(text)
        if zone in checked:
            raise ClientRecordError(
                f"zone {zone.value} is given twice ({checked[zone]:g} and {area:g} cm²): give "
                "each zone once. Nothing was recorded."
            )
        checked[zone] = validate_area(zone, area)
    known = {z.value for z in ZoneCode}
    scalp = {
        z: a
        for z, (a, source) in areas_in_force(journal, client.uid).items()
        if source == "measured" and z in known
    }
    scalp.update({z.value: a for z, a in checked.items()})
    try:
        zone_areas(scalp)  # the scalp as it would then be, all zones together
    except ZoneAreaError as exc:
        given = ", ".join(f"{z.value}={a:g}" for z, a in checked.items())
        raise ClientRecordError(
            f"with {given} the client's zones would add up to {exc.area_cm2:g} cm², far more "
            "than a whole scalp (~500 cm²): check each entry is one zone's area in cm². "
            "Nothing was recorded."
        ) from None
    ops = list(client.registration(journal))
    uids = []
    for zone, area in checked.items():
        uid = journal.store.new_uid()
        uids.append(uid)
        ops.append(
            Insert(
                "client_areas",
                {
                    "uid": uid,
                    "client_uid": client.uid,
                    "zone": zone.value,
                    "area_cm2": area,
                    "measured_day": day.isoformat(),
                    "method": method or None,
                    "recorded_wall": journal.now,
                },
            )
        )
    journal.store.write(ops)
    return uids


def client_areas(journal: Journal, client_uid: str) -> list[ZoneArea]:
    """Every zone's area in force, in zone order, with the day and method of a measured
    one."""
    newest: dict[str, dict[str, Any]] = {}
    for r in journal.store.query(
        "SELECT zone, measured_day, method FROM client_areas WHERE client_uid = ? "
        "ORDER BY measured_day, recorded_wall, rowid",
        (client_uid,),
    ):
        newest[str(r["zone"])] = r
    out = []
    for zone, (area, source) in areas_in_force(journal, client_uid).items():
        row = newest.get(zone) if source == "measured" else None
        out.append(
            ZoneArea(
                zone=zone,
                area_cm2=area,
                source=source,
                measured_day=dt.date.fromisoformat(row["measured_day"]) if row else None,
                method=row["method"] if row else None,
            )
        )
    return out
