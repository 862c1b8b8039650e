"""`smpctl` command line. Each subcommand lives in its own module with ``register``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from smpctl.errors import SmpctlError

# Modules that add a subcommand: each has register(subparsers) -> None and sets func=run.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "smpctl.cli.pen_cmds",
    "smpctl.cli.conformance_cmd",
    "smpctl.cli.sim_cmd",
    "smpctl.cli.profiles_cmd",
    "smpctl.cli.logs_cmd",
    "smpctl.cli.dashboard_cmd",
    "smpctl.cli.pens_cmd",
    "smpctl.cli.review_cmd",
    "smpctl.cli.sync_cmd",
    "smpctl.cli.clients_cmd",
    "smpctl.cli.outcomes_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smpctl",
        description="Drive, monitor and record a rotary scalp-micropigmentation pen.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except SmpctlError as exc:
        print(f"smpctl: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
