"""`smpctl conformance`: a pass/fail line per protocol requirement."""

from __future__ import annotations

import argparse
from typing import Any

from smpctl.conformance import iter_lines, results_json, run_conformance
from smpctl.link import open_link

from .args import add_json, add_port, print_json, resolve_port, simulated_banner


def register(sub: Any) -> None:
    p = sub.add_parser("conformance", help="check a pen against docs/protocol.md")
    add_port(p, positional=True)
    add_json(p)
    p.add_argument("--baud", type=int, default=115200, help="line rate for UART pens")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    url, simulated = resolve_port(args.port)
    link = open_link(url, baudrate=args.baud)
    try:
        results = run_conformance(link)
    finally:
        link.close()
    if args.json:
        print_json({"port": url, **results_json(results)})
    else:
        if simulated:
            print(simulated_banner())
        for line in iter_lines(results):
            print(line)
    return 0 if all(r.passed for r in results) else 1
