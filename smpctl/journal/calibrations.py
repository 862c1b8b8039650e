"""The pens' calibration history: every speed, depth and contact calibration and every
burn-in a technician ran, kept in the journal beside the treatments the pen then gave.

A record is chained like every other (``smpctl logs verify`` covers it), and failed runs are
kept too: an auditor asks what was tried on a pen, not only what succeeded. The calibration
in force is the latest passed record of its kind; the pen itself holds the same dates.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smpctl.client import PenIdentity

from .journal import Journal
from .store import Insert

KINDS = ("speed", "depth", "burn_in", "contact")
"""What a technician run records: the two calibrations the pen stores, burn-in (which has no
expiry), and the skin-contact baseline, which only the host keeps (smpctl.calibration.contact:
``residuals`` hold its free-running current per speed, ``written`` its acceleration gain)."""


@dataclass(frozen=True)
class CalibrationRecord:
    uid: str
    pen_serial: str
    pen_model: str
    pen_uid: str | None
    kind: str
    passed: bool
    day: dt.date
    expires: dt.date | None
    technician: str | None
    tolerance: str | None
    written: dict[str, int] | None
    """The calibration keys written to the pen (for a contact calibration, the host-side
    acceleration gain); None when nothing was put in force."""
    residuals: list[dict[str, Any]]
    diagnoses: list[str]
    report: str | None
    simulated: bool
    recorded_wall: float

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today

    def as_dict(self, today: dt.date | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "uid": self.uid,
            "pen_serial": self.pen_serial,
            "pen_model": self.pen_model,
            "kind": self.kind,
            "passed": self.passed,
            "date": self.day.isoformat(),
            "expires": self.expires.isoformat() if self.expires else None,
            "technician": self.technician,
            "tolerance": self.tolerance,
            "written": self.written,
            "residuals": self.residuals,
            "diagnoses": self.diagnoses,
            "report": self.report,
            "simulated": self.simulated,
        }
        if today is not None:
            out["expired"] = self.expired(today)
        return out


@dataclass(frozen=True)
class KnownPen:
    serial: str
    model: str
    firmware: str
    """The firmware it had when last registered."""
    simulated: bool
    first_seen_wall: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "model": self.model,
            "firmware": self.firmware,
            "simulated": self.simulated,
            "first_seen": dt.datetime.fromtimestamp(self.first_seen_wall, dt.UTC).isoformat(),
        }


def record_calibration(
    journal: Journal,
    identity: PenIdentity,
    *,
    kind: str,
    day: dt.date,
    passed: bool,
    residuals: Sequence[Mapping[str, Any]],
    written: Mapping[str, int] | None = None,
    expires: dt.date | None = None,
    technician: str | None = None,
    tolerance: str | None = None,
    diagnoses: Sequence[str] = (),
    report: str | None = None,
) -> str:
    """Record one run on ``identity``'s pen (registering the pen if new); returns its uid
    once it is on disk."""
    if kind not in KINDS:
        raise ValueError(f"unknown calibration kind {kind!r}")
    pen_uid = journal.register_pen(identity)
    uid = journal.store.new_uid()
    journal.store.write(
        [
            Insert(
                "calibrations",
                {
                    "uid": uid,
                    "pen_uid": pen_uid,
                    "pen_serial": identity.serial,
                    "pen_model": identity.model,
                    "kind": kind,
                    "passed": int(passed),
                    "calibrated_day": day.isoformat(),
                    "expires_day": expires.isoformat() if expires else None,
                    "technician": technician,
                    "tolerance": tolerance,
                    "written": None if written is None else json.dumps(dict(written)),
                    "residuals": json.dumps([dict(r) for r in residuals], default=str),
                    "diagnoses": json.dumps(list(diagnoses)) if diagnoses else None,
                    "report": report,
                    "simulated": int(identity.simulated),
                    "recorded_wall": journal.now,
                },
            )
        ]
    )
    return uid


def _record(row: Mapping[str, Any]) -> CalibrationRecord:
    expires = row["expires_day"]
    return CalibrationRecord(
        uid=str(row["uid"]),
        pen_serial=str(row["pen_serial"]),
        pen_model=str(row["pen_model"]),
        pen_uid=row["pen_uid"],
        kind=str(row["kind"]),
        passed=bool(row["passed"]),
        day=dt.date.fromisoformat(row["calibrated_day"]),
        expires=dt.date.fromisoformat(expires) if expires else None,
        technician=row["technician"],
        tolerance=row["tolerance"],
        written=json.loads(row["written"]) if row["written"] else None,
        residuals=json.loads(row["residuals"]),
        diagnoses=json.loads(row["diagnoses"]) if row["diagnoses"] else [],
        report=row["report"],
        simulated=bool(row["simulated"]),
        recorded_wall=float(row["recorded_wall"]),
    )


def calibrations(journal: Journal, serial: str | None = None) -> list[CalibrationRecord]:
    """The history, latest first; one pen's when ``serial`` is given."""
    where, params = ("WHERE pen_serial = ?", (serial,)) if serial is not None else ("", ())
    rows = journal.store.query(
        f"SELECT * FROM calibrations {where} "
        "ORDER BY calibrated_day DESC, recorded_wall DESC, rowid DESC",
        params,
    )
    return [_record(r) for r in rows]


def in_force(records: Sequence[CalibrationRecord], kind: str) -> CalibrationRecord | None:
    """The latest passed calibration of ``kind`` among one pen's records (latest first)."""
    return next((r for r in records if r.kind == kind and r.passed), None)


def known_pens(journal: Journal) -> list[KnownPen]:
    """Every pen the journal has seen (treatments or technician runs), by serial number."""
    rows = journal.store.query(
        "SELECT serial, model, firmware, simulated, registered_wall FROM pens ORDER BY rowid"
    )
    pens: dict[str, KnownPen] = {}
    for row in rows:
        serial = str(row["serial"])
        seen = float(row["registered_wall"])
        first = pens[serial].first_seen_wall if serial in pens else seen
        pens[serial] = KnownPen(
            serial=serial,
            model=str(row["model"]),
            firmware=str(row["firmware"]),
            simulated=bool(row["simulated"]),
            first_seen_wall=min(first, seen),
        )
    return sorted(pens.values(), key=lambda p: p.serial)
