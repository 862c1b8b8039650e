"""`smpctl sync` (this chair with the clinic server) and `smpctl server ...` (the
administrator's side: init, verify, chairs)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from smpctl.errors import ClinicServerError

from .args import add_clinic, add_journal, add_json, print_json

PASSWORD_ENV = "SMPCTL_CHAIR_PASSWORD"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sync",
        help="push this chair's journal to the clinic server; pull returning clients' sessions",
    )
    p.add_argument(
        "--server",
        metavar="URL",
        default=None,
        help="the clinic's PostgreSQL, postgresql://CHAIR@HOST/DB (default: $SMPCTL_SERVER, "
        "else the clinic settings' server); the password from the URL, PGPASSWORD or ~/.pgpass",
    )
    p.add_argument(
        "--pull",
        nargs="+",
        action="extend",
        default=[],
        metavar="CLIENT",
        help="also fetch these clients' (pseudonyms') sessions recorded at other chairs",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=None,
        metavar="N",
        help="ledger entries per server transaction (default 2000)",
    )
    add_journal(p)
    add_clinic(p)
    add_json(p)
    p.set_defaults(func=run_sync)

    server = sub.add_parser("server", help="the clinic server: init, verify, chairs")
    server_sub = server.add_subparsers(dest="server_command", metavar="SERVER_COMMAND")
    server.set_defaults(func=lambda _args: _usage(server))

    s = server_sub.add_parser("init", help="create or migrate the clinic server's schema")
    s.add_argument("url", metavar="URL", help="the database, signed in as its owner")
    add_json(s)
    s.set_defaults(func=run_init)

    s = server_sub.add_parser("verify", help="check every chair's hash chain on the server")
    s.add_argument("url", metavar="URL")
    add_json(s)
    s.set_defaults(func=run_verify)

    s = server_sub.add_parser(
        "add-chair",
        help=f"add a chair: its own sign-in role (password from ${PASSWORD_ENV}, else asked)",
    )
    s.add_argument("url", metavar="URL", help="the database, signed in as its owner")
    s.add_argument("name", metavar="NAME", help="the chair's name, also its role (chair_3)")
    s.add_argument("--clinic", required=True, metavar="CLINIC", help="the clinic it belongs to")
    s.add_argument("--role", default=None, metavar="ROLE", help="a role name other than NAME")
    add_json(s)
    s.set_defaults(func=run_add_chair)

    s = server_sub.add_parser("chairs", help="list the clinics' chairs")
    s.add_argument("url", metavar="URL")
    add_json(s)
    s.set_defaults(func=run_chairs)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _server_url(args: argparse.Namespace) -> str:
    from smpctl.clinic import ENV_VAR, resolve_server_url

    clinic_server = None
    if not args.server and not os.environ.get(ENV_VAR):
        from smpctl.profiles.clinic import load_clinic

        clinic_server = getattr(load_clinic(args.clinic).settings, "server", None)
    return resolve_server_url(args.server, clinic_server=clinic_server)


def run_sync(args: argparse.Namespace) -> int:
    from smpctl.clinic import sync

    url = _server_url(args)
    options: dict[str, Any] = {"pull": list(dict.fromkeys(args.pull))}
    if args.batch is not None:
        if args.batch < 1:
            raise ClinicServerError("--batch must be at least 1")
        options["batch_entries"] = args.batch
    report = sync(args.journal, url, **options)
    if args.json:
        print_json(report.as_dict())
        return 0
    push = report.push
    print(
        f"{report.server} as chair {report.chair}: pushed {push.entries} ledger entries, "
        f"{push.records} records, {push.samples} telemetry samples in {report.seconds:.1f} s; "
        f"server has entries 1..{push.server_seq} of {push.local_seq}"
    )
    if report.pulled_clients:
        print(
            f"pulled {', '.join(report.pulled_clients)}: {report.pulled_records} records new "
            "or changed"
        )
    return 0


def run_init(args: argparse.Namespace) -> int:
    from smpctl.clinic import init_server, server_label

    found, now = init_server(args.url)
    if args.json:
        print_json({"server": server_label(args.url), "found": found, "schema": now})
    elif found == now:
        print(f"{server_label(args.url)}: schema {now}, already up to date")
    else:
        print(f"{server_label(args.url)}: schema {found} -> {now}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from smpctl.clinic import verify_server

    report = verify_server(args.url)
    if args.json:
        print_json(report.as_dict())
        return 0 if report.ok else 1
    for j in report.journals:
        state = "intact" if not j.problems else f"{len(j.problems)} problem(s)"
        waiting = f", {j.awaiting} awaiting their next sync" if j.awaiting else ""
        print(
            f"clinic {j.clinic}, chair {j.chair}, journal {j.journal_id[:12]}: {j.entries} "
            f"entries, {j.records} record versions, chain {state}{waiting}"
        )
        for problem in j.problems:
            print(f"  {problem}")
    if not report.journals:
        print(f"{report.server}: no journals pushed yet")
    return 0 if report.ok else 1


def _password() -> str:
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise ClinicServerError(f"give the chair's password in ${PASSWORD_ENV} (no terminal)")
    first = getpass.getpass("chair's password: ")
    if first != getpass.getpass("again: "):
        raise ClinicServerError("the two passwords differ")
    return first


def run_add_chair(args: argparse.Namespace) -> int:
    from smpctl.clinic import add_chair

    chair = add_chair(args.url, args.name, _password(), clinic=args.clinic, role=args.role)
    if args.json:
        print_json(chair.as_dict())
    else:
        print(
            f"chair {chair.name} (clinic {chair.clinic}) added: it signs in as role "
            f"{chair.role!r}, e.g. smpctl sync --server postgresql://{chair.role}@HOST/DB"
        )
    return 0


def run_chairs(args: argparse.Namespace) -> int:
    from smpctl.clinic import list_chairs

    chairs = list_chairs(args.url)
    if args.json:
        print_json([c.as_dict() for c in chairs])
        return 0
    for c in chairs:
        print(f"{c.clinic:20} {c.name:20} role {c.role}")
    if not chairs:
        print("no chairs yet: smpctl server add-chair URL NAME --clinic CLINIC")
    return 0
