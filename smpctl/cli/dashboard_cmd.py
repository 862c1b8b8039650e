"""`smpctl dashboard`: the live screen practitioners run during a session."""

from __future__ import annotations

import argparse
from typing import Any

from .args import add_clinic, add_journal, add_port, add_profiles_dir, resolve_port

DEFAULT_PROFILE = "smp-base"


def register(sub: Any) -> None:
    p = sub.add_parser("dashboard", help="the live treatment dashboard")
    add_port(p)
    p.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help=f"treatment profile applied per zone (default {DEFAULT_PROFILE}; 'none' to use "
        "the pen's own setpoints)",
    )
    add_profiles_dir(p)
    add_clinic(p)
    add_journal(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from smpctl.client import Pen, connect
    from smpctl.journal import Journal
    from smpctl.profiles import ProfileLibrary, load_clinic
    from smpctl.tui.app import Dashboard

    # bad profile or clinic files are refused here, before any pen is touched
    clinic = load_clinic(args.clinic)
    profile = None
    if args.profile.lower() != "none":
        profile = ProfileLibrary.default(args.profiles_dir).load(args.profile)

    url, simulated = resolve_port(args.port)
    if simulated:
        url = "sim://?hand=auto&baud=0"  # a USB pen: the line never limits telemetry

    def connect_pen() -> Pen:
        return connect(url)

    with Journal.open(args.journal) as journal:
        Dashboard(
            connect_pen, journal=journal, simulated=simulated, profile=profile, clinic=clinic
        ).run()
    return 0
