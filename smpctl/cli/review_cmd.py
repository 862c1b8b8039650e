"""`smpctl logs show|compare|pass|export|report` and `smpctl review`: the journal after
the session. The work lives in smpctl.review (and smpctl.tui.review for the screens).

With ``--server URL`` the same review runs on the clinic-wide records: a ``ServerReview``
(smpctl.clinic) resolves the ids against the server and copies what the command needs into
a private snapshot journal; the output then says where the records came from and at which
chair each session was recorded.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterable, Iterator
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from smpctl.errors import ReviewError
from smpctl.journal import Journal, PassRecord, SessionSummary

from .args import add_journal, add_json, print_json
from .logs_cmd import add_server

if TYPE_CHECKING:
    from smpctl.clinic.server_review import TelemetryNeed


class ReviewSource(Protocol):
    """What a review command reads: resolving an id also makes its records available."""

    journal: Journal

    def session(self, given: str, telemetry: TelemetryNeed = "none") -> SessionSummary: ...
    def client(self, given: str, telemetry: TelemetryNeed = "none") -> str: ...
    def everything(self, telemetry: TelemetryNeed = "none") -> None: ...
    def pass_record(self, given: str) -> PassRecord: ...
    def banner(self) -> str | None: ...
    def chair(self, uid: str) -> str | None: ...
    def origin(self) -> dict[str, object]: ...


class JournalSource:
    """The chair's own journal: every record is there already."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def session(self, given: str, telemetry: TelemetryNeed = "none") -> SessionSummary:
        from smpctl.review import resolve_session

        return resolve_session(self.journal, given)

    def client(self, given: str, telemetry: TelemetryNeed = "none") -> str:
        from smpctl.review import resolve_client

        return resolve_client(self.journal, given)

    def everything(self, telemetry: TelemetryNeed = "none") -> None:
        return None

    def pass_record(self, given: str) -> PassRecord:
        from smpctl.review import resolve_pass

        return resolve_pass(self.journal, given)

    def banner(self) -> str | None:
        return None

    def chair(self, uid: str) -> str | None:
        return None

    def origin(self) -> dict[str, object]:
        return {}


@contextlib.contextmanager
def review_source(args: argparse.Namespace) -> Iterator[ReviewSource]:
    """The clinic server's records with ``--server``, else the journal."""
    if getattr(args, "server", None):
        from smpctl.clinic import ServerReview

        with ServerReview.open(args.server) as snapshot:
            yield snapshot
    else:
        from smpctl.review import open_for_review

        with open_for_review(args.journal) as journal:
            yield JournalSource(journal)


def with_chairs(source: ReviewSource, text: str, uids: Iterable[str]) -> str:
    """Text output from the server: the source first, and the chair after the first line
    that names each record by its short id."""
    from smpctl.review.ids import SHORT_ID

    banner = source.banner()
    if banner is None:
        return text
    chairs = {uid[:SHORT_ID]: chair for uid in uids if (chair := source.chair(uid)) is not None}
    lines = [banner]
    for line in text.splitlines():
        named = [short for short in line.split() if short in chairs]
        for short in named:
            line += f"  at chair {chairs.pop(short)}"
        lines.append(line)
    return "\n".join(lines)


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
    add_server(p)
    add_json(p)
    p.set_defaults(func=run_show)

    p = logs_sub.add_parser(
        "compare", help="a client's sessions zone by zone: changes, skipped zones, what is due"
    )
    p.add_argument("client", help="the client's pseudonym (or a unique prefix)")
    add_journal(p)
    add_server(p)
    add_json(p)
    p.set_defaults(func=run_compare)

    p = logs_sub.add_parser("pass", help="one pass: setpoints vs measured, speed trace, events")
    p.add_argument("pass_id", metavar="PASS_ID", help="pass id or a unique prefix of it")
    add_journal(p)
    add_server(p)
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
    add_server(p)
    p.set_defaults(func=run_export)

    p = logs_sub.add_parser("report", help="a self-contained, printable HTML session report")
    p.add_argument("session", help="session id, unique prefix or CLIENT#N")
    p.add_argument("-o", "--output", metavar="FILE.html", required=True)
    add_journal(p)
    add_server(p)
    p.set_defaults(func=run_report)


def run_show(args: argparse.Namespace) -> int:
    from smpctl.review import review_session
    from smpctl.review.text import show_text

    with review_source(args) as source:
        session = source.session(args.session)
        review = review_session(source.journal, session, passes=args.passes)
        if args.json:
            out = review.as_dict()
            if source.origin():
                out["session"]["chair"] = source.chair(session.uid)
            print_json({**source.origin(), **out})
        else:
            print(with_chairs(source, show_text(review, passes=args.passes), [session.uid]))
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from smpctl.review import compare_client
    from smpctl.review.text import compare_text

    with review_source(args) as source:
        comparison = compare_client(source.journal, source.client(args.client))
        if args.json:
            out = comparison.as_dict()
            if source.origin():
                for column in out["sessions"]:
                    column["chair"] = source.chair(column["uid"])
            print_json({**source.origin(), **out})
        else:
            uids = [s.uid for s in comparison.sessions]
            print(with_chairs(source, compare_text(comparison), uids))
    return 0


def run_pass(args: argparse.Namespace) -> int:
    from smpctl.review import pass_detail
    from smpctl.review.text import pass_text

    with review_source(args) as source:
        record = source.pass_record(args.pass_id)
        detail = pass_detail(source.journal, record)
        if args.json:
            out = detail.as_dict()
            if source.origin():
                out["chair"] = source.chair(record.uid)
            print_json({**source.origin(), **out})
        else:
            print(with_chairs(source, pass_text(detail), [record.uid]))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from smpctl.review import check_output_path, export
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
    telemetry: TelemetryNeed = "all" if args.telemetry else "none"
    with review_source(args) as source:
        journal = source.journal
        if args.all:
            source.everything(telemetry)
            uids = [s.uid for s in journal.sessions()]
        elif args.client:
            client = source.client(args.client, telemetry)
            uids = [s.uid for s in journal.sessions() if s.client == client]
        else:
            uids = [source.session(args.session, telemetry).uid]
        result = export(journal, uids, args.format, target, telemetry=args.telemetry)
        banner = source.banner()
    if banner is not None:
        print(banner, file=sys.stderr)
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
    from smpctl.review import check_output_path, review_session
    from smpctl.review.report import render_report
    from smpctl.review.source import write_private

    target = check_output_path(args.output)
    with review_source(args) as source:
        session = source.session(args.session, "trace")
        review = review_session(source.journal, session)
        html = render_report(source.journal, review)
        banner = source.banner()
        if banner is not None:
            chair = source.chair(session.uid)
            html = _after_title(
                html,
                f"<p class='muted'>{escape(banner[0].upper() + banner[1:])}"
                + (f"; this session was recorded at chair {escape(chair)}" if chair else "")
                + ".</p>",
            )
    write_private(target, html)
    print(f"report written to {target}", file=sys.stderr)
    return 0


def _after_title(html: str, paragraph: str) -> str:
    """``paragraph`` right under the report's title (else at the top of its body)."""
    for mark in ("</h1>", "<body>"):
        at = html.find(mark)
        if at >= 0:
            at += len(mark)
            return html[:at] + paragraph + html[at:]
    return paragraph + html


def run_review(args: argparse.Namespace) -> int:
    from smpctl.review import open_for_review
    from smpctl.tui.review import ReviewApp

    with open_for_review(args.journal) as journal:
        ReviewApp(journal).run()
    return 0
