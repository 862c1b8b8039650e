"""Across every client of a journal: change in terminal hair density per zone against the
cumulative micro-injury dose, split by session kind and by adjunct treatment.

What this is: a description of the clinic's own records. Clients chose their treatments,
were measured when they came back, and many took other treatments too; nothing is
controlled or randomised. So every figure carries its n, groups are summarised by median
and range (no means pulled by one client, no p-values), and the wording says association
in these records, never that a treatment works.

The unit is a client-zone. Its baseline is the last trichoscope count on or before the
day of the zone's first treated session (a count on a session day was taken before the
needle), or, when there is none, the first count; its follow-up is the latest count, on a
later day. A client-zone without both, or whose dose is unknown (passes with no puncture
count), is left out and counted as such.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from smpctl.journal import Journal
from smpctl.zones import ZoneCode

from .adjuncts import AdjunctCourse, active_during, all_adjuncts
from .client_ref import ClientRef
from .measurements import all_outcomes
from .timeline import ZoneSeries, build_timeline


@dataclass(frozen=True)
class DoseBin:
    label: str
    low: float
    """Inclusive lower edge (punctures/cm²)."""
    high: float | None
    """Exclusive upper edge; None: no upper edge."""

    def holds(self, dose: float) -> bool:
        if self.high == self.low:  # a bin of one value: untreated
            return dose == self.low
        return dose >= self.low and (self.high is None or dose < self.high)

    def as_dict(self) -> dict[str, Any]:
        if self.high == self.low:
            return {"label": self.label, "equals": self.low}
        return {"label": self.label, "from": self.low, "below": self.high}


DOSE_BINS: tuple[DoseBin, ...] = (
    DoseBin("0 (untreated)", 0.0, 0.0),
    DoseBin("<250", 0.0, 250.0),
    DoseBin("250-1000", 250.0, 1000.0),
    DoseBin("1000-2500", 1000.0, 2500.0),
    DoseBin("2500-5000", 2500.0, 5000.0),
    DoseBin("5000-10000", 5000.0, 10000.0),
    DoseBin(">=10000", 10000.0, None),
)
"""Cumulative punctures/cm² at follow-up. Fixed edges, not fitted to the data, so two
journals' tables compare. Scale (domain.md): one microneedling session is run to about
250-300 punctures/cm², so "<250" is less than one such session and "250-1000" one to three;
an SMP session lays up to ~100 dots/cm² of a few to a dozen strokes with 1-3 needles,
hundreds to a few thousand punctures/cm², which the upper bins cover over several sessions.
Untreated zones (dose 0) are a bin of their own: the clinic's nearest thing to a
comparison, with all its limits."""

CSV_COLUMNS = (
    "zone",
    "split",
    "group",
    "n",
    "median_change_terminal_per_cm2",
    "min_change",
    "max_change",
    "median_dose_per_cm2",
    "median_days",
)

KIND_GROUPS = ("smp", "microneedling", "both", "untreated")
NO_ADJUNCT = "none"

WORDING = (
    "Association in these records only. Clients chose their treatments and when to be "
    "measured, and many took other treatments; nothing here is controlled or randomised, "
    "so these figures cannot show that any treatment works or does not. n counts "
    "client-zones (one client can count in several zones); a median of a few is an "
    "anecdote. No p-values are computed."
)

LEFT_OUT_REASONS = {
    "no_count": "with ratings only (no trichoscope count)",
    "no_follow_up": "with no count on a day after the baseline (no follow-up)",
    "dose_unknown": "with a session's dose unknown (passes without a puncture count)",
}


def dose_bin(dose: float) -> DoseBin:
    """The first bin holding ``dose`` (0 is untreated, not "<250")."""
    return next(b for b in DOSE_BINS if b.holds(dose))


def kind_group(kinds: Iterable[str]) -> str:
    found = set(kinds)
    if not found:
        return "untreated"
    if found == {"smp"}:
        return "smp"
    if found == {"microneedling"}:
        return "microneedling"
    if found == {"smp", "microneedling"}:
        return "both"
    return "+".join(sorted(found))  # a kind this smpctl does not know


@dataclass(frozen=True)
class CohortPoint:
    """One client-zone: its baseline and follow-up counts and the dose between."""

    client: str
    zone: str
    baseline_day: dt.date
    baseline_terminal: float
    follow_up_day: dt.date
    follow_up_terminal: float
    dose_per_cm2: float
    """Cumulative at follow-up (sessions before the follow-up day)."""
    sessions: int
    kinds: str
    adjuncts: tuple[str, ...]
    """Treatments active at any time from baseline to follow-up."""
    baseline_before_treatment: bool
    """False when the zone's first count came after its first treated session."""

    @property
    def change(self) -> float:
        return self.follow_up_terminal - self.baseline_terminal

    @property
    def days(self) -> int:
        return (self.follow_up_day - self.baseline_day).days

    @property
    def bin(self) -> str:
        return dose_bin(self.dose_per_cm2).label

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "zone": self.zone,
            "baseline_day": self.baseline_day.isoformat(),
            "baseline_terminal_per_cm2": self.baseline_terminal,
            "follow_up_day": self.follow_up_day.isoformat(),
            "follow_up_terminal_per_cm2": self.follow_up_terminal,
            "change_terminal_per_cm2": self.change,
            "days": self.days,
            "dose_per_cm2": self.dose_per_cm2,
            "dose_bin": self.bin,
            "sessions": self.sessions,
            "session_kinds": self.kinds,
            "adjuncts": list(self.adjuncts),
            "baseline_before_treatment": self.baseline_before_treatment,
        }


@dataclass(frozen=True)
class GroupSummary:
    zone: str
    split: str
    """``dose``, ``session kind`` or ``adjunct``."""
    group: str
    n: int
    median_change: float
    min_change: float
    max_change: float
    median_dose: float
    median_days: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "split": self.split,
            "group": self.group,
            "n": self.n,
            "median_change_terminal_per_cm2": self.median_change,
            "min_change": self.min_change,
            "max_change": self.max_change,
            "median_dose_per_cm2": self.median_dose,
            "median_days": self.median_days,
        }


@dataclass(frozen=True)
class Cohort:
    points: tuple[CohortPoint, ...]
    groups: tuple[GroupSummary, ...]
    clients: int
    """Clients in the journal."""
    clients_included: int
    clients_without_measurement: int
    left_out: dict[str, int]
    """Client-zones left out, by reason (keys of ``LEFT_OUT_REASONS``)."""

    @property
    def clients_left_out(self) -> int:
        return self.clients - self.clients_included

    @property
    def zones(self) -> list[str]:
        return list(dict.fromkeys(g.zone for g in self.groups))

    def csv_rows(self) -> list[dict[str, Any]]:
        """The summary table (``CSV_COLUMNS``), one row per zone and group."""
        return [g.as_dict() for g in self.groups]

    def as_dict(self) -> dict[str, Any]:
        return {
            "wording": WORDING,
            "unit": "client-zone; change = follow-up minus baseline terminal hairs/cm²",
            "dose_bins_punctures_per_cm2": [b.as_dict() for b in DOSE_BINS],
            "clients": self.clients,
            "clients_included": self.clients_included,
            "clients_left_out": self.clients_left_out,
            "clients_without_measurement": self.clients_without_measurement,
            "client_zones_left_out": dict(self.left_out),
            "groups": [g.as_dict() for g in self.groups],
            "points": [p.as_dict() for p in self.points],
        }


def zone_point(
    client: str, series: ZoneSeries, adjuncts: Sequence[AdjunctCourse]
) -> CohortPoint | str:
    """The zone's point, or why it is left out (a ``LEFT_OUT_REASONS`` key)."""
    counted = [p.measurement for p in series.measurements if p.measurement.counted]
    if not counted:
        return "no_count"
    first_treated = series.first_treated
    before = [m for m in counted if first_treated is not None and m.day <= first_treated]
    baseline = before[-1] if before else counted[0]
    follow_up = counted[-1]
    if follow_up.day <= baseline.day:
        return "no_follow_up"
    dose, complete, sessions = series.dose_before(follow_up.day)
    if not complete:
        return "dose_unknown"
    treatments = {c.treatment for c in active_during(adjuncts, baseline.day, follow_up.day)}
    return CohortPoint(
        client=client,
        zone=series.zone,
        baseline_day=baseline.day,
        baseline_terminal=float(baseline.terminal_per_cm2 or 0.0),
        follow_up_day=follow_up.day,
        follow_up_terminal=float(follow_up.terminal_per_cm2 or 0.0),
        dose_per_cm2=dose,
        sessions=sessions,
        kinds=kind_group(series.kinds_before(follow_up.day)),
        adjuncts=tuple(sorted(treatments)),
        baseline_before_treatment=bool(before) or first_treated is None,
    )


def _summary(zone: str, split: str, group: str, points: Sequence[CohortPoint]) -> GroupSummary:
    changes = [p.change for p in points]
    return GroupSummary(
        zone=zone,
        split=split,
        group=group,
        n=len(points),
        median_change=statistics.median(changes),
        min_change=min(changes),
        max_change=max(changes),
        median_dose=statistics.median(p.dose_per_cm2 for p in points),
        median_days=statistics.median(p.days for p in points),
    )


def summarise(points: Sequence[CohortPoint]) -> list[GroupSummary]:
    """Per zone: all, then by dose bin, session kind and adjunct; empty groups left out."""
    out: list[GroupSummary] = []
    for zone in dict.fromkeys(p.zone for p in points):
        mine = [p for p in points if p.zone == zone]
        out.append(_summary(zone, "all", "all", mine))
        for b in DOSE_BINS:
            group = [p for p in mine if p.bin == b.label]
            if group:
                out.append(_summary(zone, "dose", b.label, group))
        kinds = [*KIND_GROUPS, *sorted({p.kinds for p in mine} - set(KIND_GROUPS))]
        for kind in kinds:
            group = [p for p in mine if p.kinds == kind]
            if group:
                out.append(_summary(zone, "session kind", kind, group))
        treatments = sorted({t for p in mine for t in p.adjuncts})
        for treatment in [*treatments, NO_ADJUNCT]:
            group = [
                p
                for p in mine
                if (treatment in p.adjuncts if treatment != NO_ADJUNCT else not p.adjuncts)
            ]
            if group:
                out.append(_summary(zone, "adjunct", treatment, group))
    return out


def cohort(journal: Journal) -> Cohort:
    """Every client of the journal."""
    measured = all_outcomes(journal)
    courses = all_adjuncts(journal)
    clients = journal.store.query("SELECT uid, pseudonym FROM clients ORDER BY pseudonym, rowid")
    points: list[CohortPoint] = []
    left_out = dict.fromkeys(LEFT_OUT_REASONS, 0)
    included: set[str] = set()
    for row in clients:
        ref = ClientRef(str(row["uid"]), str(row["pseudonym"]))
        if ref.uid not in measured:
            continue
        timeline = build_timeline(journal, ref, measured[ref.uid], courses.get(ref.uid, []))
        for series in timeline.zones.values():
            if not series.measurements:
                continue
            found = zone_point(ref.pseudonym, series, timeline.adjuncts)
            if isinstance(found, str):
                left_out[found] += 1
            else:
                points.append(found)
                included.add(ref.uid)
    ordered = _in_zone_order(points)
    return Cohort(
        points=tuple(ordered),
        groups=tuple(summarise(ordered)),
        clients=len(clients),
        clients_included=len(included),
        clients_without_measurement=sum(1 for r in clients if str(r["uid"]) not in measured),
        left_out=left_out,
    )


def _in_zone_order(points: Sequence[CohortPoint]) -> list[CohortPoint]:
    rank = {z.value: i for i, z in enumerate(ZoneCode)}
    return sorted(points, key=lambda p: (rank.get(p.zone, len(rank)), p.zone, p.client))
