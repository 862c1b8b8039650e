"""Which sessions ``logs list`` shows: by client, date, zone, simulated or real."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from smpctl.journal import SessionSummary


def filter_sessions(
    sessions: Iterable[SessionSummary],
    *,
    client: str | None = None,
    since: dt.date | None = None,
    zone: str | None = None,
    simulated: bool | None = None,
) -> list[SessionSummary]:
    """``since`` is a local calendar day (sessions started on or after it)."""
    start = dt.datetime.combine(since, dt.time()).timestamp() if since is not None else None
    return [
        s
        for s in sessions
        if (client is None or s.client == client)
        and (start is None or s.started_wall >= start)
        and (zone is None or zone in s.zones)
        and (simulated is None or s.simulated == simulated)
    ]
