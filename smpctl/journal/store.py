"""The journal's SQLite file: durable, chained writes that survive a full disk.

Every write goes through one queue. A write commits records together with any telemetry
staged before it, in order, with their ledger entries, in one transaction; with WAL and
``synchronous=FULL`` a commit is on disk before the call returns, so callers may report
the records as recorded. When SQLite or the OS refuses (disk full, read-only, locked), the
transaction is rolled back, the records stay queued in memory, and the caller gets a
``JournalWriteError`` that says why and what to do; the next write or ``retry`` writes them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smpctl import errors
from smpctl.protocol import Telemetry

from . import paths, schema
from .chain import GENESIS, link_hash, row_digest
from .telemetry_codec import CODEC, MAX_CHUNK_SAMPLES, pack_samples

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's own locking only
    fcntl = None  # type: ignore[assignment]

ConnectionFactory = Callable[[Path], sqlite3.Connection]
Wall = Callable[[], float]
UidFactory = Callable[[], str]

BUSY_TIMEOUT_S = 0.2
"""How long a write waits for another program's lock before reporting it (the recorder
thread must not stall longer than a telemetry flush interval)."""


def default_connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S
    )


def new_uid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Insert:
    table: str
    row: Mapping[str, object]


@dataclass(frozen=True)
class Update:
    table: str
    uid: str
    changes: Mapping[str, object]


@dataclass(frozen=True)
class Derived:
    """A write to a derived table (``schema.DERIVED_TABLES``): in the same transaction as
    the records queued with it, but not a record, so never in the ledger (it is rebuilt
    from the records and ``logs verify`` checks it against them)."""

    sql: str
    params: Sequence[object] = ()


Op = Insert | Update | Derived

_SQLITE_FULL = 13
_SQLITE_READONLY = 8
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6


def _first_wins(names: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    """A row whose query names a column twice, as ``dict(sqlite3.Row)`` read it: the first."""
    out: dict[str, Any] = {}
    for name, value in zip(names, row, strict=True):
        out.setdefault(name, value)
    return out


def write_error(exc: BaseException, path: Path, kept: int) -> errors.JournalWriteError:
    """Map a low-level failure to the journal's own error, at this one boundary. The
    message never quotes SQL parameters (they may hold client data)."""
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    name = str(path)
    if (
        code == _SQLITE_FULL
        or "disk is full" in text
        or (isinstance(exc, OSError) and exc.errno == errno.ENOSPC)
    ):
        return errors.JournalFullError(name, kept=kept)
    if code == _SQLITE_READONLY or "readonly" in text or "read-only" in text:
        return errors.JournalReadOnlyError(name, kept=kept)
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return errors.JournalReadOnlyError(name, kept=kept)
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text:
        return errors.JournalLockedError(name, kept=kept)
    return errors.JournalWriteError(name, kept=kept)


class JournalStore:
    """One journal file. ``writer=True`` (the recording program) holds an exclusive lock
    so two recorders never interleave; readers (``smpctl logs``) need none under WAL."""

    def __init__(
        self,
        path: Path,
        *,
        writer: bool = True,
        connect: ConnectionFactory = default_connect,
        wall: Wall = time.time,
        uid: UidFactory = new_uid,
    ) -> None:
        self.path = Path(path)
        self.wall = wall
        self.new_uid = uid
        self.writer = writer
        self._lock = threading.RLock()
        self._pending: list[Op] = []
        self._staged: dict[str, list[tuple[float, list[Telemetry]]]] = {}
        self._staged_count = 0
        self.last_error: errors.JournalWriteError | None = None
        self._lock_fd: int | None = None
        self._closed = False
        paths.prepare_directory(self.path)
        if writer:
            self._take_writer_lock()
        try:
            paths.create_private_file(self.path)
            self._conn = connect(self.path)
            self._conn.row_factory = sqlite3.Row
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                # FULL: a WAL commit is fsynced before COMMIT returns -> durable on power loss
                self._conn.execute("PRAGMA synchronous=FULL")
                schema.migrate(self._conn)
            except sqlite3.Error as exc:
                raise write_error(exc, self.path, 0) from None
            paths.tighten_files(self.path)
            self._head = self._load_head()
        except BaseException:
            self._release_writer_lock()
            raise

    # ------------------------------------------------------------------ locking

    def _take_writer_lock(self) -> None:
        if fcntl is None:
            return
        lock_path = Path(str(self.path) + ".lock")
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, paths.FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise errors.JournalLockedError(str(self.path)) from None
        self._lock_fd = fd

    def _release_writer_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # ------------------------------------------------------------------ chain head

    def _load_head(self) -> tuple[int, str]:
        row = self._conn.execute(
            "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    # ------------------------------------------------------------------ writing

    @property
    def pending(self) -> int:
        """Records (and telemetry samples) held in memory, not yet on disk."""
        with self._lock:
            return len(self._pending) + self._staged_count

    def stage_samples(self, pass_uid: str, samples: list[Telemetry], wall: float) -> None:
        """Hold telemetry of a pass for the next commit (group commit)."""
        if not samples:
            return
        with self._lock:
            self._staged.setdefault(pass_uid, []).append((wall, samples))
            self._staged_count += len(samples)

    def _chunk_staged(self) -> None:
        for pass_uid, batches in self._staged.items():
            run: list[Telemetry] = []
            last_wall = 0.0
            for wall, samples in batches:
                run.extend(samples)
                last_wall = wall
            for start in range(0, len(run), MAX_CHUNK_SAMPLES):
                part = run[start : start + MAX_CHUNK_SAMPLES]
                self._pending.append(
                    Insert(
                        "telemetry_chunks",
                        {
                            "uid": self.new_uid(),
                            "pass_uid": pass_uid,
                            "first_seq": part[0].sample_seq,
                            "samples": len(part),
                            "first_t_us": part[0].t_us,
                            "last_t_us": part[-1].t_us,
                            "last_wall": last_wall,
                            "codec": CODEC,
                            "data": pack_samples(part),
                        },
                    )
                )
        self._staged.clear()
        self._staged_count = 0

    def write(self, ops: Iterable[Op] = ()) -> None:
        """Commit staged telemetry, then ``ops``, durably. On failure everything stays
        queued and ``JournalWriteError`` says why."""
        with self._lock:
            self._chunk_staged()
            self._pending.extend(ops)
            self._flush()

    def retry(self) -> bool:
        """Try again to write what is queued; True once nothing is left in memory."""
        try:
            self.write()
        except errors.JournalWriteError:
            return False
        return True

    def _flush(self) -> None:
        if not self._pending:
            return
        conn = self._conn
        seq, head = self._head
        now = self.wall()
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op in self._pending:
                if isinstance(op, Derived):
                    conn.execute(op.sql, tuple(op.params))
                    continue
                if isinstance(op, Insert):
                    cols = ", ".join(op.row)
                    marks = ", ".join("?" * len(op.row))
                    conn.execute(
                        f"INSERT INTO {op.table} ({cols}) VALUES ({marks})", tuple(op.row.values())
                    )
                    uid = str(op.row["uid"])
                else:
                    sets = ", ".join(f"{c} = ?" for c in op.changes)
                    conn.execute(
                        f"UPDATE {op.table} SET {sets} WHERE uid = ?",
                        (*op.changes.values(), op.uid),
                    )
                    uid = op.uid
                # the digest of the row as stored (SQLite's type affinity applied)
                stored = conn.execute(f"SELECT * FROM {op.table} WHERE uid = ?", (uid,)).fetchone()
                if stored is None:  # an update of a record that does not exist changed nothing
                    continue
                digest = row_digest(dict(stored))
                prev = head
                seq += 1
                head = link_hash(prev, seq, op.table, uid, digest)
                conn.execute(
                    "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (seq, op.table, uid, digest, prev, head, now),
                )
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('chain_head', ?)", (f"{seq}:{head}",))
            conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            err = write_error(exc, self.path, len(self._pending))
            self.last_error = err
            raise err from None
        self._pending.clear()
        self._head = (seq, head)
        self.last_error = None

    # ------------------------------------------------------------------ reading

    def _cursor(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        """Plain tuples (the connection's ``sqlite3.Row`` is only for the digests), turned
        into dicts by the column names: a third of the cost of ``dict(row)``."""
        cursor = self._conn.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._cursor(sql, params)
            rows = cursor.fetchall()
            if not rows:
                return []
            names = [d[0] for d in cursor.description]
            if len(set(names)) < len(names):
                return [_first_wins(names, row) for row in rows]
            return [dict(zip(names, row, strict=True)) for row in rows]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows as plain tuples, in the order of the query's columns."""
        with self._lock:
            return self._cursor(sql, params).fetchall()

    def iterate(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        """Rows one at a time (a journal holds years of records): the store stays locked
        until the iteration ends."""
        with self._lock:
            cursor = self._cursor(sql, params)
            try:
                names = [d[0] for d in cursor.description or ()]
                unique = len(set(names)) == len(names)
                for row in cursor:
                    yield dict(zip(names, row, strict=True)) if unique else _first_wins(names, row)
            finally:
                cursor.close()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema.version_of(self._conn)

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        """Write what is queued (raising if it cannot: nothing is dropped silently), then
        close the file."""
        with self._lock:
            if self._closed:
                return
            self.write()
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._conn.close()
            self._closed = True
            paths.tighten_files(self.path)
            self._release_writer_lock()

    def abandon(self) -> int:
        """Close without writing what is queued (the user chose to give it up); returns how
        many records and samples were dropped."""
        with self._lock:
            dropped = self.pending
            self._pending.clear()
            self._staged.clear()
            self._staged_count = 0
            self.close()
            return dropped
