"""Record a pen's skin-contact baseline: its free-running current at each speed, and how
much current its rotor draws to accelerate.

The dashboard counts a stroke as a puncture only when the motor current shows the needle
working in skin; what the current is with the needle in air differs from pen to pen. This
steps the speed across the pen's range with the needle free in the air, measures the
current at each steady step (i0) and fits the acceleration gain c on the ramps between
them, refuses a run where anything touched the needle, and keeps the result in the pen's
calibration history, where the dashboard finds it. Nothing is written to the pen. Run it
again after a speed calibration (or use calibrate_speed.py --contact). Without --port it
calibrates the SIMULATED pen. Exit status: 0 pass, 1 fail or error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as `python tools/calibrate_contact.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smpctl.calibration.contact_run import ContactCalibrationResult, ContactPlan, table_lines
from smpctl.cli.args import add_sim_hand, add_speed_steps, add_technician_tool, tool_main
from smpctl.cli.bench_tool import (
    add_sim_supply,
    bench,
    calibrate_contact,
    conclude,
    explain,
    finish,
)
from smpctl.errors import SimulatorError

DEFAULTS = ContactPlan()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calibrate_contact.py",
        description="Record a pen's skin-contact baseline (free-running current per speed, "
        "and the acceleration gain c) for the dashboard's puncture count. The needle runs in "
        "the air: hold the pen free, touching nothing, and keep the pedal down.",
    )
    add_technician_tool(parser)
    steps = add_speed_steps(
        parser,
        start_hz=DEFAULTS.start_hz,
        stop_hz=DEFAULTS.stop_hz,
        step_hz=DEFAULTS.step_hz,
        telemetry_hz=DEFAULTS.telemetry_hz,
    )
    steps.add_argument(
        "--measure",
        type=float,
        default=DEFAULTS.measure_s,
        metavar="S",
        help="steady stretch measured at each step, s (%(default)s)",
    )
    add_sim_supply(parser)
    add_sim_hand(parser)
    parser.set_defaults(func=run)
    return parser


def render(result: ContactCalibrationResult) -> str:
    lines = table_lines(result)
    lines += explain(result.outcome)
    if result.passed:
        lines.append(
            f"contact baseline in force for this pen until {result.outcome.expires_text()}"
        )
    return "\n".join(lines)


def plan_from(args: argparse.Namespace) -> ContactPlan:
    return ContactPlan(
        start_hz=args.start,
        stop_hz=args.stop,
        step_hz=args.step,
        measure_s=args.measure,
        telemetry_hz=args.telemetry_hz,
    )


def run(args: argparse.Namespace) -> int:
    plan = plan_from(args)
    with bench(args) as b:
        if args.sim_hand and not b.pen.simulated:
            raise SimulatorError("--sim-hand works only on the simulated pen")
        result = calibrate_contact(
            b, plan, valid_days=args.valid_days, sim_skin_load_pct=args.sim_hand
        )
        finished = finish(args, result.outcome, result.as_dict(), b.journal)
    return conclude(args, finished, lambda: render(result))


def main(argv: Sequence[str] | None = None) -> int:
    return tool_main(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
