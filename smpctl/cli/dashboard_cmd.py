"""`smpctl dashboard`: the live screen practitioners run during a session."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .args import add_clinic, add_journal, add_port, add_profiles_dir, resolve_port

if TYPE_CHECKING:
    from smpctl.profiles import LoadedProfile, ProfileLibrary

DEFAULT_PROFILE = "smp-base"


def register(sub: Any) -> None:
    p = sub.add_parser("dashboard", help="the live treatment dashboard")
    add_port(p)
    p.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        help=f"treatment profile applied per zone (default {DEFAULT_PROFILE}; 'none' to use "
        "the pen's own setpoints). It sets the start screen's session kind; every profile "
        "found can be chosen there for a session of its kind (smp-base, mn-scalp ...)",
    )
    add_profiles_dir(p)
    add_clinic(p)
    add_journal(p)
    p.add_argument(
        "--server",
        default=None,
        help="clinic PostgreSQL to sync with in the background (default: $SMPCTL_SERVER, else "
        "the clinic settings' server; none: the chair works alone)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from smpctl.client import Pen, connect
    from smpctl.journal import Journal
    from smpctl.profiles import ProfileLibrary, load_clinic
    from smpctl.tui.app import Dashboard

    # bad profile or clinic files are refused here, before any pen is touched
    clinic = load_clinic(args.clinic)
    profile = None
    profiles: list[LoadedProfile] = []
    if args.profile.lower() != "none":
        library = ProfileLibrary.default(args.profiles_dir)
        profile = library.load(args.profile)
        profiles = choosable_profiles(library, profile)

    url, simulated = resolve_port(args.port)
    if simulated:
        url = "sim://?hand=auto&baud=0"  # a USB pen: the line never limits telemetry

    def connect_pen() -> Pen:
        return connect(url)

    from smpctl.clinic.background import BackgroundSync
    from smpctl.clinic.connection import resolve_server_url
    from smpctl.errors import ServerNotConfiguredError

    with Journal.open(args.journal) as journal:
        background = None
        try:
            url_server = resolve_server_url(args.server, clinic_server=clinic.settings.server)
        except ServerNotConfiguredError:
            url_server = None
        if url_server is not None:  # offline-first: the needle never waits for this
            background = BackgroundSync(journal.path, url_server).start()
        try:
            Dashboard(
                connect_pen,
                journal=journal,
                simulated=simulated,
                profile=profile,
                profiles=profiles,
                clinic=clinic,
                sync=background,
            ).run()
        finally:
            if background is not None:
                background.stop()
    return 0


def choosable_profiles(library: ProfileLibrary, launched: LoadedProfile) -> list[LoadedProfile]:
    """Every profile on the search path that loads, for the start screen to offer by
    session kind. One that does not load is left out and named here, before the screen
    takes the terminal (``smpctl profiles check`` says what is wrong with it)."""
    from smpctl.errors import SmpctlError

    found = [launched]
    for entry in library.entries():
        if entry.name == launched.name:
            continue
        try:
            found.append(library.load(entry.name))
        except SmpctlError as exc:
            print(f"smpctl: profile {entry.name} left out of the dashboard: {exc}", file=sys.stderr)
    return found
