"""One pass in full: what was asked of the pen, what it did, and what happened."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from smpctl.journal import Journal, PassRecord

from .summary import EventRow, event_detail
from .trace import TraceSummary, trace_summary


@dataclass(frozen=True)
class PassDetail:
    record: PassRecord
    client: str | None
    session_number: int | None
    setpoints: dict[str, float]
    """As applied from the profile when the pass started; else the pen's setpoint."""
    needle_s: float | None
    trace: TraceSummary
    events: tuple[EventRow, ...]
    cartridge: str | None
    pigment: str | None

    def as_dict(self) -> dict[str, Any]:
        record = asdict(self.record)
        record["outcome"] = self.record.outcome.value if self.record.outcome else None
        record["events"] = list(self.record.events)
        return {
            "pass": record,
            "client": self.client,
            "session_number": self.session_number,
            "setpoints": self.setpoints,
            "needle_s": self.needle_s,
            "trace": self.trace.as_dict(),
            "events": [e.as_dict() for e in self.events],
            "cartridge": self.cartridge,
            "pigment": self.pigment,
        }


def needle_seconds(p: PassRecord) -> float | None:
    if p.started_t_us is not None and p.ended_t_us is not None:
        return ((p.ended_t_us - p.started_t_us) & 0xFFFFFFFF) / 1e6
    if p.ended_wall is not None:
        return p.ended_wall - p.started_wall
    return None


def pass_detail(journal: Journal, record: PassRecord) -> PassDetail:
    setpoints: dict[str, float] = {}
    if record.setpoints:
        try:
            loaded = json.loads(record.setpoints)
            setpoints = {str(k): float(v) for k, v in loaded.items() if isinstance(v, int | float)}
        except (ValueError, AttributeError):
            setpoints = {}
    if "speed_hz" not in setpoints and record.setpoint_hz is not None:
        setpoints["speed_hz"] = record.setpoint_hz
    if "depth_mm" not in setpoints and record.depth_mm is not None:
        setpoints["depth_mm"] = record.depth_mm
    session = journal.store.query_one(
        "SELECT c.pseudonym, s.session_number FROM sessions s "
        "LEFT JOIN clients c ON c.uid = s.client_uid WHERE s.uid = ?",
        (record.session_uid,),
    )
    cartridge = journal.store.query_one(
        "SELECT needle, lot FROM cartridges WHERE uid = ?", (record.cartridge_uid,)
    )
    pigment = journal.store.query_one(
        "SELECT shade, lot FROM pigments WHERE uid = ?", (record.pigment_uid,)
    )
    events = tuple(
        EventRow(
            uid=e["uid"],
            wall=e["wall"],
            source=e["source"],
            kind=e["kind"],
            code=e["code"],
            value=e["value"],
            pass_uid=e["pass_uid"],
            message=e["message"],
            detail=event_detail(e["kind"], e["code"], e["value"], e["message"]),
        )
        for e in journal.events(pass_uid=record.uid)
    )
    return PassDetail(
        record=record,
        client=session["pseudonym"] if session else None,
        session_number=session["session_number"] if session else None,
        setpoints=setpoints,
        needle_s=needle_seconds(record),
        trace=trace_summary(journal.pass_samples(record.uid)),
        events=events,
        cartridge=f"{cartridge['needle']} lot {cartridge['lot']}" if cartridge else None,
        pigment=f"{pigment['shade']} lot {pigment['lot']}" if pigment else None,
    )
