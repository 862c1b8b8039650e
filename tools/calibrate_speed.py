"""Calibrate a pen's speed sensor against its true stroke rate.

Sweeps the speed setpoint over the pen's range with the needle in the air, measures the
true stroke rate at each step from the stroke counter and the pen's clock, fits the
correction (gain and offset) and checks every step's residual against the tolerance. On a
pass it writes the calibration to the pen (dated, with its expiry), checks it, and records
it in the pen's history; on a fail it says the likely cause and writes nothing to the pen.
Without --port it calibrates the SIMULATED pen. Exit status: 0 pass, 1 fail or error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as `python tools/calibrate_speed.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smpctl.calibration import SpeedCalibrationResult, SpeedCalibrator, SpeedSweep
from smpctl.cli.args import (
    add_journal,
    add_json,
    add_port,
    add_technician_record,
    tool_main,
)
from smpctl.cli.bench_tool import add_sim_supply, bench, conclude, explain, finish, today

DEFAULTS = SpeedSweep()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calibrate_speed.py",
        description="Calibrate a pen's speed sensor against the true stroke rate (the "
        "needle runs in the air: hold the pen free and keep the pedal down).",
    )
    add_port(parser)
    add_json(parser)
    add_journal(parser)
    add_technician_record(parser)
    sweep = parser.add_argument_group("sweep")
    sweep.add_argument("--start", type=float, default=DEFAULTS.start_hz, metavar="HZ")
    sweep.add_argument(
        "--stop",
        type=float,
        default=DEFAULTS.stop_hz,
        metavar="HZ",
        help="highest setpoint (capped at the pen's limit)",
    )
    sweep.add_argument("--step", type=float, default=DEFAULTS.step_hz, metavar="HZ")
    sweep.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULTS.tolerance_pct,
        metavar="PCT",
        help="largest residual per step, %% of the true rate (default ±%(default)s)",
    )
    sweep.add_argument(
        "--window",
        type=float,
        default=DEFAULTS.window_s,
        metavar="S",
        help="length of one measurement window, s",
    )
    sweep.add_argument(
        "--windows", type=int, default=DEFAULTS.windows, help="measurement windows per step"
    )
    sweep.add_argument(
        "--settle",
        type=float,
        default=DEFAULTS.settle_window_s,
        metavar="S",
        help="window over which the speed must be stable before measuring, s",
    )
    sweep.add_argument("--telemetry-hz", type=int, default=DEFAULTS.telemetry_hz, metavar="HZ")
    sweep.add_argument("--no-verify", action="store_true", help="skip the check run after writing")
    add_sim_supply(parser)
    parser.set_defaults(func=run)
    return parser


def render(result: SpeedCalibrationResult) -> str:
    a = result.analysis
    lines = [
        f"pen {result.outcome.identity.model} serial {result.outcome.identity.serial}"
        + (" (SIMULATED)" if result.outcome.identity.simulated else ""),
        f"{'setpoint':>9} {'true':>9} {'reported':>9} {'corrected':>9} {'residual':>9}",
    ]
    for r in a.results:
        flags = []
        if r.saturated:
            flags.append("SATURATED")
        if not r.step.settled:
            flags.append("unsettled")
        if r.step.repeat:
            flags.append("return")
        lines.append(
            f"{r.step.setpoint_hz:8.1f}  {r.step.true_hz:8.2f}  {r.step.reported_hz:8.2f}  "
            f"{r.corrected_hz:8.2f}  {r.residual_pct:+7.2f} %  {'ok' if r.passed else 'FAIL'}"
            + (f"  {' '.join(flags)}" if flags else "")
        )
    if a.fit is not None and a.correction is not None:
        lines.append(
            f"fit: true = {a.fit.gain:.5f} × raw {a.fit.offset:+.3f} Hz "
            f"(rms {a.fit.rms:.3f} Hz) -> gain {a.correction.gain_ppm} ppm, offset "
            f"{a.correction.offset} × 0.01 Hz"
        )
    for v in result.verification:
        lines.append(
            f"check {v.setpoint_hz:6.1f} Hz: reported {v.reported_hz:7.2f}, true "
            f"{v.true_hz:7.2f} ({v.error_pct:+.2f} %) {'ok' if v.passed else 'FAIL'}"
        )
    lines += explain(result.outcome)
    if result.outcome.written:
        expires = result.outcome.expires.isoformat() if result.outcome.expires else "never"
        lines.append(f"written to the pen; valid until {expires}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    sweep = SpeedSweep(
        start_hz=args.start,
        stop_hz=args.stop,
        step_hz=args.step,
        tolerance_pct=args.tolerance,
        settle_window_s=args.settle,
        window_s=args.window,
        windows=args.windows,
        telemetry_hz=args.telemetry_hz,
        verify=not args.no_verify,
    )
    with bench(args) as b:
        result = SpeedCalibrator(
            b.pen, sweep, today=today(), valid_days=args.valid_days, say=b.say
        ).run()
        body = result.as_dict()
        recorded = finish(args, result.outcome, body, b.journal)
        journal_path = b.journal.path
    return conclude(args, result.outcome, body, recorded, journal_path, lambda: render(result))


def main(argv: Sequence[str] | None = None) -> int:
    return tool_main(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
