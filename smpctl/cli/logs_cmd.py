"""`smpctl logs ...`: the session journal from the command line.

``logs`` is a group: each module in ``LOGS_SUBCOMMAND_MODULES`` has ``register_logs(sub)``
adding its own ``logs`` subcommands (the review commands extend it that way).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
from typing import Any

from smpctl.errors import JournalError
from smpctl.journal import Journal, SessionSummary
from smpctl.zones import ZoneCode

from .args import add_journal, add_json, print_json

LOGS_SUBCOMMAND_MODULES: tuple[str, ...] = ("smpctl.cli.logs_cmd", "smpctl.cli.review_cmd")


def register(sub: Any) -> None:
    parser = sub.add_parser("logs", help="the session journal: list sessions, verify records")
    logs_sub = parser.add_subparsers(dest="logs_command", metavar="LOGS_COMMAND")
    parser.set_defaults(func=lambda _args: _usage(parser))
    for name in LOGS_SUBCOMMAND_MODULES:
        importlib.import_module(name).register_logs(logs_sub)


def register_logs(logs_sub: Any) -> None:
    p = logs_sub.add_parser("list", help="list recorded sessions (pseudonyms only)")
    p.add_argument("--client", default=None, help="only this client's sessions (pseudonym)")
    p.add_argument(
        "--since", type=dt.date.fromisoformat, default=None, help="sessions from this day on"
    )
    p.add_argument("--zone", default=None, help="only sessions that treated this zone")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--simulated", dest="simulated", action="store_const", const=True)
    kind.add_argument("--real", dest="simulated", action="store_const", const=False)
    add_journal(p)
    add_server(p)
    add_json(p)
    p.set_defaults(func=run_list, simulated=None)

    p = logs_sub.add_parser("verify", help="check every record against the hash chain")
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="first recompute the derived tables (review totals, strips) from the records",
    )
    add_journal(p)
    add_server(p)
    add_json(p)
    p.set_defaults(func=run_verify)


def add_server(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        metavar="URL",
        default=None,
        help="work on the clinic-wide records of this PostgreSQL server instead of the journal",
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _when(wall: float | None) -> str:
    if wall is None:
        return "open"
    return dt.datetime.fromtimestamp(wall).strftime("%Y-%m-%d %H:%M")


def format_session(s: SessionSummary) -> str:
    flags = (
        (" microneedling" if s.kind == "microneedling" else "")
        + (" SIMULATED" if s.simulated else "")
        + ("" if s.consent else " NO-CONSENT")
    )
    interrupted = f" ({s.interrupted} interrupted)" if s.interrupted else ""
    return (
        f"{s.uid[:8]}  {_when(s.started_wall)} -> {_when(s.ended_wall):16}  "
        f"client {s.client} #{s.session_number}  {s.passes} passes{interrupted}  "
        f"{s.strokes} strokes  zones {','.join(s.zones) or '-'}{flags}"
    )


def run_list(args: argparse.Namespace) -> int:
    from smpctl.review.listing import filter_sessions

    zone = args.zone.upper() if args.zone else None
    if zone is not None and zone not in {z.value for z in ZoneCode}:
        raise JournalError(
            f"unknown zone {args.zone!r}: use one of {', '.join(z.value for z in ZoneCode)}"
        )
    if args.server:
        from smpctl.clinic import server_sessions
        from smpctl.clinic.connection import server_label

        source = server_label(args.server)
        everything = server_sessions(args.server)
    else:
        with Journal.open(args.journal, writer=False) as journal:
            everything = journal.sessions()
        source = str(journal.path)
    sessions = filter_sessions(
        everything, client=args.client, since=args.since, zone=zone, simulated=args.simulated
    )
    if args.json:
        key = "server" if args.server else "journal"
        print_json({key: source, "sessions": [s.as_dict() for s in sessions]})
        return 0
    if not sessions:
        print(f"No sessions recorded in {source}.")
    for s in sessions:
        print(format_session(s))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    if args.server:  # every chair's hash chain, end to end, on the clinic server
        from smpctl.cli.sync_cmd import run_verify as run_server_verify

        return run_server_verify(argparse.Namespace(url=args.server, json=args.json))
    if args.rebuild:
        with Journal.open(args.journal) as journal:
            journal.rebuild_derived()
    with Journal.open(args.journal, writer=False) as journal:
        report = journal.verify()
    if args.json:
        print_json(
            {
                "journal": str(journal.path),
                "records": report.records,
                "ok": report.ok,
                "problems": list(report.problems),
            }
        )
    elif report.ok:
        print(f"journal {journal.path}: {report.records} records, hash chain intact")
    else:
        count = len(report.problems)
        print(f"journal {journal.path}: {count} problem(s) in {report.records} records:")
        for problem in report.problems:
            print(f"  {problem}")
    return 0 if report.ok else 1
