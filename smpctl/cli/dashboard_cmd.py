"""`smpctl dashboard`: the live screen practitioners run during a session."""

from __future__ import annotations

import argparse
from typing import Any

from .args import add_port, resolve_port


def register(sub: Any) -> None:
    p = sub.add_parser("dashboard", help="the live treatment dashboard")
    add_port(p)
    p.add_argument("--profile", default=None, help="treatment profile to use")
    p.add_argument("--journal", default=None, help="journal database file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from smpctl.client import Pen, connect
    from smpctl.tui.app import Dashboard

    url, simulated = resolve_port(args.port)
    if simulated:
        url = "sim://?hand=auto"

    def connect_pen() -> Pen:
        return connect(url)

    Dashboard(connect_pen, simulated=simulated).run()
    return 0
