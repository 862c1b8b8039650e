"""A client's sessions side by side, zone by zone: what changed from one session to the
next, which zones were skipped, and which need another session.

Scar zones usually need one session more than the skin around them (shared/domain.md),
so a zone carrying a scar overlay is expected to have at least one session more than its
most-treated neighbour, and any zone fewer sessions than its neighbours is called out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from smpctl.journal import Journal, SessionSummary

from .dose import ZoneDoseSeries, zone_dose_series
from .summary import ZONE_ORDER, ZoneRow, zone_label, zone_rows

NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "HL": ("TMP_L", "TMP_R", "FRN"),
    "TMP_L": ("HL", "FRN", "PAR_L"),
    "TMP_R": ("HL", "FRN", "PAR_R"),
    "FRN": ("HL", "TMP_L", "TMP_R", "MID"),
    "MID": ("FRN", "PAR_L", "PAR_R", "CRN"),
    "CRN": ("MID", "PAR_L", "PAR_R", "OCC"),
    "PAR_L": ("TMP_L", "MID", "CRN", "OCC"),
    "PAR_R": ("TMP_R", "MID", "CRN", "OCC"),
    "OCC": ("CRN", "PAR_L", "PAR_R", "NAP"),
    "NAP": ("OCC",),
}
"""Zones that share a border on the scalp (the dashboard's map, seen from above)."""

SPEED_CHANGE_HZ = 2.0
DEPTH_CHANGE_MM = 0.05
STROKES_CHANGE = 0.2
"""Differences below these are noise, not a change worth a line."""


@dataclass(frozen=True)
class SessionColumn:
    uid: str
    number: int
    started_wall: float
    simulated: bool
    kind: str = "smp"
    days_since_previous: int | None = None
    """Calendar days since the client's previous session compared (None for the first)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ZoneHistory:
    zone: str
    label: str
    cells: list[ZoneRow | None]
    """One per session column, None where the zone was not treated."""
    changes: list[str] = field(default_factory=list)
    skipped: bool = False
    """Treated in an earlier session, not in the latest one."""
    due: bool = False
    """Needs another session (fewer sessions than its neighbours, a scar, interrupted)."""
    reasons: list[str] = field(default_factory=list)
    dose: ZoneDoseSeries | None = None
    """Punctures/cm² per session, cumulative, days between treatments."""

    @property
    def status(self) -> str:
        words = [w for w, on in (("skipped", self.skipped), ("needs session", self.due)) if on]
        return ", ".join(words) or "ok"

    @property
    def sessions_treated(self) -> int:
        return sum(1 for c in self.cells if c is not None)

    @property
    def scars(self) -> tuple[str, ...]:
        return tuple(sorted({s for c in self.cells if c is not None for s in c.scars}))

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "label": self.label,
            "sessions_treated": self.sessions_treated,
            "scars": list(self.scars),
            "cells": [c.as_dict() if c is not None else None for c in self.cells],
            "changes": self.changes,
            "status": self.status,
            "skipped": self.skipped,
            "needs_session": self.due,
            "reasons": self.reasons,
            "dose": self.dose.as_dict() if self.dose is not None else None,
        }


@dataclass
class ClientComparison:
    client: str
    sessions: list[SessionColumn]
    zones: list[ZoneHistory]

    @property
    def skipped(self) -> list[str]:
        return [z.zone for z in self.zones if z.skipped]

    @property
    def needs_session(self) -> list[str]:
        return [z.zone for z in self.zones if z.due]

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "sessions": [s.as_dict() for s in self.sessions],
            "zones": [z.as_dict() for z in self.zones],
            "skipped": self.skipped,
            "needs_session": self.needs_session,
        }


def compare_client(journal: Journal, client: str) -> ClientComparison:
    mine: list[SessionSummary] = sorted(
        (s for s in journal.sessions() if s.client == client),
        key=lambda s: (s.started_wall, s.session_number),
    )
    days = [dt.date.fromtimestamp(s.started_wall) for s in mine]
    columns = [
        SessionColumn(
            s.uid,
            s.session_number,
            s.started_wall,
            s.simulated,
            s.kind,
            (day - days[i - 1]).days if i else None,
        )
        for i, (s, day) in enumerate(zip(mine, days, strict=True))
    ]
    rows = zone_rows(journal, [s.uid for s in mine])
    present = {zone for per in rows.values() for zone in per}
    order = [zone for zone in [*ZONE_ORDER, *sorted(present - set(ZONE_ORDER))] if zone in present]
    doses = zone_dose_series(journal, [(s.uid, s.started_wall, s.kind) for s in mine], order)
    histories = [
        ZoneHistory(zone, zone_label(zone), [rows[s.uid].get(zone) for s in mine], dose=doses[zone])
        for zone in order
    ]
    for h in histories:
        h.changes = _changes(h, columns)
    _judge(histories, columns)
    return ClientComparison(client, columns, histories)


def _changes(h: ZoneHistory, columns: list[SessionColumn]) -> list[str]:
    """Session over session: speed, depth, strokes and scar overlays that moved."""
    out: list[str] = []
    before: tuple[SessionColumn, ZoneRow] | None = None
    for col, cell in zip(columns, h.cells, strict=True):
        if cell is None:
            if before is not None:
                out.append(f"#{col.number}: not treated")
            continue
        if before is None:
            before = (col, cell)
            continue
        prev_col, prev = before
        bits: list[str] = []
        if prev.mean_hz is not None and cell.mean_hz is not None:
            d = cell.mean_hz - prev.mean_hz
            if abs(d) >= SPEED_CHANGE_HZ:
                bits.append(f"speed {prev.mean_hz:.0f}->{cell.mean_hz:.0f} Hz ({d:+.0f})")
        if prev.depth_mm is not None and cell.depth_mm is not None:
            d = cell.depth_mm - prev.depth_mm
            if abs(d) >= DEPTH_CHANGE_MM:
                bits.append(f"depth {prev.depth_mm:.2f}->{cell.depth_mm:.2f} mm ({d:+.2f})")
        if prev.strokes:
            ratio = cell.strokes / prev.strokes - 1
            if abs(ratio) >= STROKES_CHANGE:
                bits.append(f"strokes {prev.strokes}->{cell.strokes} ({ratio:+.0%})")
        if cell.passes != prev.passes:
            bits.append(f"passes {prev.passes}->{cell.passes}")
        added = set(cell.scars) - set(prev.scars)
        if added:
            bits.append("scar overlay " + ",".join(sorted(added)))
        if bits:
            out.append(f"#{prev_col.number}->#{col.number}: " + "; ".join(bits))
        before = (col, cell)
    return out


def _judge(histories: list[ZoneHistory], columns: list[SessionColumn]) -> None:
    if not columns:
        return
    count = {h.zone: h.sessions_treated for h in histories}
    latest = columns[-1]
    for h in histories:
        if h.cells and h.cells[-1] is None:
            h.skipped = True
            h.reasons.append(f"treated in {h.sessions_treated} session(s), not in #{latest.number}")
        needs = len(h.reasons)
        neighbours = [count[n] for n in NEIGHBOURS.get(h.zone, ()) if n in count]
        most = max(neighbours, default=0)
        if h.scars and h.sessions_treated <= most:
            h.reasons.append(
                f"scar overlay {','.join(h.scars)}: {h.sessions_treated} session(s), "
                f"neighbours up to {most}; scar zones usually need one more"
            )
        elif h.sessions_treated < most:
            h.reasons.append(f"{h.sessions_treated} session(s), neighbours up to {most}")
        last = next((c for c in reversed(h.cells) if c is not None), None)
        if last is not None and (last.interrupted or last.open_passes):
            h.reasons.append(
                f"{last.interrupted + last.open_passes} interrupted pass(es) last time"
            )
        h.due = len(h.reasons) > needs
