"""``smpctl sync``: push what the server lacks, pull the clients asked for, remember how it
went (the chair's sync file) so the dashboard can show it while offline."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from smpctl.errors import ClinicServerError, NotAChairError
from smpctl.journal import JournalStore, resolve_journal_path

from .chair_state import ChairState
from .chairs import signed_in_chair
from .connection import open_server, role_of, server_errors, server_label
from .pull import pull_clients
from .push import (
    BATCH_ENTRIES,
    LOCK_WAIT_S,
    PushReport,
    journal_id_of,
    local_head,
    open_journal,
    push_journal,
)
from .server_schema import check_version


@dataclass(frozen=True)
class SyncReport:
    server: str
    chair: str
    push: PushReport
    pulled_clients: tuple[str, ...]
    pulled_records: int
    """Pulled records new or changed since the last pull."""
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return {
            "server": self.server,
            "chair": self.chair,
            "push": self.push.as_dict(),
            "pulled_clients": list(self.pulled_clients),
            "pulled_records": self.pulled_records,
            "seconds": self.seconds,
        }


def sync(
    journal: str | os.PathLike[str] | None,
    url: str,
    *,
    pull: Sequence[str] = (),
    batch_entries: int = BATCH_ENTRIES,
    lock_wait_s: float = LOCK_WAIT_S,
    wall: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
) -> SyncReport:
    """One sync of the chair's journal with the clinic server at ``url``."""
    started = monotonic()
    path = resolve_journal_path(journal)
    server = server_label(url)
    store = open_journal(path)
    try:
        with ChairState.beside(path) as state:
            try:
                report = _sync(
                    store, state, url, server, pull, batch_entries, lock_wait_s, wall, monotonic
                )
            except ClinicServerError as exc:
                state.record_error(server, str(exc), wall())
                raise
            state.record_sync(server, wall())
    finally:
        store.close()
    return SyncReport(
        report.server,
        report.chair,
        report.push,
        report.pulled_clients,
        report.pulled_records,
        monotonic() - started,
    )


def _sync(
    store: JournalStore,
    state: ChairState,
    url: str,
    server: str,
    pull: Sequence[str],
    batch_entries: int,
    lock_wait_s: float,
    wall: Callable[[], float],
    monotonic: Callable[[], float],
) -> SyncReport:
    with open_server(url) as conn:
        with server_errors(url):
            check_version(conn, server)
            chair = signed_in_chair(conn)
        if chair is None:
            raise NotAChairError(server, role_of(url))

        def remember(journal_id: str, seq: int) -> None:
            state.record_push(server, journal_id, seq)

        push = push_journal(
            conn,
            url,
            store,
            chair,
            batch_entries=batch_entries,
            lock_wait_s=lock_wait_s,
            on_batch=remember,
            monotonic=monotonic,
        )
        if push.journal_id is not None:
            state.record_push(server, push.journal_id, push.server_seq)
        pulled = 0
        if pull:
            with server_errors(url):
                rows = pull_clients(conn, pull, push.journal_id)
            pulled = state.store_pulled(server, pull, rows, wall())
    return SyncReport(server, chair.name, push, tuple(pull), pulled, 0.0)


def pending_entries(journal: str | os.PathLike[str] | None, url: str) -> int:
    """Ledger entries of the journal not known to be on the server (no network needed)."""
    path = resolve_journal_path(journal)
    store = open_journal(Path(path))
    try:
        head = local_head(store)
        journal_id = journal_id_of(store)
    finally:
        store.close()
    with ChairState.beside(path) as state:
        known = state.server_state(server_label(url))
    pushed = known.pushed_seq if known.journal_id == journal_id else 0
    return max(0, head - pushed)
