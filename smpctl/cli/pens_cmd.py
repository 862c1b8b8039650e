"""`smpctl pens`: the pens the journal knows, each with its calibration history.

Latest first; an expired calibration is flagged, and the one in force of each kind (the
latest that passed) is marked, so a technician sees at a glance which pens are due.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from smpctl.journal import Journal
from smpctl.journal.calibrations import (
    CalibrationRecord,
    KnownPen,
    calibrations,
    in_force,
    known_pens,
)

from .args import add_journal, add_json, print_json


def register(sub: Any) -> None:
    p = sub.add_parser("pens", help="known pens and their calibration history")
    add_journal(p)
    add_json(p)
    p.set_defaults(func=run)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def pen_entry(pen: KnownPen, history: list[CalibrationRecord], today: dt.date) -> dict[str, Any]:
    current = {
        kind: record.uid
        for kind in ("speed", "depth")
        if (record := in_force(history, kind)) is not None
    }
    entries = []
    for record in history:
        entry = record.as_dict(today)
        entry["in_force"] = current.get(record.kind) == record.uid
        entries.append(entry)
    status = {}
    for kind in ("speed", "depth"):
        record = in_force(history, kind)
        if record is None:
            status[kind] = "never calibrated"
        elif record.expired(today):
            status[kind] = f"EXPIRED {record.expires.isoformat() if record.expires else ''}"
        else:
            status[kind] = (
                f"valid until {record.expires.isoformat()}" if record.expires else "valid"
            )
    return {**pen.as_dict(), "calibration": status, "history": entries}


def _line(entry: dict[str, Any]) -> str:
    result = "pass" if entry["passed"] else "FAIL"
    flags = []
    if entry["in_force"]:
        flags.append("in force")
    if entry.get("expired"):
        flags.append("EXPIRED")
    expires = f" expires {entry['expires']}" if entry["expires"] else ""
    who = f" by {entry['technician']}" if entry["technician"] else ""
    tail = f"  [{', '.join(flags)}]" if flags else ""
    return f"    {entry['date']}  {entry['kind']:<7} {result}{expires}{who}{tail}"


def run(args: argparse.Namespace) -> int:
    today = _today()
    with Journal.open(args.journal, writer=False) as journal:
        pens = [pen_entry(p, calibrations(journal, p.serial), today) for p in known_pens(journal)]
        path = journal.path
    if args.json:
        print_json({"journal": str(path), "today": today.isoformat(), "pens": pens})
        return 0
    if not pens:
        print(f"No pens recorded in {path}.")
        return 0
    for pen in pens:
        sim = "  SIMULATED" if pen["simulated"] else ""
        print(f"{pen['serial']}  {pen['model']}  firmware {pen['firmware']}{sim}")
        print(f"  speed: {pen['calibration']['speed']}; depth: {pen['calibration']['depth']}")
        if not pen["history"]:
            print("    no calibrations recorded")
        for entry in pen["history"]:
            print(_line(entry))
    return 0
