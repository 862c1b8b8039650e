"""Background sync for the dashboard: a thread that syncs every ``interval_s`` while a
server is configured, and never blocks the caller.

The dashboard reads ``state()`` (a snapshot: last sync, pending count, last error) on its
own timer; ``request_pull(pseudonym)`` asks for a returning client's records at the next
sync (which it starts at once); ``stop()`` ends the thread. A failed sync is not an error
for the dashboard, just a state: the chair keeps recording and the next round tries again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from smpctl.errors import SmpctlError
from smpctl.journal import resolve_journal_path

from .connection import server_label
from .sync import SyncReport, pending_entries, sync

log = logging.getLogger("smpctl.clinic")

SyncFunction = Callable[..., SyncReport]


@dataclass(frozen=True)
class SyncState:
    server: str
    running: bool
    """A sync is under way."""
    last_sync_wall: float | None
    """When the last sync finished without error."""
    pending: int | None
    """Journal ledger entries not yet known to be on the server (None: not known yet)."""
    last_error: str | None
    """Why the last sync failed (None once one succeeds)."""
    last_error_wall: float | None
    syncs: int
    failures: int


class BackgroundSync:
    def __init__(
        self,
        journal: str | os.PathLike[str] | None,
        url: str,
        *,
        interval_s: float = 60.0,
        wall: Callable[[], float] = time.time,
        sync_function: SyncFunction = sync,
    ) -> None:
        self.journal: Path = resolve_journal_path(journal)
        self.url = url
        self.interval_s = interval_s
        self._wall = wall
        self._sync = sync_function
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pulls: set[str] = set()
        self._state = SyncState(server_label(url), False, None, None, None, None, 0, 0)
        self._thread: threading.Thread | None = None
        self._finished = threading.Event()

    def start(self) -> BackgroundSync:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="smpctl-sync", daemon=True)
            self._thread.start()
        return self

    def state(self) -> SyncState:
        with self._lock:
            return self._state

    def request_pull(self, pseudonym: str) -> None:
        """Fetch this client's sessions from the other chairs at the next sync (now)."""
        if pseudonym.strip():
            with self._lock:
                self._pulls.add(pseudonym.strip())
            self._wake.set()

    def sync_now(self) -> None:
        self._wake.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until a sync round has finished since this call (for tests and shutdown)."""
        self._finished.clear()
        self._wake.set()
        return self._finished.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end; a sync under way finishes its batch (the server rolls back
        the rest if it is cut off, nothing is lost)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._state = replace(self._state, **changes)  # type: ignore[arg-type]

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._round()
            self._finished.set()
            self._wake.wait(self.interval_s)
            self._wake.clear()

    def _round(self) -> None:
        with self._lock:
            pulls = sorted(self._pulls)
        self._update(running=True)
        try:
            self._sync(self.journal, self.url, pull=pulls)
        except SmpctlError as exc:
            self._update(
                last_error=str(exc),
                last_error_wall=self._wall(),
                failures=self.state().failures + 1,
            )
        except Exception as exc:  # the dashboard must keep running whatever sync meets
            log.exception("background sync failed")
            self._update(
                last_error=f"sync failed unexpectedly: {exc}",
                last_error_wall=self._wall(),
                failures=self.state().failures + 1,
            )
        else:
            self._update(
                last_sync_wall=self._wall(),
                last_error=None,
                last_error_wall=None,
                syncs=self.state().syncs + 1,
            )
        finally:
            try:
                pending: int | None = pending_entries(self.journal, self.url)
            except SmpctlError:
                pending = None
            self._update(running=False, pending=pending)
