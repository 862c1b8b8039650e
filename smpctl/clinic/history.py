"""A returning client's sessions at other chairs, as the dashboard's history shows them.

The records pulled by ``smpctl sync --pull`` (or the background sync) come back as the
journal's own read types (``SessionSummary``, ``PassRecord``), so the start screen can list
them beside the chair's own sessions and take per-zone figures from them the same way.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from smpctl.journal import Outcome, PassRecord, SessionSummary, resolve_journal_path

from .chair_state import ChairState, state_path
from .row_codec import decode_row


class RecordIndex:
    """Current versions of clients, practitioners, sessions and passes, read as the journal's
    own summaries (from the chair's pulled records, or from the whole server)."""

    def __init__(self, rows: dict[str, list[dict[str, Any]]], chairs: dict[str, str]) -> None:
        self._rows = {
            t: rows.get(t, []) for t in ("clients", "practitioners", "sessions", "passes")
        }
        self.chairs = chairs

    def sessions(self, pseudonym: str | None = None) -> list[SessionSummary]:
        """The client's sessions (every client's when None), oldest first; pseudonyms are
        matched exactly."""
        clients = {
            r["uid"]: str(r.get("pseudonym"))
            for r in self._rows["clients"]
            if pseudonym is None or r.get("pseudonym") == pseudonym.strip()
        }
        names = {r["uid"]: r.get("name") for r in self._rows["practitioners"]}
        by_session: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for p in self._rows["passes"]:
            by_session[str(p.get("session_uid"))].append(p)
        found = []
        for s in self._rows["sessions"]:
            if s.get("client_uid") not in clients:
                continue
            passes = by_session.get(str(s["uid"]), [])
            zones = sorted({str(p["zone"]) for p in passes if p.get("zone")})
            found.append(
                SessionSummary(
                    uid=str(s["uid"]),
                    client=clients[s["client_uid"]],
                    session_number=int(s["session_number"]),
                    practitioner=names.get(s.get("practitioner_uid")),
                    started_wall=float(s["started_wall"]),
                    ended_wall=s.get("ended_wall"),
                    simulated=bool(s.get("simulated")),
                    consent=bool(s.get("consent")),
                    passes=len(passes),
                    interrupted=sum(
                        1 for p in passes if str(p.get("outcome") or "").startswith("interrupted")
                    ),
                    zones=tuple(zones),
                    strokes=sum(int(p.get("strokes") or 0) for p in passes),
                    kind=str(s.get("kind") or "smp"),
                )
            )
        return sorted(found, key=lambda s: s.started_wall)

    def passes(self, session_uid: str) -> list[PassRecord]:
        rows = [p for p in self._rows["passes"] if p.get("session_uid") == session_uid]
        return [_pass_record(p) for p in sorted(rows, key=lambda p: int(p.get("number") or 0))]

    def chair_of(self, uid: str) -> str | None:
        """The chair that recorded a pulled record."""
        return self.chairs.get(uid)


class PulledHistory(RecordIndex):
    """The records a chair pulled (read once, at construction)."""

    def __init__(self, state: ChairState) -> None:
        rows: dict[str, list[dict[str, Any]]] = {}
        chairs: dict[str, str] = {}
        for table in ("clients", "practitioners", "sessions", "passes"):
            rows[table] = []
            for r in state.pulled(table):
                rows[table].append(decode_row(r.body, r.blob))
                chairs[r.uid] = r.chair
        super().__init__(rows, chairs)


def _pass_record(r: dict[str, Any]) -> PassRecord:
    events = r.get("events")
    return PassRecord(
        uid=r["uid"],
        session_uid=r.get("session_uid"),
        number=int(r.get("number") or 0),
        zone=r.get("zone"),
        scar=r.get("scar"),
        started_wall=float(r["started_wall"]),
        started_t_us=r.get("started_t_us"),
        ended_wall=r.get("ended_wall"),
        ended_t_us=r.get("ended_t_us"),
        outcome=Outcome(r["outcome"]) if r.get("outcome") else None,
        continues_uid=r.get("continues_uid"),
        cartridge_uid=r.get("cartridge_uid"),
        pigment_uid=r.get("pigment_uid"),
        setpoint_hz=r.get("setpoint_hz"),
        depth_mm=r.get("depth_mm"),
        samples=r.get("samples"),
        speed_mean_hz=r.get("speed_mean_hz"),
        speed_min_hz=r.get("speed_min_hz"),
        speed_max_hz=r.get("speed_max_hz"),
        strokes=r.get("strokes"),
        peak_current_a=r.get("peak_current_a"),
        max_temp_c=r.get("max_temp_c"),
        events=tuple(json.loads(events)) if events else (),
        flag=r.get("flag"),
        note=r.get("note"),
        profile_hash=r.get("profile_hash"),
        setpoints=r.get("setpoints"),
        in_skin_strokes=r.get("in_skin_strokes"),
        needles=r.get("needles"),
        punctures=r.get("punctures"),
    )


def _history(journal: str | os.PathLike[str] | None) -> PulledHistory | None:
    path = state_path(resolve_journal_path(journal))
    if not Path(path).exists():
        return None
    with ChairState(path) as state:
        return PulledHistory(state)


def remote_history(
    pseudonym: str, journal: str | os.PathLike[str] | None = None
) -> list[SessionSummary]:
    """The client's sessions recorded at other chairs and pulled to this one (oldest first);
    ``journal`` is this chair's journal (default: as ``Journal.open`` finds it)."""
    history = _history(journal)
    return history.sessions(pseudonym) if history else []


def remote_passes(
    session_uid: str, journal: str | os.PathLike[str] | None = None
) -> list[PassRecord]:
    """The passes of a pulled session, in order."""
    history = _history(journal)
    return history.passes(session_uid) if history else []
