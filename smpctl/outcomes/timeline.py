"""One client over time, zone by zone: each session's dose and the cumulative dose it
brought the zone to, the hair measurements with the dose reached before each, and the
adjunct treatments running on the day.

The cumulative series is read from the journal's own dose query (``client_dose_history``)
once per session, with the sessions up to that one, so every figure here is the one the
dashboard and ``logs`` show for that point in time, each session with its own areas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smpctl.journal import Journal
from smpctl.journal.doses import ZoneDoseHistory, client_dose_history
from smpctl.zones import ZoneCode

from .adjuncts import AdjunctCourse, active_on, client_adjuncts
from .client_ref import ClientRef, session_day
from .measurements import HairMeasurement, client_outcomes

SMP = "smp"
MICRONEEDLING = "microneedling"
DEFAULT_KIND = SMP
"""Sessions recorded before microneedling sessions existed have no kind: they were SMP."""


@dataclass(frozen=True)
class SessionMark:
    uid: str
    number: int
    day: dt.date
    kind: str
    started_wall: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.uid,
            "number": self.number,
            "day": self.day.isoformat(),
            "kind": self.kind,
        }


@dataclass(frozen=True)
class DosePoint:
    """A session that treated the zone."""

    session: SessionMark
    per_cm2: float | None
    """This session's punctures/cm²; None when it is unknown (passes with no count)."""
    cumulative_per_cm2: float
    """After this session; a floor when ``complete`` is false."""
    complete: bool
    """Every session so far has a known dose."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "session": self.session.as_dict(),
            "per_cm2": self.per_cm2,
            "cumulative_per_cm2": self.cumulative_per_cm2,
            "cumulative_complete": self.complete,
        }


@dataclass(frozen=True)
class MeasurementPoint:
    measurement: HairMeasurement
    cumulative_per_cm2: float
    """Dose reached before the day's sessions (a measurement on a session day came first)."""
    complete: bool
    sessions_before: int
    adjuncts: tuple[str, ...]
    """Adjunct courses running on the day."""

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.measurement.as_dict(),
            "cumulative_per_cm2": self.cumulative_per_cm2,
            "cumulative_complete": self.complete,
            "sessions_before": self.sessions_before,
            "adjuncts_active": list(self.adjuncts),
        }


@dataclass(frozen=True)
class ZoneSeries:
    zone: str
    doses: tuple[DosePoint, ...]
    measurements: tuple[MeasurementPoint, ...]

    @property
    def first_treated(self) -> dt.date | None:
        return self.doses[0].session.day if self.doses else None

    def dose_before(self, day: dt.date) -> tuple[float, bool, int]:
        """(cumulative punctures/cm², complete, sessions) from sessions before ``day``."""
        done = [d for d in self.doses if d.session.day < day]
        if not done:
            return 0.0, True, 0
        return done[-1].cumulative_per_cm2, done[-1].complete, len(done)

    def kinds_before(self, day: dt.date) -> set[str]:
        return {d.session.kind for d in self.doses if d.session.day < day}

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "first_treated": self.first_treated.isoformat() if self.first_treated else None,
            "sessions": [d.as_dict() for d in self.doses],
            "measurements": [m.as_dict() for m in self.measurements],
        }


@dataclass(frozen=True)
class ClientTimeline:
    client: ClientRef
    sessions: tuple[SessionMark, ...]
    adjuncts: tuple[AdjunctCourse, ...]
    zones: Mapping[str, ZoneSeries]
    """Zones treated or measured, in zone order."""

    @property
    def last_day(self) -> dt.date | None:
        """The day of the client's last session or measurement."""
        days = [s.day for s in self.sessions] + [
            p.measurement.day for z in self.zones.values() for p in z.measurements
        ]
        return max(days, default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client.pseudonym,
            "sessions": [s.as_dict() for s in self.sessions],
            "adjuncts": [a.as_dict() for a in self.adjuncts],
            "zones": {z: s.as_dict() for z, s in self.zones.items()},
        }


def session_marks(journal: Journal, client_uid: str) -> list[SessionMark]:
    """The client's sessions, oldest first (the order of the journal's dose queries)."""
    rows = journal.store.query(
        "SELECT uid, session_number, started_wall, kind FROM sessions WHERE client_uid = ? "
        "ORDER BY started_wall, rowid",
        (client_uid,),
    )
    return [
        SessionMark(
            uid=str(r["uid"]),
            number=int(r["session_number"]),
            day=session_day(float(r["started_wall"])),
            kind=str(r["kind"] or DEFAULT_KIND),
            started_wall=float(r["started_wall"]),
        )
        for r in rows
    ]


def _dose_series(
    journal: Journal, client_uid: str, sessions: Sequence[SessionMark]
) -> dict[str, list[DosePoint]]:
    """Per zone, the sessions that treated it: the cumulative history read after each
    session, its difference from the one before being that session's dose."""
    series: dict[str, list[DosePoint]] = {}
    before: dict[str, ZoneDoseHistory] = {}
    for i, session in enumerate(sessions):
        upto = sessions[i + 1].started_wall if i + 1 < len(sessions) else None
        after = client_dose_history(journal, client_uid, before_wall=upto)
        for zone, h in after.items():
            prev = before.get(zone)
            if h.sessions == (prev.sessions if prev else 0):
                continue  # not treated in this session
            known = h.unknown_sessions == (prev.unknown_sessions if prev else 0)
            per_cm2 = h.cumulative_per_cm2 - (prev.cumulative_per_cm2 if prev else 0.0)
            series.setdefault(zone, []).append(
                DosePoint(
                    session,
                    per_cm2 if known else None,
                    h.cumulative_per_cm2,
                    not h.unknown_sessions,
                )
            )
        before = after
    return series


def _zone_order(zones: set[str]) -> list[str]:
    known = [z.value for z in ZoneCode if z.value in zones]
    return [*known, *sorted(zones - set(known))]


def build_timeline(
    journal: Journal,
    client: ClientRef,
    measurements: Sequence[HairMeasurement],
    adjuncts: Sequence[AdjunctCourse],
) -> ClientTimeline:
    sessions = session_marks(journal, client.uid)
    doses = _dose_series(journal, client.uid, sessions)
    by_zone: dict[str, list[HairMeasurement]] = {}
    for m in measurements:
        by_zone.setdefault(m.zone, []).append(m)
    zones: dict[str, ZoneSeries] = {}
    for zone in _zone_order(set(doses) | set(by_zone)):
        bare = ZoneSeries(zone, tuple(doses.get(zone, ())), ())
        points = []
        for m in by_zone.get(zone, ()):
            cumulative, complete, count = bare.dose_before(m.day)
            names = tuple(c.name for c in active_on(adjuncts, m.day))
            points.append(MeasurementPoint(m, cumulative, complete, count, names))
        zones[zone] = ZoneSeries(zone, bare.doses, tuple(points))
    return ClientTimeline(client, tuple(sessions), tuple(adjuncts), zones)


def client_timeline(journal: Journal, client: ClientRef) -> ClientTimeline:
    """The client's timeline, each photo hashed again."""
    return build_timeline(
        journal,
        client,
        client_outcomes(journal, client.uid),
        client_adjuncts(journal, client.uid),
    )
