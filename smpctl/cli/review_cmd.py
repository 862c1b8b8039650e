"""`smpctl logs show|compare|pass|export|report` and `smpctl review`: the journal after
the session. The work lives in smpctl.review (and smpctl.tui.review for the screens)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from smpctl.errors import ReviewError

from .args import add_journal, add_json, print_json


def register(sub: Any) -> None:
    p = sub.add_parser(
        "review", help="browse sessions, zones and passes; replay a pass (terminal screen)"
    )
    add_journal(p)
    p.set_defaults(func=run_review)


def register_logs(logs_sub: Any) -> None:
    p = logs_sub.add_parser("show", help="one session: per-zone table, events, consumables")
    p.add_argument("session", help="session id, a unique prefix of it, or CLIENT#N")
    p.add_argument("--passes", action="store_true", help="also list every pass with its id")
    add_journal(p)
    add_json(p)
    p.set_defaults(func=run_show)

    p = logs_sub.add_parser(
        "compare", help="a client's sessions zone by zone: changes, skipped zones, what is due"
    )
    p.add_argument("client", help="the client's pseudonym (or a unique prefix)")
    add_journal(p)
    add_json(p)
    p.set_defaults(func=run_compare)

    p = logs_sub.add_parser("pass", help="one pass: setpoints vs measured, speed trace, events")
    p.add_argument("pass_id", metavar="PASS_ID", help="pass id or a unique prefix of it")
    add_journal(p)
    add_json(p)
    p.set_defaults(func=run_pass)

    p = logs_sub.add_parser(
        "export", help="passes, events (and raw telemetry) as CSV or JSON lines; docs/export.md"
    )
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("session", nargs="?", help="session id, unique prefix or CLIENT#N")
    scope.add_argument("--client", help="every session of this client (pseudonym)")
    scope.add_argument("--all", action="store_true", help="every session in the journal")
    p.add_argument("--format", required=True, choices=("csv", "jsonl"))
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=None,
        help="output file (jsonl: default stdout; csv: required, one file per table: "
        "FILE.passes.csv, FILE.events.csv, FILE.samples.csv)",
    )
    p.add_argument("--telemetry", action="store_true", help="also export every raw sample")
    add_journal(p)
    p.set_defaults(func=run_export)

    p = logs_sub.add_parser("report", help="a self-contained, printable HTML session report")
    p.add_argument("session", help="session id, unique prefix or CLIENT#N")
    p.add_argument("-o", "--output", metavar="FILE.html", required=True)
    add_journal(p)
    p.set_defaults(func=run_report)


def run_show(args: argparse.Namespace) -> int:
    from smpctl.review import open_for_review, resolve_session, review_session
    from smpctl.review.text import show_text

    with open_for_review(args.journal) as journal:
        review = review_session(journal, resolve_session(journal, args.session), passes=args.passes)
    if args.json:
        print_json(review.as_dict())
    else:
        print(show_text(review, passes=args.passes))
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from smpctl.review import compare_client, open_for_review, resolve_client
    from smpctl.review.text import compare_text

    with open_for_review(args.journal) as journal:
        comparison = compare_client(journal, resolve_client(journal, args.client))
    if args.json:
        print_json(comparison.as_dict())
    else:
        print(compare_text(comparison))
    return 0


def run_pass(args: argparse.Namespace) -> int:
    from smpctl.review import open_for_review, pass_detail, resolve_pass
    from smpctl.review.text import pass_text

    with open_for_review(args.journal) as journal:
        detail = pass_detail(journal, resolve_pass(journal, args.pass_id))
    if args.json:
        print_json(detail.as_dict())
    else:
        print(pass_text(detail))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from smpctl.review import (
        check_output_path,
        export,
        open_for_review,
        resolve_client,
        resolve_session,
    )
    from smpctl.review.source import companion_path

    target: Path | None = None
    if args.output is not None:
        target = check_output_path(args.output)
        if args.format == "csv":
            for table in ("passes", "events", "samples"):
                check_output_path(companion_path(target, table))
    elif args.format == "csv":
        raise ReviewError(
            "a CSV export writes one file per table: give -o FILE.csv (it writes "
            "FILE.passes.csv, FILE.events.csv and, with --telemetry, FILE.samples.csv), or "
            "use --format jsonl for standard output"
        )
    with open_for_review(args.journal) as journal:
        if args.all:
            uids = [s.uid for s in journal.sessions()]
        elif args.client:
            client = resolve_client(journal, args.client)
            uids = [s.uid for s in journal.sessions() if s.client == client]
        else:
            uids = [resolve_session(journal, args.session).uid]
        result = export(journal, uids, args.format, target, telemetry=args.telemetry)
    if target is not None:
        print(
            f"exported {len(uids)} session(s): {result.passes} passes, {result.events} events"
            + (f", {result.samples} samples" if args.telemetry else "")
            + " -> "
            + ", ".join(result.files),
            file=sys.stderr,
        )
    return 0


def run_report(args: argparse.Namespace) -> int:
    from smpctl.review import check_output_path, open_for_review, resolve_session, review_session
    from smpctl.review.report import render_report
    from smpctl.review.source import write_private

    target = check_output_path(args.output)
    with open_for_review(args.journal) as journal:
        review = review_session(journal, resolve_session(journal, args.session))
        html = render_report(journal, review)
    write_private(target, html)
    print(f"report written to {target}", file=sys.stderr)
    return 0


def run_review(args: argparse.Namespace) -> int:
    from smpctl.review import open_for_review
    from smpctl.tui.review import ReviewApp

    with open_for_review(args.journal) as journal:
        ReviewApp(journal).run()
    return 0
