"""`smpctl outcomes CLIENT | add | cohort`: hair measurements against the micro-injury
dose, for one client over time and across the journal's clients. The work lives in
smpctl.outcomes."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .args import add_journal, add_json, print_json
from .clients_cmd import day_arg, today

if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    _SubParsers = argparse._SubParsersAction

SHOW = "show"


class _AnyWord(Mapping[str, argparse.ArgumentParser]):
    """The subcommands, as argparse's choice check sees them: any word passes, so a
    client's pseudonym reaches ``ClientOrSubcommand``."""

    def __init__(self, parsers: dict[str, argparse.ArgumentParser]) -> None:
        self._parsers = parsers

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __getitem__(self, key: str) -> argparse.ArgumentParser:
        return self._parsers[key]

    def __iter__(self) -> Any:
        return iter(self._parsers)

    def __len__(self) -> int:
        return len(self._parsers)


class ClientOrSubcommand(_SubParsers):
    """`smpctl outcomes CLIENT` reads as `smpctl outcomes show CLIENT`: a first word that
    names no subcommand is the client."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = _AnyWord(self._name_parser_map)  # type: ignore[assignment]  # a Mapping

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if values and values[0] not in self._name_parser_map:
            values = [SHOW, *values]
        super().__call__(parser, namespace, values, option_string)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "outcomes",
        help="hair measurements against micro-injury dose: a client over time, add, cohort",
        description="smpctl outcomes CLIENT [--json] [-o FILE.html]: one client's doses and "
        "hair measurements per zone over time (same as `outcomes show CLIENT`). "
        "smpctl outcomes add CLIENT --zone Z --day D ...: record a measurement. "
        "smpctl outcomes cohort [--json] [--csv FILE]: every client of the journal.",
    )
    outcomes_sub = parser.add_subparsers(
        dest="outcomes_command", metavar="CLIENT | add | cohort", action=ClientOrSubcommand
    )
    parser.set_defaults(func=lambda _args: _usage(parser))

    p = outcomes_sub.add_parser(
        SHOW, help="one client's doses and hair measurements per zone over time (the default)"
    )
    p.add_argument("client", metavar="CLIENT", help="the client's pseudonym (or a unique prefix)")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE.html",
        default=None,
        help="write a self-contained, printable HTML report there instead",
    )
    add_journal(p)
    add_json(p)
    p.set_defaults(func=run_show)

    p = outcomes_sub.add_parser("add", help="record a hair measurement for a client's zone")
    p.add_argument("client", metavar="CLIENT", help="the client's pseudonym, in full")
    p.add_argument("--zone", required=True, help="zone code (HL, CRN, ...)")
    p.add_argument("--day", type=day_arg, required=True, metavar="DAY", help="day measured")
    p.add_argument("--terminal", type=float, default=None, metavar="N", help="terminal hairs/cm²")
    p.add_argument("--vellus", type=float, default=None, metavar="N", help="vellus hairs/cm²")
    p.add_argument(
        "--rating", type=float, default=None, metavar="X", help="rating from standard photos"
    )
    p.add_argument("--scale", default=None, metavar="NAME", help="the rating's scale")
    p.add_argument(
        "--photo", default=None, metavar="PATH", help="photo file: kept by path and hash"
    )
    p.add_argument(
        "--method",
        choices=("trichoscope", "photo"),
        default=None,
        help="default: trichoscope with counts, photo with a rating only",
    )
    p.add_argument("--note", default=None)
    add_journal(p)
    add_json(p)
    p.set_defaults(func=run_add)

    p = outcomes_sub.add_parser(
        "cohort", help="every client: change in hair density against dose, with n (association)"
    )
    p.add_argument(
        "--csv", metavar="FILE", default=None, help="also write the summary table as CSV"
    )
    add_journal(p)
    add_json(p)
    p.set_defaults(func=run_cohort)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def plot_width() -> int:
    return max(60, min(120, shutil.get_terminal_size((100, 24)).columns))


def run_show(args: argparse.Namespace) -> int:
    from smpctl.outcomes import client_for_reading, client_timeline
    from smpctl.outcomes.outcome_report import render_outcomes
    from smpctl.outcomes.text import timeline_text
    from smpctl.review import check_output_path, open_for_review
    from smpctl.review.source import write_private

    target = check_output_path(args.output) if args.output else None
    with open_for_review(args.journal) as journal:
        timeline = client_timeline(journal, client_for_reading(journal, args.client))
        generated = dt.datetime.fromtimestamp(journal.now)
        path = str(journal.path)
    if target is not None:
        write_private(target, render_outcomes(timeline, generated))
        print(f"outcomes report written to {target}", file=sys.stderr)
    if args.json:
        print_json({"journal": path, **timeline.as_dict()})
    elif target is None:
        print(timeline_text(timeline, width=plot_width()))
    return 0


def run_add(args: argparse.Namespace) -> int:
    from smpctl.outcomes import client_for_record, open_for_records, record_outcome
    from smpctl.outcomes.measurements import client_outcomes

    with open_for_records(args.journal) as journal:
        client = client_for_record(journal, args.client)
        uid = record_outcome(
            journal,
            client,
            zone=args.zone,
            day=args.day,
            today=today(),
            terminal_per_cm2=args.terminal,
            vellus_per_cm2=args.vellus,
            rating=args.rating,
            rating_scale=args.scale,
            photo=args.photo,
            method=args.method,
            note=args.note,
        )
        recorded = next(m for m in client_outcomes(journal, client.uid) if m.uid == uid)
    if args.json:
        print_json({"client": client.pseudonym, **recorded.as_dict()})
        return 0
    figures = [
        f"{label} {value:g}/cm²"
        for label, value in (
            ("terminal", recorded.terminal_per_cm2),
            ("vellus", recorded.vellus_per_cm2),
        )
        if value is not None
    ]
    if recorded.rating is not None:
        figures.append(f"rating {recorded.rating:g} ({recorded.rating_scale})")
    print(
        f"Recorded for client {client.pseudonym}, zone {recorded.zone}, "
        f"{recorded.day.isoformat()} ({recorded.method}): {', '.join(figures)} (id {uid[:8]})."
    )
    if recorded.photo is not None:
        print(f"Photo kept by reference: {recorded.photo.path} sha256 {recorded.photo.sha256}")
    return 0


def write_csv(target: Any, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    from smpctl.review.source import private_output

    with private_output(target) as out:
        writer = csv.DictWriter(out, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)


def run_cohort(args: argparse.Namespace) -> int:
    from smpctl.outcomes import cohort
    from smpctl.outcomes.cohort import CSV_COLUMNS
    from smpctl.outcomes.text import cohort_text
    from smpctl.review import check_output_path, open_for_review

    target = check_output_path(args.csv) if args.csv else None
    with open_for_review(args.journal) as journal:
        result = cohort(journal)
        path = str(journal.path)
    if target is not None:
        write_csv(target, result.csv_rows(), CSV_COLUMNS)
        print(f"cohort table written to {target}", file=sys.stderr)
    if args.json:
        print_json({"journal": path, **result.as_dict()})
    else:
        print(cohort_text(result))
    return 0
