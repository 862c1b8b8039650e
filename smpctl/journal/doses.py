"""The micro-injury dose as recorded: punctures per zone per session, over the zone's area
in force for that session, and summed over a client's sessions.

Every figure comes from the pass rows' ``punctures`` (in-skin strokes × needles, written
when each pass ended; summed per zone as they are recorded, in ``zone_totals``) and the
session's own ``session_areas``, so re-measuring a client
later never rewrites a past session's dose. Passes recorded before doses were kept have no
punctures: their zone shows strokes but an unknown dose, never a guessed one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from smpctl.dose import DEFAULT_AREAS_CM2

from .journal import Journal

AreaInForce = tuple[float, str]
"""(area in cm², source: ``default``, ``measured`` or ``entered``)."""

_DEFAULTS: dict[str, AreaInForce] = {z.value: (a, "default") for z, a in DEFAULT_AREAS_CM2.items()}

DEFAULT_AREA_FALLBACK = 50.0
"""Only for a zone code this smpctl does not know (a newer journal's): 500 cm² / 10."""

_ZONE_PASSES_SQL = """
SELECT session_uid, zone, passes, strokes,
       in_skin_sum AS in_skin_strokes, in_skin_passes AS with_in_skin,
       punctures_sum AS punctures, punctures_passes AS with_punctures
FROM zone_totals
WHERE session_uid IN ({marks}) AND zone IS NOT NULL
"""
"""Per session and zone from ``zone_totals`` (kept by the journal's triggers as passes are
recorded): a dose reads a row per zone, not every pass."""


@dataclass(frozen=True)
class ZoneDose:
    """One zone in one session."""

    zone: str
    passes: int
    strokes: int
    in_skin_strokes: int | None
    """None when no pass of the zone has a count (recorded before doses were kept)."""
    punctures: int | None
    """None when some in-skin strokes have no needle count (no cartridge registered)."""
    area_cm2: float
    area_source: str

    @property
    def per_cm2(self) -> float | None:
        return None if self.punctures is None else self.punctures / self.area_cm2

    @property
    def treated(self) -> bool:
        """Needle went into the skin here (by the in-skin count when there is one)."""
        if self.in_skin_strokes is not None:
            return self.in_skin_strokes > 0
        return self.strokes > 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "per_cm2": self.per_cm2}


@dataclass(frozen=True)
class ZoneDoseHistory:
    """One zone over a client's sessions."""

    zone: str
    cumulative_per_cm2: float
    """Sum of each session's punctures/cm² (each with its own area)."""
    sessions: int
    """Sessions that treated the zone."""
    unknown_sessions: int
    """Of those, sessions whose dose is unknown (so the cumulative figure is a floor)."""
    last_treated_day: dt.date | None
    last_session_uid: str | None

    def days_since(self, today: dt.date) -> int | None:
        return None if self.last_treated_day is None else (today - self.last_treated_day).days

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["last_treated_day"] = (
            self.last_treated_day.isoformat() if self.last_treated_day else None
        )
        return out


def session_areas(journal: Journal, session_uid: str) -> dict[str, AreaInForce]:
    """Every zone's area for ``session_uid``: as recorded with it, else the default."""
    areas = dict(_DEFAULTS)
    for r in journal.store.query(
        "SELECT zone, area_cm2, source FROM session_areas WHERE session_uid = ? ORDER BY rowid",
        (session_uid,),
    ):
        areas[r["zone"]] = (float(r["area_cm2"]), str(r["source"]))
    return areas


def areas_in_force(journal: Journal, client_uid: str) -> dict[str, AreaInForce]:
    """Every zone's area for the client's next session: the newest measurement, else the
    default."""
    areas = dict(_DEFAULTS)
    for r in journal.store.query(
        "SELECT zone, area_cm2 FROM client_areas WHERE client_uid = ? "
        "ORDER BY measured_day, recorded_wall, rowid",
        (client_uid,),
    ):
        areas[r["zone"]] = (float(r["area_cm2"]), "measured")
    return areas


def _zone_dose(r: Mapping[str, Any], area: AreaInForce) -> ZoneDose:
    passes = int(r["passes"])
    in_skin = int(r["in_skin_strokes"]) if r["with_in_skin"] else None
    complete = r["with_punctures"] == r["with_in_skin"] and r["with_in_skin"] > 0
    punctures = int(r["punctures"]) if complete else None
    return ZoneDose(
        zone=str(r["zone"]),
        passes=passes,
        strokes=int(r["strokes"]),
        in_skin_strokes=in_skin,
        punctures=punctures,
        area_cm2=area[0],
        area_source=area[1],
    )


def doses_by_session(journal: Journal, session_uids: list[str]) -> dict[str, dict[str, ZoneDose]]:
    """Per session, per treated-or-touched zone: one row of zone totals each."""
    out: dict[str, dict[str, ZoneDose]] = {uid: {} for uid in session_uids}
    if not session_uids:
        return out
    areas = {uid: session_areas(journal, uid) for uid in session_uids}
    marks = ", ".join("?" * len(session_uids))
    for r in journal.store.query(_ZONE_PASSES_SQL.format(marks=marks), tuple(session_uids)):
        uid = str(r["session_uid"])
        zone = str(r["zone"])
        out[uid][zone] = _zone_dose(r, areas[uid].get(zone, (DEFAULT_AREA_FALLBACK, "default")))
    return out


def session_doses(journal: Journal, session_uid: str) -> dict[str, ZoneDose]:
    return doses_by_session(journal, [session_uid])[session_uid]


def client_sessions(
    journal: Journal, client_uid: str, *, before_wall: float | None = None
) -> list[tuple[str, float]]:
    """The client's sessions (uid, started_wall), oldest first."""
    rows = journal.store.query(
        "SELECT uid, started_wall FROM sessions WHERE client_uid = ? "
        "AND (? IS NULL OR started_wall < ?) ORDER BY started_wall, rowid",
        (client_uid, before_wall, before_wall),
    )
    return [(str(r["uid"]), float(r["started_wall"])) for r in rows]


def client_dose_history(
    journal: Journal, client_uid: str, *, before_wall: float | None = None
) -> dict[str, ZoneDoseHistory]:
    """Per zone the client's cumulative dose, the sessions that treated it and when last;
    ``before_wall`` leaves out sessions started at or after it (the one now running)."""
    sessions = client_sessions(journal, client_uid, before_wall=before_wall)
    doses = doses_by_session(journal, [uid for uid, _ in sessions])
    total: dict[str, float] = {}
    count: dict[str, int] = {}
    unknown: dict[str, int] = {}
    last: dict[str, tuple[dt.date, str]] = {}
    for uid, started in sessions:
        day = dt.date.fromtimestamp(started)
        for zone, d in doses[uid].items():
            if not d.treated:
                continue
            count[zone] = count.get(zone, 0) + 1
            per_cm2 = d.per_cm2
            if per_cm2 is None:
                unknown[zone] = unknown.get(zone, 0) + 1
            else:
                total[zone] = total.get(zone, 0.0) + per_cm2
            last[zone] = (day, uid)
    zones = [*_DEFAULTS, *sorted(set(count) - set(_DEFAULTS))]
    return {
        zone: ZoneDoseHistory(
            zone=zone,
            cumulative_per_cm2=total.get(zone, 0.0),
            sessions=count.get(zone, 0),
            unknown_sessions=unknown.get(zone, 0),
            last_treated_day=last[zone][0] if zone in last else None,
            last_session_uid=last[zone][1] if zone in last else None,
        )
        for zone in zones
    }


def client_uid_of(journal: Journal, pseudonym: str) -> str | None:
    row = journal.store.query_one(
        "SELECT uid FROM clients WHERE pseudonym = ? ORDER BY rowid LIMIT 1", (pseudonym,)
    )
    return None if row is None else str(row["uid"])
