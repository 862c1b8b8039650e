"""The one argument helper shared by every `smpctl` subcommand and every `tools/` script,
so `--port`, `--json` and friends mean the same thing everywhere."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from smpctl.errors import SmpctlError

DEFAULT_SIM_URL = "sim://"


def add_port(parser: argparse.ArgumentParser, *, positional: bool = False) -> None:
    """A pen port: a device path, COM name, or any pyserial URL (sim://, socket://)."""
    help_text = (
        "serial port or URL of the pen (/dev/ttyACM0, COM3, socket://HOST:PORT, sim://); "
        "the SIMULATED pen when omitted"
    )
    if positional:
        parser.add_argument("port", nargs="?", default=None, help=help_text)
    else:
        parser.add_argument("--port", "-p", default=None, help=help_text)


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def resolve_port(port: str | None) -> tuple[str, bool]:
    """The URL to open, and whether it is the simulator picked because no pen is attached.

    No port given: the one pen found on USB; none found: the simulated pen; several found:
    refuse and list them, since guessing which pen is in the practitioner's hand is unsafe.
    """
    if port:
        return port, False
    from smpctl.discovery import pen_ports

    pens = pen_ports()
    if len(pens) == 1:
        return pens[0].device, False
    if len(pens) > 1:
        names = ", ".join(p.device for p in pens)
        raise SmpctlError(f"several pens are attached ({names}): choose one with --port")
    return DEFAULT_SIM_URL, True


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def simulated_banner() -> str:
    return "*** SIMULATED PEN — no needle is driven; records are marked simulated ***"


def add_journal(parser: argparse.ArgumentParser) -> None:
    """``--journal PATH``: the session journal to use (else SMPCTL_JOURNAL, else the user's
    data directory)."""
    parser.add_argument(
        "--journal",
        metavar="PATH",
        default=None,
        help="session journal file (default: $SMPCTL_JOURNAL, else the user's data directory)",
    )


def add_profiles_dir(parser: argparse.ArgumentParser) -> None:
    """Where treatment profiles are looked for, before the shipped set."""
    parser.add_argument(
        "--profiles-dir",
        action="append",
        default=None,
        metavar="DIR",
        help="directory of profile files, searched before the shipped set (repeatable; "
        "default: $SMPCTL_PROFILES, else the user's config directory's profiles/)",
    )


def add_clinic(parser: argparse.ArgumentParser) -> None:
    """The clinic settings file (stricter limits, accepted needles)."""
    parser.add_argument(
        "--clinic",
        default=None,
        metavar="FILE",
        help="clinic settings TOML (default: $SMPCTL_CLINIC, else clinic.toml in the user's "
        "config directory; an empty value means none)",
    )


def tool_main(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Run a ``tools/`` script as ``smpctl`` runs a subcommand: the parser's ``func`` gets
    the arguments; an SmpctlError is printed as ``PROG: error: ...`` with exit status 1."""
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SmpctlError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def add_port_filter(parser: argparse.ArgumentParser) -> None:
    """``--port`` for tools that list rather than drive: narrows the listing to one pen."""
    parser.add_argument(
        "--port",
        "-p",
        default=None,
        help="show only this pen: a serial port (/dev/ttyACM0, COM3), usb:SERIAL, or sim:// "
        "for the SIMULATED USB bus; every device on this machine when omitted",
    )


def add_technician_record(parser: argparse.ArgumentParser, *, expiry: bool = True) -> None:
    """What a technician run records: who ran it, where its report goes and (for a
    calibration) how long it stays valid."""
    parser.add_argument(
        "--technician", default=None, metavar="NAME", help="who ran it (kept in the history)"
    )
    parser.add_argument(
        "--report-dir",
        default=None,
        metavar="DIR",
        help="where the JSON report is written (default: $SMPCTL_CALIBRATION_DIR, else "
        "calibration/ in the user's data directory)",
    )
    if expiry:
        parser.add_argument(
            "--valid-days",
            type=int,
            default=90,
            metavar="DAYS",
            help="days the calibration stays valid (default 90)",
        )


def add_technician_tool(parser: argparse.ArgumentParser, *, expiry: bool = True) -> None:
    """What every technician tool (tools/calibrate_*.py, burn_in.py) takes: the pen, JSON
    output, the journal that keeps the pen's history, and the record's details."""
    add_port(parser)
    add_json(parser)
    add_journal(parser)
    add_technician_record(parser, expiry=expiry)


def add_speed_steps(
    parser: argparse.ArgumentParser,
    *,
    start_hz: float,
    stop_hz: float,
    step_hz: float,
    telemetry_hz: int,
) -> argparse._ArgumentGroup:
    """The speed steps a run walks through, and the telemetry rate it records them at;
    returns the group so a tool can add its own step options to it."""
    group = parser.add_argument_group("speed steps")
    group.add_argument(
        "--start", type=float, default=start_hz, metavar="HZ", help="lowest setpoint (%(default)s)"
    )
    group.add_argument(
        "--stop",
        type=float,
        default=stop_hz,
        metavar="HZ",
        help="highest setpoint (%(default)s; capped at the pen's limit)",
    )
    group.add_argument(
        "--step", type=float, default=step_hz, metavar="HZ", help="step (%(default)s)"
    )
    group.add_argument(
        "--telemetry-hz",
        type=int,
        default=telemetry_hz,
        metavar="HZ",
        help="telemetry rate during the run (%(default)s; capped at the pen's)",
    )
    return group


def _sim_hand(text: str) -> int:
    lowered = text.strip().lower()
    if lowered == "auto":
        return -1
    if lowered == "air":
        return 0
    try:
        value = int(lowered.rstrip("%"))
    except ValueError:
        value = -2
    if not 0 <= value <= 200:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give auto (a hand tapping dots), air, or a skin load of 0..200 %"
        )
    return value


def add_sim_hand(parser: argparse.ArgumentParser) -> None:
    """``--sim-hand``: the simulated hand during a run that needs the needle in the air."""
    parser.add_argument(
        "--sim-hand",
        type=_sim_hand,
        default=0,
        metavar="auto|air|PCT",
        help="SIMULATED pen only: what the needle touches during the run (default air; auto: "
        "a hand tapping dots, PCT: a steady skin load), to see a loaded needle refused",
    )
