"""`smpctl pens`: the pens the journal knows, each with its calibration history.

Latest first; an expired calibration is flagged, and the one in force of each kind (the
latest that passed) is marked, so a technician sees at a glance which pens are due. A
contact calibration (the skin-contact baseline the host keeps) shows its gain and speeds.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from smpctl.calibration.contact import GAIN_KEY
from smpctl.calibration.contact import KIND as CONTACT_KIND
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


IN_FORCE_KINDS = ("speed", "depth", "contact")
"""The kinds with a calibration in force (burn-in has none)."""
NEVER = {
    "speed": "never calibrated",
    "depth": "never calibrated",
    "contact": "never calibrated (the dashboard tracks the baseline online)",
}


def pen_entry(pen: KnownPen, history: list[CalibrationRecord], today: dt.date) -> dict[str, Any]:
    current = {
        kind: record.uid
        for kind in IN_FORCE_KINDS
        if (record := in_force(history, kind)) is not None
    }
    entries = []
    for record in history:
        entry = record.as_dict(today)
        entry["in_force"] = current.get(record.kind) == record.uid
        entries.append(entry)
    status = {}
    for kind in IN_FORCE_KINDS:
        record = in_force(history, kind)
        if record is None:
            status[kind] = NEVER[kind]
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
    return f"    {entry['date']}  {entry['kind']:<7} {result}{expires}{who}{_figures(entry)}{tail}"


def _figures(entry: dict[str, Any]) -> str:
    """A contact calibration's own figures: its gain and the speeds its baseline covers."""
    if entry["kind"] != CONTACT_KIND or not entry["written"]:
        return ""
    gain = entry["written"].get(GAIN_KEY)
    speeds = [row.get("speed_hz") for row in entry["residuals"] if "speed_hz" in row]
    if gain is None or not speeds:
        return ""
    return (
        f"  c {gain / 1000:.3f} mA per Hz/s, i0 at {len(speeds)} speeds "
        f"{min(speeds):g}–{max(speeds):g} Hz"
    )


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
        status = pen["calibration"]
        print(f"  speed: {status['speed']}; depth: {status['depth']}; contact: {status['contact']}")
        if not pen["history"]:
            print("    no calibrations recorded")
        for entry in pen["history"]:
            print(_line(entry))
    return 0
