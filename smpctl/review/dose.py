"""The micro-injury dose in the review: per zone the in-skin strokes, the punctures and the
punctures per cm² over the zone's area in force for the session (and where that area came
from), the session's kind and, for microneedling, the end point reached per zone; across a
client's sessions, the cumulative dose and the days between treatments.

The figures are smpctl.journal.doses' (the dashboard and the dose guard read the same), so a
dose is never computed twice two ways. A zone whose passes predate in-skin counting has an
unknown dose, shown as unknown, never as zero.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from smpctl.dose.punctures import NANO_NEEDLES
from smpctl.journal import Journal
from smpctl.journal.doses import ZoneDose, doses_by_session

NANO_NOTE = (
    f"A nano cartridge is a chip of micro-cones, not separate needles, and makers vary: its "
    f"punctures count it as {NANO_NEEDLES} needles (the common 7 × 7 chip). A convention, so "
    "nano doses compare with each other; not a measurement."
)
"""Said wherever a dose made with a nano cartridge is shown (smpctl.dose.punctures)."""

DOSE_UNIT = "punctures/cm²"


@dataclass(frozen=True)
class EndPoint:
    """The end point a microneedling session reached in a zone (the newest one recorded)."""

    zone: str
    end_point: str
    """``none``, ``erythema`` or ``pinpoint_bleeding``."""
    note: str | None
    recorded_wall: float

    @property
    def words(self) -> str:
        return self.end_point.replace("_", " ")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def end_points(journal: Journal, session_uid: str) -> dict[str, EndPoint]:
    """Per zone the newest end point recorded for the session."""
    out: dict[str, EndPoint] = {}
    for r in journal.store.query(
        "SELECT zone, end_point, note, recorded_wall FROM zone_endpoints WHERE session_uid = ? "
        "ORDER BY recorded_wall, rowid",
        (session_uid,),
    ):
        out[r["zone"]] = EndPoint(r["zone"], r["end_point"], r["note"], r["recorded_wall"])
    return out


@dataclass(frozen=True)
class SessionDose:
    kind: str
    """``smp`` or ``microneedling``."""
    zones: dict[str, ZoneDose]
    end_points: dict[str, EndPoint]
    nano: bool
    """A nano cartridge made some of the passes: its needle count is a convention."""

    @property
    def microneedling(self) -> bool:
        return self.kind == "microneedling"

    @property
    def known(self) -> bool:
        """Some zone has a dose (in-skin strokes counted and a needle count)."""
        return any(d.per_cm2 is not None for d in self.zones.values())

    @property
    def in_skin_strokes(self) -> int | None:
        counts = [d.in_skin_strokes for d in self.zones.values()]
        return None if not counts or None in counts else sum(c or 0 for c in counts)

    @property
    def punctures(self) -> int | None:
        """All zones' punctures; None if any zone's is unknown (a sum would be a floor)."""
        counts = [d.punctures for d in self.zones.values()]
        return None if not counts or None in counts else sum(c or 0 for c in counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "unit": DOSE_UNIT,
            "zones": {zone: d.as_dict() for zone, d in self.zones.items()},
            "end_points": {zone: e.as_dict() for zone, e in self.end_points.items()},
            "in_skin_strokes": self.in_skin_strokes,
            "punctures": self.punctures,
            "nano_convention": NANO_NOTE if self.nano else None,
        }


def session_dose(journal: Journal, session_uid: str, kind: str, *, nano: bool) -> SessionDose:
    """``nano``: a nano cartridge made some of the session's passes."""
    return SessionDose(
        kind=kind,
        zones=doses_by_session(journal, [session_uid])[session_uid],
        end_points=end_points(journal, session_uid) if kind == "microneedling" else {},
        nano=nano,
    )


@dataclass
class ZoneDoseSeries:
    """One zone over the sessions compared, oldest first."""

    doses: list[ZoneDose | None]
    """One per session, None where the zone had no pass."""
    days: list[dt.date]
    """Each session's day, aligned with ``doses``."""
    end_points: list[EndPoint | None] = field(default_factory=list)

    @property
    def treated(self) -> list[int]:
        """Indexes of the sessions that treated the zone."""
        return [i for i, d in enumerate(self.doses) if d is not None and d.treated]

    @property
    def cumulative_per_cm2(self) -> float:
        """Each treating session's punctures/cm² (with its own area) summed, as
        ``client_dose_history`` sums them; a floor when ``unknown_sessions``."""
        return sum(
            per_cm2
            for i in self.treated
            if (dose := self.doses[i]) is not None and (per_cm2 := dose.per_cm2) is not None
        )

    @property
    def unknown_sessions(self) -> int:
        return sum(
            1 for i in self.treated if (d := self.doses[i]) is not None and d.per_cm2 is None
        )

    @property
    def known(self) -> bool:
        return len(self.treated) > self.unknown_sessions

    @property
    def days_between(self) -> list[int]:
        """Days from each treatment of the zone to the next."""
        treated = [self.days[i] for i in self.treated]
        return [(b - a).days for a, b in itertools.pairwise(treated)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "per_session": [d.as_dict() if d is not None else None for d in self.doses],
            "end_points": [e.as_dict() if e is not None else None for e in self.end_points],
            "cumulative_per_cm2": self.cumulative_per_cm2 if self.known else None,
            "sessions_treated": len(self.treated),
            "unknown_sessions": self.unknown_sessions,
            "days_between": self.days_between,
            "unit": DOSE_UNIT,
        }


def zone_dose_series(
    journal: Journal, sessions: Sequence[tuple[str, float, str]], zones: Sequence[str]
) -> dict[str, ZoneDoseSeries]:
    """``sessions``: (uid, started_wall, kind), oldest first. One query for every
    session's doses; end points for the microneedling ones."""
    doses = doses_by_session(journal, [uid for uid, _wall, _kind in sessions])
    days = [dt.date.fromtimestamp(wall) for _uid, wall, _kind in sessions]
    points = [
        end_points(journal, uid) if kind == "microneedling" else {} for uid, _wall, kind in sessions
    ]
    return {
        zone: ZoneDoseSeries(
            [doses[uid].get(zone) for uid, _wall, _kind in sessions],
            days,
            [p.get(zone) for p in points],
        )
        for zone in zones
    }
