"""What the start screen shows of a returning client before the session: earlier sessions,
the last one per zone, the dose per zone over all sessions, the newest hair measurement per
zone and the adjunct treatments taken now -- what a practitioner weighs before choosing the
session's work, in one panel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from smpctl.journal import Journal, PassRecord, SessionSummary
from smpctl.journal.doses import client_dose_history, client_uid_of
from smpctl.outcomes import active_on, client_adjuncts, client_outcomes
from smpctl.zones import ZoneCode

from .dose_text import dose_history_lines
from .hair_measurement import latest_per_zone, short_figures
from .live_dose import UNIT
from .start_form import KIND_NAMES
from .zone_figures import zone_figures

NO_PSEUDONYM = "Enter a pseudonym to see a returning client's sessions."
SESSIONS_SHOWN = 6


def sessions_of(journal: Journal, client: str) -> list[SessionSummary]:
    return sorted(
        (s for s in journal.sessions() if s.client == client.strip()),
        key=lambda s: s.started_wall,
    )


def merge_sessions(
    local: list[SessionSummary], remote: list[SessionSummary]
) -> list[SessionSummary]:
    """This chair's sessions and those pulled from the clinic server, once each, in order."""
    seen = {s.uid for s in local}
    merged = local + [s for s in remote if s.uid not in seen]
    return sorted(merged, key=lambda s: s.started_wall)


def history_text(
    journal: Journal,
    pseudonym: str,
    today: dt.date,
    *,
    sessions: Sequence[SessionSummary],
    passes_of: Callable[[SessionSummary], list[PassRecord]],
    where: str = "this journal",
) -> str:
    """The panel for ``pseudonym`` (as typed, matched exactly): ``sessions`` are the
    client's, oldest first, from wherever the caller looked (``where`` says where);
    ``passes_of`` reads a session's passes."""
    name = pseudonym.strip()
    if not name:
        return NO_PSEUDONYM
    client_uid = client_uid_of(journal, name)
    if not sessions:
        lines = [f"New client: no earlier sessions in {where}."]
    else:
        lines = _session_lines(sessions, passes_of)
        if client_uid is not None:
            doses = dose_history_lines(client_dose_history(journal, client_uid), today)
            if doses:
                lines.append(f"\nDose per zone over all sessions ({UNIT}):")
                lines.extend(doses)
    if client_uid is not None:
        lines.extend(measurement_lines(journal, client_uid))
        lines.extend(adjunct_lines(journal, client_uid, today))
    if sessions:
        next_number = max(s.session_number for s in sessions) + 1
        lines.append(f"\nThis would be session {next_number}.")
    return "\n".join(lines)


def _session_lines(
    sessions: Sequence[SessionSummary], passes_of: Callable[[SessionSummary], list[PassRecord]]
) -> list[str]:
    lines = []
    for s in sessions[-SESSIONS_SHOWN:]:
        day = dt.datetime.fromtimestamp(s.started_wall).strftime("%Y-%m-%d")
        sim = " (simulated)" if s.simulated else ""
        lines.append(f"#{s.session_number} {day} {KIND_NAMES[s.kind]}{sim}: {s.passes} passes")
    last = sessions[-1]
    figures = zone_figures(passes_of(last))
    if figures:
        lines.append(f"\nLast session (#{last.session_number}) per zone:")
        for zone in ZoneCode:
            f = figures.get(zone.value)
            if f is not None:
                mean = f"{f.mean_hz:.0f} Hz" if f.mean_hz else "—"
                depth = f"{f.depth_mm:.2f} mm" if f.depth_mm is not None else "—"
                lines.append(
                    f"  {zone.value:6} {f.passes:3d} passes {f.strokes:7d} strokes "
                    f"{mean:>7} {depth:>8}"
                )
    return lines


def measurement_lines(journal: Journal, client_uid: str) -> list[str]:
    """The newest hair measurement per zone, one line each (photos are not hashed here:
    this panel is redrawn as the pseudonym is typed)."""
    latest = latest_per_zone(client_outcomes(journal, client_uid, check_photos=False))
    if not latest:
        return []
    lines = ["\nHair, newest measurement per zone:"]
    for zone in ZoneCode:
        m = latest.get(zone.value)
        if m is not None:
            lines.append(f"  {zone.value:6} {m.day.isoformat()} {short_figures(m)}")
    return lines


def adjunct_lines(journal: Journal, client_uid: str, today: dt.date) -> list[str]:
    """The adjunct treatments active today (entered with ``smpctl clients adjunct``)."""
    active = active_on(client_adjuncts(journal, client_uid), today)
    if not active:
        return []
    lines = ["\nAdjunct treatments taken now:"]
    for course in active:
        lines.append(f"  {course.name} since {course.started.isoformat()}")
    return lines
