"""`smpctl clients areas|adjunct`: what is recorded about a client outside sessions -- the
zone areas measured on them and the treatments they take alongside. The work lives in
smpctl.outcomes."""

from __future__ import annotations

import argparse
import datetime as dt
import math
from typing import Any

from smpctl.errors import ClientRecordError

from .args import add_journal, add_json, print_json


def today() -> dt.date:
    """Session days are local days (the journal's dose queries count them so)."""
    return dt.date.today()


def day_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a day: write YYYY-MM-DD, e.g. {today().isoformat()}"
        ) from None


def register(sub: Any) -> None:
    parser = sub.add_parser("clients", help="a client's measured zone areas and adjunct treatments")
    clients_sub = parser.add_subparsers(dest="clients_command", metavar="CLIENTS_COMMAND")
    parser.set_defaults(func=lambda _args: _usage(parser))

    p = clients_sub.add_parser(
        "areas",
        help="record zone areas measured on a client (ZONE=CM2 ...); always lists the areas "
        "in force",
    )
    p.add_argument("client", metavar="CLIENT", help="the client's pseudonym (in full to record)")
    p.add_argument(
        "assignments",
        nargs="*",
        metavar="ZONE=CM2",
        help="a measured area, e.g. CRN=58.5 (all are checked before any is recorded)",
    )
    p.add_argument("--day", type=day_arg, default=None, help="day measured (default: today)")
    p.add_argument("--method", default=None, help="how it was measured (e.g. tape, template)")
    p.add_argument("--new", action="store_true", help="register the pseudonym as a new client")
    add_journal(p)
    add_json(p)
    p.set_defaults(func=run_areas)

    p = clients_sub.add_parser(
        "adjunct", help="treatments the client takes alongside (minoxidil, PRP...): add|stop|list"
    )
    p.add_argument("client", metavar="CLIENT", help="the client's pseudonym (in full to record)")
    action_sub = p.add_subparsers(dest="adjunct_command", metavar="ACTION", required=True)

    a = action_sub.add_parser("add", help="record a course of treatment from its start day")
    a.add_argument(
        "treatment",
        help="minoxidil, finasteride, prp, lllt (low-level light) or other (with --detail)",
    )
    a.add_argument("--start", type=day_arg, required=True, metavar="DAY", help="first day")
    a.add_argument(
        "--stop", type=day_arg, default=None, metavar="DAY", help="last day, for a past course"
    )
    a.add_argument("--detail", default=None, help="what it is (required for other), dose...")
    a.add_argument("--new", action="store_true", help="register the pseudonym as a new client")
    add_journal(a)
    add_json(a)
    a.set_defaults(func=run_adjunct_add)

    a = action_sub.add_parser("stop", help="record the last day of an ongoing course")
    a.add_argument("course", metavar="TREATMENT_OR_ID", help="a treatment, or a course id")
    a.add_argument("--day", type=day_arg, required=True, metavar="DAY", help="last day taken")
    add_journal(a)
    add_json(a)
    a.set_defaults(func=run_adjunct_stop)

    a = action_sub.add_parser("list", help="the client's courses, and which are active")
    a.add_argument(
        "--on", type=day_arg, default=None, metavar="DAY", help="active on (default: today)"
    )
    add_journal(a)
    add_json(a)
    a.set_defaults(func=run_adjunct_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def parse_assignment(text: str) -> tuple[str, float]:
    zone, sep, value = text.partition("=")
    try:
        area = float(value)
    except ValueError:
        area = math.nan
    if not sep or not zone.strip() or math.isnan(area):
        raise ClientRecordError(
            f"{text!r} is not ZONE=CM2: write the zone code, '=' and the area in cm², e.g. "
            "CRN=58.5. Nothing was recorded."
        )
    return zone.strip(), area


def run_areas(args: argparse.Namespace) -> int:
    from smpctl.outcomes import (
        client_areas,
        client_for_reading,
        client_for_record,
        open_for_records,
        record_areas,
    )
    from smpctl.outcomes.text import areas_text
    from smpctl.review import open_for_review

    entries = [parse_assignment(t) for t in args.assignments]
    day = args.day or today()
    recorded: list[str] = []
    if entries:
        with open_for_records(args.journal) as journal:
            client = client_for_record(journal, args.client, create=args.new, creatable=True)
            recorded = record_areas(
                journal, client, entries, day=day, today=today(), method=args.method
            )
            areas = client_areas(journal, client.uid)
    else:
        with open_for_review(args.journal) as journal:
            client = client_for_reading(journal, args.client)
            areas = client_areas(journal, client.uid)
    if args.json:
        print_json(
            {
                "client": client.pseudonym,
                "recorded": recorded,
                "areas": [a.as_dict() for a in areas],
            }
        )
        return 0
    if recorded:
        print(
            f"Recorded {len(recorded)} area(s) measured on {day.isoformat()} for client "
            f"{client.pseudonym}" + (" (new client)" if client.new else "") + "."
        )
    print(areas_text(client.pseudonym, areas))
    return 0


def _print_courses(pseudonym: str, courses: list[Any], on: dt.date, as_json: bool) -> None:
    from smpctl.outcomes.text import adjuncts_text

    if as_json:
        print_json(
            {
                "client": pseudonym,
                "on": on.isoformat(),
                "adjuncts": [{**c.as_dict(), "active": c.active_on(on)} for c in courses],
            }
        )
    else:
        print(adjuncts_text(pseudonym, courses, on))


def run_adjunct_add(args: argparse.Namespace) -> int:
    from smpctl.outcomes import (
        client_adjuncts,
        client_for_record,
        open_for_records,
        start_adjunct,
    )

    with open_for_records(args.journal) as journal:
        client = client_for_record(journal, args.client, create=args.new, creatable=True)
        uid = start_adjunct(
            journal,
            client,
            args.treatment,
            started=args.start,
            stopped=args.stop,
            detail=args.detail,
            today=today(),
        )
        courses = client_adjuncts(journal, client.uid)
    course = next(c for c in courses if c.uid == uid)
    if not args.json:
        print(
            f"Recorded {course.name} for client {client.pseudonym} from "
            f"{course.started.isoformat()}"
            + (f" to {course.stopped.isoformat()}" if course.stopped else " (ongoing)")
            + f" (id {uid[:8]})."
        )
    _print_courses(client.pseudonym, courses, today(), args.json)
    return 0


def run_adjunct_stop(args: argparse.Namespace) -> int:
    from smpctl.outcomes import client_adjuncts, client_for_record, open_for_records, stop_adjunct

    with open_for_records(args.journal) as journal:
        client = client_for_record(journal, args.client)
        course = stop_adjunct(journal, client, args.course, stopped=args.day, today=today())
        courses = client_adjuncts(journal, client.uid)
    if not args.json:
        print(
            f"Recorded the stop of {course.name} (id {course.uid[:8]}, from "
            f"{course.started.isoformat()}) on {args.day.isoformat()}."
        )
    _print_courses(client.pseudonym, courses, today(), args.json)
    return 0


def run_adjunct_list(args: argparse.Namespace) -> int:
    from smpctl.outcomes import client_adjuncts, client_for_reading
    from smpctl.review import open_for_review

    with open_for_review(args.journal) as journal:
        client = client_for_reading(journal, args.client)
        courses = client_adjuncts(journal, client.uid)
    _print_courses(client.pseudonym, courses, args.on or today(), args.json)
    return 0
