"""What the technician tools (tools/calibrate_speed.py, calibrate_contact.py,
calibrate_depth.py, burn_in.py) share: the pen on the bench, the journal, and where the
result goes.

Without ``--port`` (and no pen on USB) the tools run on the SIMULATED pen, labelled so on
stderr before anything happens. The journal is opened before the pen is touched, so a
locked journal stops the run before a calibration is written that could not be recorded.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smpctl.calibration import Outcome, Recorded, default_report_dir, record_run
from smpctl.calibration.contact import contact_settings
from smpctl.calibration.contact_run import (
    ContactCalibrationResult,
    ContactCalibrator,
    ContactPlan,
)
from smpctl.client import Pen, connect
from smpctl.errors import SimulatorError
from smpctl.journal import Journal
from smpctl.protocol import SimAction

from .args import print_json, resolve_port, simulated_banner

BENCH_SIM_URL = "sim://bench?baud=921600"
"""The simulated pen the tools use: a fast line, so telemetry at 500 Hz fits."""

Say = Callable[[str], None]


@dataclass
class Bench:
    pen: Pen
    journal: Journal
    say: Say
    url: str

    @property
    def simulated(self) -> bool:
        return self.pen.simulated


def today() -> dt.date:
    """The pen stores calibration days in UTC (days since 1970-01-01)."""
    return dt.datetime.now(dt.UTC).date()


def add_sim_supply(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sim-supply-mv",
        type=int,
        default=None,
        metavar="MV",
        help="SIMULATED pen only: feed it from a bench supply of this many millivolts "
        "(e.g. 7000 to see a low supply fail the run)",
    )


def sayer(json_output: bool) -> Say:
    """Progress goes to stdout, or to stderr when stdout carries JSON."""
    if json_output:
        return lambda text: print(text, file=sys.stderr, flush=True)
    return lambda text: print(text, flush=True)


@contextlib.contextmanager
def bench(args: argparse.Namespace) -> Iterator[Bench]:
    say = sayer(args.json)
    url, simulated = resolve_port(args.port)
    if simulated:
        url = BENCH_SIM_URL
    with Journal.open(args.journal) as journal:
        pen = connect(url)
        try:
            if pen.simulated:
                print(simulated_banner(), file=sys.stderr, flush=True)
                print(
                    f"*** pen {pen.serial} at {url}: a SIMULATED pen; nothing real is "
                    "calibrated ***",
                    file=sys.stderr,
                    flush=True,
                )
            supply = getattr(args, "sim_supply_mv", None)
            if supply is not None:
                if not pen.simulated:
                    raise SimulatorError("--sim-supply-mv works only on the simulated pen")
                pen.sim(SimAction.SUPPLY_MV, supply)
                say(f"SIMULATED bench supply: {supply / 1000:.2f} V")
            yield Bench(pen, journal, say, url)
        finally:
            pen.close()


@dataclass(frozen=True)
class Finished:
    """A run once recorded: what ``conclude`` prints."""

    outcome: Outcome
    body: dict[str, Any]
    recorded: Recorded
    journal_path: Path


def finish(
    args: argparse.Namespace,
    outcome: Outcome,
    body: dict[str, Any],
    journal: Journal,
) -> Finished:
    report_dir = Path(args.report_dir) if args.report_dir else default_report_dir()
    recorded = record_run(
        outcome, body, report_dir=report_dir, journal=journal, technician=args.technician
    )
    return Finished(outcome, body, recorded, journal.path)


def conclude(args: argparse.Namespace, finished: Finished, render: Callable[[], str]) -> int:
    """Print the result (JSON or text); exit status 0 on a pass, 1 on a fail."""
    if args.json:
        print_json(
            {
                **finished.body,
                "report": str(finished.recorded.report),
                "journal": str(finished.journal_path),
            }
        )
    else:
        print(render())
        print(f"report: {finished.recorded.report}")
        print(f"history: {finished.journal_path}")
    return 0 if finished.outcome.passed else 1


def calibrate_contact(
    b: Bench, plan: ContactPlan, *, valid_days: int, sim_skin_load_pct: int = 0
) -> ContactCalibrationResult:
    """The contact calibration on the bench's pen, compared with the pen's last one
    (tools/calibrate_contact.py, and calibrate_speed.py --contact)."""
    return ContactCalibrator(
        b.pen,
        plan,
        today=today(),
        valid_days=valid_days,
        say=b.say,
        sim_skin_load_pct=sim_skin_load_pct,
        previous=contact_settings(b.journal, b.pen.serial, today()),
    ).run()


def explain(outcome: Outcome) -> list[str]:
    lines = [f"RESULT: {'PASS' if outcome.passed else 'FAIL'}"]
    for d in outcome.diagnoses:
        lines.append(f"likely cause: {d.cause.value}")
        lines.append(f"  {d.explanation}")
    lines += [f"note: {n}" for n in outcome.notes]
    return lines
