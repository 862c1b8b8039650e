"""Journals for the outcome tests: clients' sessions recorded through the journal with
their doses set on the pass rows (in-skin strokes, needles, punctures) as the recorder
sets them at the end of a pass, and sessions given their kind."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import pytest

from smpctl.cli import main
from smpctl.journal import Journal, Outcome, Update

DAY = 86_400.0
START = dt.datetime(2026, 3, 2, 10, 0).timestamp()
"""Local 10:00 on 2026-03-02: session days are local days."""
START_DAY = dt.date(2026, 3, 2)
TODAY = dt.date(2026, 11, 25)
"""The injected clock of library-level tests; the CLI uses the real day (later than every
day recorded here)."""


class Clock:
    def __init__(self, t: float = START) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def at_day(self, offset_days: float) -> None:
        self.t = START + offset_days * DAY


def day(offset_days: int) -> dt.date:
    return START_DAY + dt.timedelta(days=offset_days)


def record_session(
    journal: Journal,
    clock: Clock,
    client: str,
    number: int,
    offset_days: int,
    doses: Mapping[str, tuple[int, int | None]],
    *,
    kind: str | None = None,
) -> str:
    """One session ``offset_days`` after START: per zone one pass of (in-skin strokes,
    needles); needles None leaves the punctures unknown (no cartridge count)."""
    clock.at_day(offset_days)
    uid = journal.open_session(client, number, consent=True, simulated=True)
    if kind is not None:
        journal.store.write([Update("sessions", uid, {"kind": kind})])
    for zone, (in_skin, needles) in doses.items():
        journal.set_zone(zone)
        pass_uid = journal.begin_pass(started_t_us=0, wall=journal.now, pen_uid=None)
        journal.end_pass(
            pass_uid,
            outcome=Outcome.COMPLETE,
            detail=None,
            ended_t_us=60_000_000,
            wall=journal.now + 60,
            aggregates={"strokes": in_skin + in_skin // 4},
            events=[],
        )
        changes: dict[str, object] = {"in_skin_strokes": in_skin, "needles": needles}
        if needles is not None:
            changes["punctures"] = in_skin * needles
        journal.store.write([Update("passes", pass_uid, changes)])
    journal.close_session()
    return uid


def rows(path: Path, table: str) -> int:
    """Rows in ``table`` (and so whether a refused command wrote anything)."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``smpctl ARGV`` in process: (exit status, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
