"""Burn a pen in: run it through a treatment profile's speeds for N minutes and check it
holds them steadily, without its current or temperature drifting.

The needle runs in the air (hold the pen free and keep the pedal down). Writes a pass/fail
JSON report and records the run in the pen's history; never changes the pen's settings.
Without --port it burns in the SIMULATED pen. Exit status: 0 pass, 1 fail or error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as `python tools/burn_in.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smpctl.calibration import BurnIn, BurnInPlan, BurnInResult, profile_speeds
from smpctl.calibration.burn_in import DEFAULT_PROFILE
from smpctl.cli.args import add_profiles_dir, add_technician_tool, tool_main
from smpctl.cli.bench_tool import add_sim_supply, bench, conclude, explain, finish, today
from smpctl.profiles import ProfileLibrary

DEFAULTS = BurnInPlan(speeds_hz=(100.0,))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="burn_in.py",
        description="Run a pen through a profile's speeds for N minutes and check its speed "
        "stability, current and temperature drift (needle in the air, pedal held down).",
    )
    add_technician_tool(parser, expiry=False)
    parser.add_argument(
        "--minutes",
        type=float,
        default=DEFAULTS.minutes,
        help="how long to run, minutes (default %(default)s; fractions allowed)",
    )
    parser.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help="profile whose zone speeds are run (default %(default)s)",
    )
    add_profiles_dir(parser)
    parser.add_argument(
        "--dwell",
        type=float,
        default=DEFAULTS.dwell_s,
        metavar="S",
        help="seconds at each speed per cycle (default %(default)s)",
    )
    parser.add_argument(
        "--window",
        type=float,
        default=DEFAULTS.window_s,
        metavar="S",
        help="length of one measurement window, s (default %(default)s)",
    )
    add_sim_supply(parser)
    parser.set_defaults(func=run)
    return parser


def render(result: BurnInResult) -> str:
    lines = [
        result.outcome.pen_line(),
        f"ran {result.duration_s / 60:.2f} min in {len(result.segments)} stays at "
        + ", ".join(f"{s:g}" for s in result.plan.speeds_hz)
        + " Hz",
    ]
    f = result.figures
    if f:
        lines.append(
            f"temperature {f['temp_start_c']:.1f} -> {f['temp_end_c']:.1f} °C (max "
            f"{f['temp_max_c']:.1f}), peak current {f['peak_current_a']:.2f} A, faults seen: "
            f"{f['faults_seen']}"
        )
        drift = f.get("current_drift_pct") or {}
        if drift:
            lines.append(
                "current drift: " + ", ".join(f"{k} Hz {v:+.1f} %" for k, v in drift.items())
            )
    lines += explain(result.outcome)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    library = ProfileLibrary.default(args.profiles_dir)
    speeds = profile_speeds(library.load(args.profile))
    plan = BurnInPlan(
        speeds_hz=speeds, minutes=args.minutes, dwell_s=args.dwell, window_s=args.window
    )
    with bench(args) as b:
        result = BurnIn(b.pen, plan, today=today(), say=b.say).run()
        body = {**result.as_dict(), "profile": args.profile}
        finished = finish(args, result.outcome, body, b.journal)
    return conclude(args, finished, lambda: render(result))


def main(argv: Sequence[str] | None = None) -> int:
    return tool_main(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
