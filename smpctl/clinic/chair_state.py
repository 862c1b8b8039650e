"""What a chair keeps about the clinic server, in its own small SQLite file beside the
journal (``journal.sqlite3.clinic``): the last sync, the last error, how far the server
has the journal, and the records pulled from other chairs.

Why not a table in the journal: the journal is the chair's own chained record, written by
the recorder with a short busy timeout; writing pulled records (other chairs' data) there
would mix them into this chair's chain and could stall the recorder. Why this is not the
resumability marker: the server's ledger is. A push commits ledger entries and records in
one server transaction and always resumes from the server's head for the journal, so a
sync killed anywhere leaves nothing half-done; ``pushed_seq`` here is a copy, for showing
the pending count while the server is out of reach.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smpctl.errors import ClinicServerError
from smpctl.journal import paths

SUFFIX = ".clinic"

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE sync_state (
        server TEXT PRIMARY KEY,
        journal_id TEXT,
        pushed_seq INTEGER NOT NULL DEFAULT 0,
        last_sync_wall REAL,
        last_error TEXT,
        last_error_wall REAL)""",
    """CREATE TABLE pulled (
        uid TEXT PRIMARY KEY,
        record_table TEXT NOT NULL,
        digest TEXT NOT NULL,
        journal_id TEXT NOT NULL,
        chair TEXT NOT NULL,
        body TEXT NOT NULL,
        blob BLOB,
        pulled_wall REAL NOT NULL)""",
    "CREATE INDEX pulled_by_table ON pulled(record_table)",
    """CREATE TABLE pulled_clients (
        pseudonym TEXT PRIMARY KEY,
        server TEXT NOT NULL,
        pulled_wall REAL NOT NULL)""",
)
VERSION = 1


def state_path(journal_path: Path) -> Path:
    return journal_path.with_name(journal_path.name + SUFFIX)


@dataclass(frozen=True)
class ServerState:
    server: str
    journal_id: str | None
    pushed_seq: int
    last_sync_wall: float | None
    last_error: str | None
    last_error_wall: float | None


@dataclass(frozen=True)
class PulledRow:
    uid: str
    record_table: str
    digest: str
    journal_id: str
    chair: str
    body: str
    blob: bytes | None


class ChairState:
    """The chair's sync file; readable by its user only, like the journal."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        paths.prepare_directory(self.path)
        paths.create_private_file(self.path)
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=5.0
        )
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version > VERSION:
            raise ClinicServerError(
                f"{self.path} was written by a newer smpctl: update smpctl (or delete the file: "
                "it is only a cache, the next sync rebuilds it)"
            )
        if version < VERSION:
            with self._transaction():  # another sync may have created it meanwhile
                if int(self._conn.execute("PRAGMA user_version").fetchone()[0]) < VERSION:
                    for statement in SCHEMA:
                        self._conn.execute(statement)
                    self._conn.execute(f"PRAGMA user_version = {VERSION}")

    @classmethod
    def beside(cls, journal_path: Path) -> ChairState:
        return cls(state_path(journal_path))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ChairState:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ sync state

    def server_state(self, server: str) -> ServerState:
        with self._lock:
            row = self._conn.execute(
                "SELECT server, journal_id, pushed_seq, last_sync_wall, last_error, "
                "last_error_wall FROM sync_state WHERE server = ?",
                (server,),
            ).fetchone()
        if row is None:
            return ServerState(server, None, 0, None, None, None)
        return ServerState(*row)

    def record_push(self, server: str, journal_id: str, pushed_seq: int) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO sync_state (server, journal_id, pushed_seq) VALUES (?, ?, ?) "
                "ON CONFLICT (server) DO UPDATE SET journal_id = excluded.journal_id, "
                "pushed_seq = excluded.pushed_seq",
                (server, journal_id, pushed_seq),
            )

    def record_sync(self, server: str, wall: float) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO sync_state (server, last_sync_wall) VALUES (?, ?) "
                "ON CONFLICT (server) DO UPDATE SET last_sync_wall = excluded.last_sync_wall, "
                "last_error = NULL, last_error_wall = NULL",
                (server, wall),
            )

    def record_error(self, server: str, message: str, wall: float) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO sync_state (server, last_error, last_error_wall) VALUES (?, ?, ?) "
                "ON CONFLICT (server) DO UPDATE SET last_error = excluded.last_error, "
                "last_error_wall = excluded.last_error_wall",
                (server, message, wall),
            )

    # ------------------------------------------------------------------ pulled records

    def store_pulled(
        self, server: str, pseudonyms: Iterable[str], rows: Iterable[PulledRow], wall: float
    ) -> int:
        """Keep the latest version of each pulled record; returns how many changed."""
        changed = 0
        with self._transaction() as conn:
            for r in rows:
                cur = conn.execute(
                    "INSERT INTO pulled VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO "
                    "UPDATE SET digest = excluded.digest, body = excluded.body, "
                    "blob = excluded.blob, pulled_wall = excluded.pulled_wall "
                    "WHERE pulled.digest <> excluded.digest",
                    (
                        r.uid,
                        r.record_table,
                        r.digest,
                        r.journal_id,
                        r.chair,
                        r.body,
                        r.blob,
                        wall,
                    ),
                )
                changed += cur.rowcount
            for pseudonym in pseudonyms:
                conn.execute(
                    "INSERT OR REPLACE INTO pulled_clients VALUES (?, ?, ?)",
                    (pseudonym, server, wall),
                )
        return changed

    def pulled_clients(self) -> list[str]:
        with self._lock:
            return [
                str(r[0])
                for r in self._conn.execute("SELECT pseudonym FROM pulled_clients ORDER BY 1")
            ]

    def pulled(self, record_table: str) -> list[PulledRow]:
        with self._lock:
            rows: list[Any] = self._conn.execute(
                "SELECT uid, record_table, digest, journal_id, chair, body, blob FROM pulled "
                "WHERE record_table = ? ORDER BY rowid",
                (record_table,),
            ).fetchall()
        return [PulledRow(*r) for r in rows]
