"""Calibrate a pen's depth sensor against a gauge, guided mark by mark.

Moves the depth adjuster to each marked position; at each, the technician reads the
needle's protrusion on the gauge and types it in (or gives every reading at once in a file:
CSV ``position_mm,reading_mm`` lines, or JSON ``{"0.8": 0.79, ...}``). Then it fits the
correction, checks every residual against the tolerance and, on a pass, writes the
calibration to the pen and records it; on a fail it writes nothing to the pen. Without
--port it calibrates the SIMULATED pen. Exit status: 0 pass, 1 fail or error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as `python tools/calibrate_depth.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smpctl.calibration import (
    DEFAULT_POSITIONS_MM,
    DepthCalibrationResult,
    DepthCalibrator,
    DepthPlan,
    GaugeReader,
    file_gauge,
    read_readings,
)
from smpctl.cli.args import add_technician_tool, tool_main
from smpctl.cli.bench_tool import Bench, bench, conclude, explain, finish, today
from smpctl.errors import CalibrationError, SimulatorError

QUIT = ("q", "quit", "stop")


def _positions(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give marks in mm separated by commas, e.g. 0.6,0.8,1.0,1.2"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calibrate_depth.py",
        description="Calibrate a pen's depth sensor: the adjuster goes to marked positions "
        "and you enter the protrusion read on a gauge at each (motor off).",
    )
    add_technician_tool(parser)
    parser.add_argument(
        "--positions",
        type=_positions,
        default=None,
        metavar="MM,MM,...",
        help="marked positions, mm (default: the readings file's, else "
        + ",".join(f"{p:g}" for p in DEFAULT_POSITIONS_MM)
        + ")",
    )
    parser.add_argument(
        "--readings",
        type=Path,
        default=None,
        metavar="FILE",
        help="gauge readings per position (CSV or JSON) instead of typing them in",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=DepthPlan().tolerance_mm,
        metavar="MM",
        help="largest residual per mark, mm (default ±%(default)s)",
    )
    parser.add_argument(
        "--simulated-gauge",
        action="store_true",
        help="SIMULATED pen in this process only: read the true protrusion from the "
        "simulator instead of a gauge",
    )
    parser.set_defaults(func=run)
    return parser


def prompt_gauge(ask: Callable[[str], str] = input) -> GaugeReader:
    def read(position_mm: float, reported_mm: float) -> float:
        while True:
            text = ask(
                f"Mark {position_mm:.2f} mm (pen reports {reported_mm:.3f} mm): protrusion on "
                "the gauge, mm (q to stop): "
            ).strip()
            if text.lower() in QUIT:
                raise CalibrationError("stopped by the technician; nothing was written")
            try:
                value = float(text.replace(",", "."))
            except ValueError:
                print(f"  {text!r} is not a number of millimetres; try again", file=sys.stderr)
                continue
            if 0 <= value <= 5:
                return value
            print(f"  {value:g} mm is not a protrusion; try again", file=sys.stderr)

    return read


def simulated_gauge(b: Bench) -> GaugeReader:
    """The simulator's ground truth, for demonstrations without a gauge."""
    import smpctl.sim as sim

    if not b.pen.simulated or not b.url.startswith("sim://"):
        raise SimulatorError("--simulated-gauge needs the simulated pen (a sim:// port)")
    slot = sim.BUS.get(sim.parse_sim_url(b.url).name)
    if slot is None:
        raise SimulatorError("the simulated pen is not in this process")

    def read(_position_mm: float, _reported_mm: float) -> float:
        with slot.pen_lock:
            return round(slot.pen.truth().depth_um / 1000, 3)

    return read


def render(result: DepthCalibrationResult) -> str:
    a = result.analysis
    lines = [
        result.outcome.pen_line(),
        f"{'mark':>6} {'reported':>9} {'gauge':>8} {'corrected':>9} {'residual':>9}",
    ]
    for r in a.results:
        lines.append(
            f"{r.point.position_mm:6.2f} {r.point.reported_mm:9.3f} {r.point.reading_mm:8.3f} "
            f"{r.corrected_mm:9.3f} {r.residual_mm:+8.3f}  {'ok' if r.passed else 'FAIL'}"
        )
    lines.append(
        f"fit: gauge = {a.fit.gain:.5f} × raw {a.fit.offset:+.4f} mm (rms {a.fit.rms:.4f} mm) "
        f"-> gain {a.correction.gain_ppm} ppm, offset {a.correction.offset} µm"
    )
    lines += explain(result.outcome)
    if result.outcome.written:
        lines.append(f"written to the pen; valid until {result.outcome.expires_text()}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    readings = read_readings(args.readings) if args.readings else None
    positions = args.positions or (tuple(sorted(readings)) if readings else DEFAULT_POSITIONS_MM)
    if readings is not None:
        missing = [p for p in positions if round(p, 3) not in readings]
        if missing:
            raise CalibrationError(
                f"the readings file {args.readings} has no reading for the mark(s) "
                + ", ".join(f"{p:g} mm" for p in missing)
            )
    plan = DepthPlan(positions_mm=positions, tolerance_mm=args.tolerance)
    with bench(args) as b:
        if readings is not None:
            gauge = file_gauge(readings)
        elif args.simulated_gauge:
            gauge = simulated_gauge(b)
        else:
            gauge = prompt_gauge()
        b.say(f"Depth marks: {', '.join(f'{p:g}' for p in positions)} mm.")
        result = DepthCalibrator(
            b.pen, plan, gauge, today=today(), valid_days=args.valid_days, say=b.say
        ).run()
        finished = finish(args, result.outcome, result.as_dict(), b.journal)
    return conclude(args, finished, lambda: render(result))


def main(argv: Sequence[str] | None = None) -> int:
    return tool_main(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
