"""One session at a glance, from the journal's derived tables: per-zone totals, event
counts and the passes made with each consumable, which the journal keeps up to date as
passes and events are recorded. Summarising a session reads a row per zone, whatever the
session's length; only what is shown one by one (notable events, passes that need a look,
and with ``--passes`` or ``--json`` every pass) is read row by row."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from smpctl import hard_limits
from smpctl.dose.punctures import CartridgeKind
from smpctl.journal import Journal, SessionSummary
from smpctl.journal.schema import LOOK_SQL
from smpctl.protocol import Fault, StopReason
from smpctl.zones import ZONE_LABELS, ZoneCode

from .dose import SessionDose, session_dose
from .trace import DRIFT_OK

ZONE_ORDER: tuple[str, ...] = tuple(z.value for z in ZoneCode)


def needle_s_sql(alias: str = "") -> str:
    p = f"{alias}." if alias else ""
    # arithmetic on a NULL is NULL, so a pass without both pen times falls through to the
    # wall clock, and an open pass to 0
    return (
        f"COALESCE((({p}ended_t_us - {p}started_t_us) & 4294967295) / 1e6, "
        f"{p}ended_wall - {p}started_wall, 0.0)"
    )


NEEDLE_S_SQL = needle_s_sql()
"""A pass's needle time: pedal down to pedal up on the pen's clock (u32 µs, wraps), else
on the wall clock."""

ZONE_SQL = """
SELECT session_uid, zone, passes, needle_s, strokes, samples,
       CASE WHEN speed_passes THEN speed_sum / speed_samples END AS mean_hz,
       speed_min AS min_hz,
       speed_max AS max_hz,
       CASE WHEN setpoint_passes THEN setpoint_sum / setpoint_passes END AS setpoint_hz,
       CASE WHEN depth_passes THEN depth_sum / depth_passes END AS depth_mm,
       depth_min AS depth_min_mm,
       depth_max AS depth_max_mm,
       peak_current AS peak_current_a,
       max_temp AS max_temp_c,
       interrupted, open_passes, flagged
FROM zone_totals WHERE session_uid IN ({marks})
"""
"""Per session and zone, from ``zone_totals``: the mean speed weighted by samples, the
setpoint and depth averaged over the passes that have one, as a GROUP BY over the pass
rows would give them."""
ZONE_LABELS_SQL = """
SELECT session_uid, zone, kind, label FROM zone_labels WHERE session_uid IN ({marks})
"""

ROUTINE_EVENTS = frozenset({"PEDAL_DOWN", "PEDAL_UP"})
"""Every pass has these; listed by count only. A motor stop on pedal release is routine too."""
EVENT_GROUP_FIRST = 3
"""Events of one kind and detail beyond this many are summarised (count, passes), not listed:
forty identical stalls are one line and the first three, in the text and the report."""


@dataclass(frozen=True)
class ZoneRow:
    zone: str
    label: str
    passes: int
    needle_s: float
    strokes: int
    samples: int
    mean_hz: float | None
    min_hz: float | None
    max_hz: float | None
    setpoint_hz: float | None
    depth_mm: float | None
    depth_min_mm: float | None
    depth_max_mm: float | None
    peak_current_a: float | None
    max_temp_c: float | None
    interrupted: int
    open_passes: int
    flagged: int
    flags: tuple[str, ...]
    scars: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flags": list(self.flags), "scars": list(self.scars)}


@dataclass(frozen=True)
class Consumable:
    kind: str
    """``cartridge`` or ``pigment``."""
    uid: str
    description: str
    lot: str
    expiry: str | None
    registered_wall: float
    passes: int
    cartridge_kind: str | None = None
    """A cartridge's kind (1RL, 12-pin, nano...), which fixes its needle count."""
    needles: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class EventRow(NamedTuple):
    """One event as reviews show it. A tuple: a long session has many, built on every
    review."""

    uid: str
    wall: float
    source: str
    kind: str
    code: int | None
    value: int | None
    pass_uid: str | None
    message: str | None
    detail: str
    pass_number: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


class PassLine(NamedTuple):
    """One pass, from its aggregates (for listings and the report). A tuple: a long
    session has hundreds, built on every review."""

    uid: str
    number: int
    zone: str | None
    scar: str | None
    started_wall: float
    needle_s: float
    outcome: str | None
    strokes: int | None
    samples: int | None
    setpoint_hz: float | None
    mean_hz: float | None
    min_hz: float | None
    max_hz: float | None
    depth_mm: float | None
    flag: str | None
    note: str | None
    continues_uid: str | None

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


def attention(p: PassLine) -> list[str]:
    """Why a pass needs a look, in words (none: it ran as asked). Open, interrupted or
    stopped passes, flagged or annotated ones, and speed that strayed: a mean more than
    ``DRIFT_OK`` off the setpoint, or a dip below the pen's under-speed warning level."""
    why: list[str] = []
    if p.outcome is None:
        why.append("open")
    elif p.outcome.startswith("interrupted") or p.outcome == "stopped":
        why.append(p.outcome.replace("_", " "))
    if p.flag:
        why.append(f"flag: {p.flag}")
    if p.note:
        why.append("note")
    set_hz = p.setpoint_hz
    if set_hz:
        if p.mean_hz is not None and abs(p.mean_hz - set_hz) > DRIFT_OK * set_hz:
            why.append(f"mean {p.mean_hz:.1f} Hz vs set {set_hz:g} ({p.mean_hz / set_hz - 1:+.0%})")
        if p.min_hz is not None and p.min_hz < hard_limits.UNDERSPEED_WARN_FRACTION * set_hz:
            why.append(f"fell to {p.min_hz:.1f} Hz")
    return why


@dataclass(frozen=True)
class EventGroup:
    """The non-routine events of one source, kind and detail: how many, in which passes,
    and the first ``EVENT_GROUP_FIRST`` in full. A stall forty times over reads as one
    line with its passes, yet every kind stays in view."""

    source: str
    kind: str
    detail: str
    count: int
    pass_numbers: tuple[int, ...]
    """Distinct, in order; passes with more than one such event appear once."""
    first: tuple[EventRow, ...]

    @property
    def more(self) -> int:
        return self.count - len(self.first)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "detail": self.detail,
            "count": self.count,
            "pass_numbers": list(self.pass_numbers),
            "first": [e.uid for e in self.first],
        }


def group_events(events: Sequence[EventRow], first: int = EVENT_GROUP_FIRST) -> list[EventGroup]:
    """Groups in order of their first event."""
    groups: dict[tuple[str, str, str], list[EventRow]] = {}
    for e in events:
        groups.setdefault((e.source, e.kind, e.detail), []).append(e)
    return [
        EventGroup(
            source,
            kind,
            detail,
            len(rows),
            tuple(dict.fromkeys(e.pass_number for e in rows if e.pass_number is not None)),
            tuple(rows[:first]),
        )
        for (source, kind, detail), rows in groups.items()
    ]


@dataclass(frozen=True)
class SessionReview:
    session: SessionSummary
    zones: tuple[ZoneRow, ...]
    totals: ZoneRow
    event_counts: dict[str, int]
    events: tuple[EventRow, ...]
    """Every event that is not routine (faults, stops, clamps, link and host events)."""
    consumables: tuple[Consumable, ...]
    pen: dict[str, Any] | None
    dose: SessionDose
    """Per zone in-skin strokes, punctures and punctures/cm²; the kind; end points."""
    journal: Journal = field(repr=False, compare=False)
    with_passes: bool = field(default=True, repr=False, compare=False)

    @cached_property
    def passes(self) -> tuple[PassLine, ...]:
        """Every pass (none without ``with_passes``), read from the journal, which must
        still be open, when first asked for: ``show --passes``, ``--json`` and the review
        screens list them; the report and a plain ``show`` never need them all."""
        return tuple(pass_lines(self.journal, self.session.uid)) if self.with_passes else ()

    @property
    def event_groups(self) -> list[EventGroup]:
        return group_events(self.events)

    def as_dict(self) -> dict[str, Any]:
        return {
            "session": self.session.as_dict(),
            "pen": self.pen,
            "zones": [z.as_dict() for z in self.zones],
            "totals": self.totals.as_dict(),
            "event_counts": self.event_counts,
            "events": [e.as_dict() for e in self.events],
            "event_groups": [g.as_dict() for g in self.event_groups],
            "consumables": [c.as_dict() for c in self.consumables],
            "passes": [{**p.as_dict(), "attention": attention(p)} for p in self.passes],
            "dose": self.dose.as_dict(),
        }


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(sorted(t for t in (text or "").split(",") if t))


def zone_rows(journal: Journal, session_uids: Sequence[str]) -> dict[str, dict[str, ZoneRow]]:
    """Per session, per zone: a row of ``zone_totals`` each, and their flags and scars."""
    out: dict[str, dict[str, ZoneRow]] = {uid: {} for uid in session_uids}
    if not session_uids:
        return out
    marks = ", ".join("?" * len(session_uids))
    labels: dict[tuple[str, str | None, str], list[str]] = {}
    for session_uid, zone, kind, label in journal.store.rows(
        ZONE_LABELS_SQL.format(marks=marks), tuple(session_uids)
    ):
        labels.setdefault((session_uid, zone, kind), []).append(label)
    for r in journal.store.query(ZONE_SQL.format(marks=marks), tuple(session_uids)):
        key = (r["session_uid"], r["zone"])
        # joined and split again as GROUP_CONCAT(DISTINCT ...) of the pass rows would be
        r["flags"] = ",".join(labels.get((*key, "flag"), ()))
        r["scars"] = ",".join(labels.get((*key, "scar"), ()))
        zone = r["zone"] or "-"
        out[r["session_uid"]][zone] = _zone_row(zone, r)
    for uid, rows in out.items():
        out[uid] = dict(sorted(rows.items(), key=lambda kv: _zone_rank(kv[0])))
    return out


def _zone_rank(zone: str) -> int:
    return ZONE_ORDER.index(zone) if zone in ZONE_ORDER else len(ZONE_ORDER)


def zone_label(zone: str) -> str:
    try:
        return ZONE_LABELS[ZoneCode(zone)]
    except ValueError:
        return "no zone"


def _zone_row(zone: str, r: dict[str, Any]) -> ZoneRow:
    return ZoneRow(
        zone=zone,
        label=zone_label(zone),
        passes=int(r["passes"]),
        needle_s=float(r["needle_s"] or 0.0),
        strokes=int(r["strokes"] or 0),
        samples=int(r["samples"] or 0),
        mean_hz=r["mean_hz"],
        min_hz=r["min_hz"],
        max_hz=r["max_hz"],
        setpoint_hz=r["setpoint_hz"],
        depth_mm=r["depth_mm"],
        depth_min_mm=r["depth_min_mm"],
        depth_max_mm=r["depth_max_mm"],
        peak_current_a=r["peak_current_a"],
        max_temp_c=r["max_temp_c"],
        interrupted=int(r["interrupted"] or 0),
        open_passes=int(r["open_passes"] or 0),
        flagged=int(r["flagged"] or 0),
        flags=_split(r["flags"]),
        scars=_split(r["scars"]),
    )


def totals_of(rows: Sequence[ZoneRow]) -> ZoneRow:
    """The session's totals, combined from its zone rows (weighted by samples)."""

    def wmean(pairs: list[tuple[float | None, int]]) -> float | None:
        valid = [(v, w) for v, w in pairs if v is not None and w]
        total = sum(w for _v, w in valid)
        return sum(v * w for v, w in valid) / total if total else None

    def pick(values: list[float | None], fn: Any) -> float | None:
        known = [v for v in values if v is not None]
        return fn(known) if known else None

    return ZoneRow(
        zone="ALL",
        label="all zones",
        passes=sum(r.passes for r in rows),
        needle_s=sum(r.needle_s for r in rows),
        strokes=sum(r.strokes for r in rows),
        samples=sum(r.samples for r in rows),
        mean_hz=wmean([(r.mean_hz, r.samples) for r in rows]),
        min_hz=pick([r.min_hz for r in rows], min),
        max_hz=pick([r.max_hz for r in rows], max),
        setpoint_hz=wmean([(r.setpoint_hz, r.passes) for r in rows]),
        depth_mm=wmean([(r.depth_mm, r.passes) for r in rows]),
        depth_min_mm=pick([r.depth_min_mm for r in rows], min),
        depth_max_mm=pick([r.depth_max_mm for r in rows], max),
        peak_current_a=pick([r.peak_current_a for r in rows], max),
        max_temp_c=pick([r.max_temp_c for r in rows], max),
        interrupted=sum(r.interrupted for r in rows),
        open_passes=sum(r.open_passes for r in rows),
        flagged=sum(r.flagged for r in rows),
        flags=tuple(sorted({f for r in rows for f in r.flags})),
        scars=tuple(sorted({s for r in rows for s in r.scars})),
    )


_STOP_WORDS = {int(r): f"stop: {r.name.lower()}" for r in StopReason}
_FAULT_BITS = tuple((int(f), f.name or "?") for f in Fault)


def event_detail(kind: str, code: int | None, value: int | None, message: str | None) -> str:
    """A pen event's code in words (stop reasons, fault bits); a host event's message."""
    if kind == "MOTOR_STOPPED" and code is not None:
        return _STOP_WORDS.get(code) or f"stop code {code}"
    if kind in ("FAULT_RAISED", "FAULT_CLEARED") and code:
        names = [name for bit, name in _FAULT_BITS if bit & code]
        return "fault: " + ", ".join(names) if names else f"fault bits {code:#x}"
    if kind == "SETPOINT_CLAMPED" and value is not None:
        return f"clamped to {value / 100:g} Hz"
    return message or ""


_RELEASED = int(StopReason.PEDAL_RELEASED)
_NOTABLE_SQL = """
SELECT e.rowid AS row_id, e.uid, e.wall, e.source, e.kind, e.code, e.value, e.pass_uid,
       e.message, p.number AS pass_number
FROM events e LEFT JOIN passes p ON p.uid = e.pass_uid
WHERE e.session_uid = ? AND e.kind = ? AND e.code IS ?
"""
"""The events of one kind and code in a session (the events_by_session_kind index)."""
_KINDS_PER_QUERY = 100
"""Kinds and codes read per query (three parameters each; old SQLite builds allow 999)."""


def routine(kind: str, code: int | None) -> bool:
    """Every pass has these: pedal down and up, and the motor stopping as the pedal lifts."""
    return kind in ROUTINE_EVENTS or (kind == "MOTOR_STOPPED" and code == _RELEASED)


def session_events(journal: Journal, session_uid: str) -> tuple[dict[str, int], list[EventRow]]:
    """Counts per kind, and every event that is not routine. A session has a few events
    per pass, nearly all routine: they are counted as recorded (``event_counts``), and
    only the kinds and codes that are not routine are read, by index."""
    counts: dict[str, int] = {}
    notable: dict[tuple[str, int | None], None] = {}
    for _source, kind, code, n in journal.store.rows(
        "SELECT source, kind, code, n FROM event_counts WHERE session_uid = ?", (session_uid,)
    ):
        counts[kind] = counts.get(kind, 0) + int(n)
        if not routine(kind, code):
            notable[(kind, code)] = None
    pairs = list(notable)
    rows = []
    for at in range(0, len(pairs), _KINDS_PER_QUERY):
        part = pairs[at : at + _KINDS_PER_QUERY]
        rows += journal.store.rows(
            " UNION ALL ".join([_NOTABLE_SQL] * len(part)),
            [v for kind, code in part for v in (session_uid, kind, code)],
        )
    rows.sort(key=lambda r: (r[2], r[0]))
    events = [
        EventRow(
            uid,
            wall,
            source,
            kind,
            code,
            value,
            pass_uid,
            message,
            event_detail(kind, code, value, message),
            pass_number,
        )
        for _row, uid, wall, source, kind, code, value, pass_uid, message, pass_number in rows
    ]
    ordered = sorted(((k, n) for k, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0]))
    return dict(ordered), events


def consumables(journal: Journal, session_uid: str) -> list[Consumable]:
    """The cartridges and pigments registered in the session, with the passes made with each."""
    used: dict[str, int] = {}
    for cartridge, pigment, n in journal.store.rows(
        "SELECT cartridge_uid, pigment_uid, passes FROM session_supplies WHERE session_uid = ?",
        (session_uid,),
    ):
        for uid in (cartridge, pigment):
            if uid is not None:
                used[uid] = used.get(uid, 0) + int(n)
    found = [
        Consumable(
            "cartridge",
            r["uid"],
            r["needle"],
            r["lot"],
            r["expiry"],
            r["registered_wall"],
            used.get(r["uid"], 0),
            r.get("kind"),
            r.get("needles"),
        )
        for r in journal.store.query(
            "SELECT * FROM cartridges WHERE session_uid = ? ORDER BY registered_wall, rowid",
            (session_uid,),
        )
    ]
    found += [
        Consumable(
            "pigment",
            r["uid"],
            f"{r['shade']} {r['dilution']}".strip(),
            r["lot"],
            None,
            r["registered_wall"],
            used.get(r["uid"], 0),
        )
        for r in journal.store.query(
            "SELECT * FROM pigments WHERE session_uid = ? ORDER BY registered_wall, rowid",
            (session_uid,),
        )
    ]
    return found


PASS_LINE_COLUMNS = f"""uid, number, zone, scar, started_wall, {NEEDLE_S_SQL} AS needle_s,
       outcome, strokes, samples, setpoint_hz, speed_mean_hz AS mean_hz, speed_min_hz AS min_hz,
       speed_max_hz AS max_hz, depth_mm, flag, note, continues_uid"""
"""The columns of a ``PassLine``, in its order."""
PASS_LINE_SQL = f"""
SELECT {PASS_LINE_COLUMNS}
FROM passes WHERE session_uid = ? ORDER BY number, rowid
"""
_TO_LOOK_SQL = f"""
SELECT {PASS_LINE_COLUMNS} FROM passes INDEXED BY passes_to_look
WHERE session_uid = ? AND ({LOOK_SQL}) ORDER BY number, rowid
"""
"""The passes that may need a look, by the journal's partial index of them (named: without
statistics SQLite's planner would pass it over for the plain index on the session)."""


def pass_lines(journal: Journal, session_uid: str) -> list[PassLine]:
    return [PassLine._make(r) for r in journal.store.rows(PASS_LINE_SQL, (session_uid,))]


def passes_to_look(journal: Journal, session_uid: str) -> list[tuple[PassLine, list[str]]]:
    """The session's passes that need a look and why (``attention``), in order, read by
    index: their count, not the session's length, sets the cost."""
    out = []
    for r in journal.store.rows(_TO_LOOK_SQL, (session_uid,)):
        line = PassLine._make(r)
        why = attention(line)
        if why:
            out.append((line, why))
    return out


def pen_of(journal: Journal, session_uid: str) -> dict[str, Any] | None:
    row = journal.store.query_one(
        "SELECT p.serial, p.model, p.firmware, p.simulated, p.calibration FROM sessions s "
        "JOIN pens p ON p.uid = s.pen_uid WHERE s.uid = ?",
        (session_uid,),
    )
    if row is None:
        return None
    try:
        calibration = json.loads(row["calibration"] or "{}")
    except ValueError:
        calibration = {}
    return {**row, "simulated": bool(row["simulated"]), "calibration": calibration}


def review_session(
    journal: Journal, session: SessionSummary, *, passes: bool = True
) -> SessionReview:
    """``passes=False`` leaves out the pass list (``logs show`` without ``--passes``);
    with it the list is read when first used (``SessionReview.passes``)."""
    rows = tuple(zone_rows(journal, [session.uid])[session.uid].values())
    counts, events = session_events(journal, session.uid)
    used = tuple(consumables(journal, session.uid))
    nano = any(c.cartridge_kind == CartridgeKind.NANO.value and c.passes for c in used)
    return SessionReview(
        session=session,
        zones=rows,
        totals=totals_of(rows),
        event_counts=counts,
        events=tuple(events),
        consumables=used,
        pen=pen_of(journal, session.uid),
        dose=session_dose(journal, session.uid, session.kind, nano=nano),
        journal=journal,
        with_passes=passes,
    )
