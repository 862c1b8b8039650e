"""Calibrate a pen's speed sensor against its true stroke rate.

Sweeps the speed setpoint over the pen's range with the needle in the air, measures the
true stroke rate at each step from the stroke counter and the pen's clock, fits the
correction (gain and offset) and checks every step's residual against the tolerance. On a
pass it writes the calibration to the pen (dated, with its expiry), checks it, and records
it in the pen's history; on a fail it says the likely cause and writes nothing to the pen.
With --contact it then records the skin-contact baseline too. Without --port it calibrates
the SIMULATED pen. Exit status: 0 pass, 1 fail or error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python tools/calibrate_speed.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smpctl.calibration import SpeedCalibrationResult, SpeedCalibrator, SpeedSweep
from smpctl.calibration.contact_run import ContactCalibrationResult, ContactPlan, table_lines
from smpctl.cli.args import add_speed_steps, add_technician_tool, print_json, tool_main
from smpctl.cli.bench_tool import (
    Finished,
    add_sim_supply,
    bench,
    calibrate_contact,
    conclude,
    explain,
    finish,
    today,
)

DEFAULTS = SpeedSweep()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calibrate_speed.py",
        description="Calibrate a pen's speed sensor against the true stroke rate (the "
        "needle runs in the air: hold the pen free and keep the pedal down).",
    )
    add_technician_tool(parser)
    sweep = add_speed_steps(
        parser,
        start_hz=DEFAULTS.start_hz,
        stop_hz=DEFAULTS.stop_hz,
        step_hz=DEFAULTS.step_hz,
        telemetry_hz=DEFAULTS.telemetry_hz,
    )
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
    sweep.add_argument("--no-verify", action="store_true", help="skip the check run after writing")
    parser.add_argument(
        "--contact",
        action="store_true",
        help="after a passing calibration, also record the skin-contact baseline over the "
        "same steps, measuring each for --window (what tools/calibrate_contact.py does). The "
        "baseline is looked up by the "
        "speed the pen reports, so it is measured after the new correction is written, and "
        "skipped when the speed calibration fails; it is recorded as its own history entry",
    )
    add_sim_supply(parser)
    parser.set_defaults(func=run)
    return parser


def render(result: SpeedCalibrationResult) -> str:
    a = result.analysis
    lines = [
        result.outcome.pen_line(),
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
        lines.append(f"written to the pen; valid until {result.outcome.expires_text()}")
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
        finished = finish(args, result.outcome, result.as_dict(), b.journal)
        contact: tuple[ContactCalibrationResult, Finished] | None = None
        if args.contact and result.passed:
            b.say("Recording the skin-contact baseline with the new correction in force:")
            plan = ContactPlan(
                start_hz=args.start,
                stop_hz=args.stop,
                step_hz=args.step,
                measure_s=args.window,
                telemetry_hz=args.telemetry_hz,
            )
            contact_result = calibrate_contact(b, plan, valid_days=args.valid_days)
            contact = (
                contact_result,
                finish(args, contact_result.outcome, contact_result.as_dict(), b.journal),
            )
    if not args.contact:
        return conclude(args, finished, lambda: render(result))
    return conclude_both(args, result, finished, contact)


def conclude_both(
    args: argparse.Namespace,
    result: SpeedCalibrationResult,
    finished: Finished,
    contact: tuple[ContactCalibrationResult, Finished] | None,
) -> int:
    """Both runs' results; exit status 0 only when both passed."""
    skipped = "not measured: the speed calibration failed"
    recorded, journal_path = finished.recorded, finished.journal_path
    if args.json:
        out: dict[str, Any] = {
            **finished.body,
            "report": str(recorded.report),
            "journal": str(journal_path),
        }
        out["contact"] = (
            {**contact[1].body, "report": str(contact[1].recorded.report)}
            if contact is not None
            else {"passed": False, "skipped": skipped}
        )
        print_json(out)
    else:
        print(render(result))
        print(f"report: {recorded.report}")
        print("--- skin-contact baseline ---")
        if contact is None:
            print(f"RESULT: FAIL ({skipped})")
        else:
            contact_result, contact_finished = contact
            lines = table_lines(contact_result) + explain(contact_result.outcome)
            print("\n".join(lines))
            print(f"report: {contact_finished.recorded.report}")
        print(f"history: {journal_path}")
    return 0 if result.passed and contact is not None and contact[0].passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    return tool_main(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
