"""`smpctl sim`: the simulated pen on a pseudo-terminal or a TCP port, until interrupted.

The first line of stdout is what to open (a device path, or a socket:// URL), so a script
or test can start it and read one line to know where the pen is.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from smpctl.errors import SimulatorError

if TYPE_CHECKING:  # smpctl.sim is imported only when the subcommand runs
    from smpctl.sim import PenOptions


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "sim",
        help="run the simulated pen on a pseudo-terminal or TCP port",
        description=(
            "Serve the simulated pen until interrupted. Prints where to reach it on the "
            "first line of stdout: a pty path, or socket://HOST:PORT."
        ),
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal")
    where.add_argument("--tcp", type=int, metavar="PORT", help="serve on TCP PORT (0: any free)")
    parser.add_argument("--host", default="127.0.0.1", help="TCP address (default 127.0.0.1)")
    parser.add_argument("--seed", type=int, default=0, help="randomness seed (default 0)")
    parser.add_argument(
        "--baud", type=int, default=115200, help="line rate pacing the output (0 = USB CDC)"
    )
    parser.add_argument("--serial", help="serial number (default SIM + 5 digits of the seed)")
    parser.add_argument(
        "--eeprom", type=Path, metavar="PATH", help="JSON file for config and calibration"
    )
    parser.add_argument(
        "--hand", default="auto", help="skin contact: auto, air or PERCENT (default auto)"
    )
    parser.add_argument("--pedal", default="up", help="foot pedal: up, down or auto (default up)")
    parser.set_defaults(func=run)


def _options(args: argparse.Namespace) -> PenOptions:
    """The same validation as a sim:// URL, so both reject the same mistakes."""
    from urllib.parse import urlencode

    from smpctl.sim import parse_sim_url

    query: dict[str, object] = {
        "seed": args.seed,
        "baud": args.baud,
        "hand": args.hand,
        "pedal": args.pedal,
    }
    if args.serial is not None:
        query["serial"] = args.serial
    if args.eeprom is not None:
        query["eeprom"] = str(args.eeprom)
    return parse_sim_url("sim://?" + urlencode(query)).options


def run(args: argparse.Namespace) -> int:
    from smpctl.sim import serve_pty, serve_tcp

    try:
        options = _options(args)
    except SimulatorError as exc:
        print(f"smpctl sim: {exc}", file=sys.stderr)
        return 2
    server = serve_pty(options) if args.pty else serve_tcp(args.tcp, args.host, options)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(server.url, flush=True)
        print(
            f"simulated pen {options.serial_number} serving; Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.close()
    return 0
