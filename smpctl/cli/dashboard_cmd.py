"""`smpctl dashboard`: the live screen practitioners run during a session."""

from __future__ import annotations

import argparse
from typing import Any

from .args import add_journal, add_port, resolve_port


def register(sub: Any) -> None:
    p = sub.add_parser("dashboard", help="the live treatment dashboard")
    add_port(p)
    p.add_argument("--profile", default=None, help="treatment profile to use")
    add_journal(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from smpctl.client import Pen, connect
    from smpctl.journal import Journal
    from smpctl.tui.app import Dashboard

    url, simulated = resolve_port(args.port)
    if simulated:
        url = "sim://?hand=auto"

    def connect_pen() -> Pen:
        return connect(url)

    with Journal.open(args.journal) as journal:
        Dashboard(connect_pen, journal=journal, simulated=simulated).run()
    return 0
