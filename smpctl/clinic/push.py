"""Push: every ledger entry and record version of a chair's journal the server lacks.

The unit is the journal's ledger entry, in order. Journal records are not immutable (a
pass is opened, then closed; a flag comes later), so the server keeps record *versions*:
each entry that is a record's current state when pushed brings the row with it, keyed by
(uid, digest) and inserted with ``ON CONFLICT DO NOTHING``; an entry superseded before it
was pushed travels as the chain's digest only, as it does in the journal.

Each batch is one server transaction (ledger entries, then their records) that starts from
the server's head for the journal, under an advisory lock on the journal: a sync killed
anywhere rolls back to the last whole batch, the next one resumes from there, and two
syncs of the same journal at once take turns instead of doubling anything. Each batch is
read from the journal in one read transaction (a consistent snapshot while the recorder
keeps writing), and checked as the journal's own verify would: a chain that does not
verify stops the push at the first bad entry, after pushing the good ones before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from smpctl import errors
from smpctl.journal import JournalStore
from smpctl.journal.chain import GENESIS, link_hash, row_digest
from smpctl.journal.schema import RECORD_TABLES

from .chairs import Chair
from .connection import SQLSTATE_CHAIN, translate
from .row_codec import encode_row

BATCH_ENTRIES = 2000
LOCK_WAIT_S = 60.0

_INSERT_LEDGER = """
INSERT INTO smpctl.ledger
    (journal_id, seq, chair_id, record_table, record_uid, digest, prev_hash, hash, wall)
SELECT %(journal)s, u.seq, %(chair)s, u.t, u.uid, u.d, u.p, u.h, u.w
FROM unnest(%(seq)b::bigint[], %(t)b::text[], %(uid)b::text[], %(d)b::text[], %(p)b::text[],
            %(h)b::text[], %(w)b::float8[]) AS u(seq, t, uid, d, p, h, w)
ORDER BY u.seq"""

_INSERT_RECORDS = """
INSERT INTO smpctl.records (record_uid, digest, record_table, journal_id, seq, chair_id, body, blob)
SELECT u.uid, u.d, u.t, %(journal)s, u.seq, %(chair)s, u.body::jsonb, u.blob
FROM unnest(%(uid)b::text[], %(d)b::text[], %(t)b::text[], %(seq)b::bigint[],
            %(body)b::text[], %(blob)b::bytea[]) AS u(uid, d, t, seq, body, blob)
ON CONFLICT (record_uid, digest) DO NOTHING
RETURNING CASE WHEN record_table = 'telemetry_chunks'
               THEN (body->>'samples')::bigint ELSE 0 END"""


@dataclass(frozen=True)
class PushReport:
    journal: str
    journal_id: str | None
    chair: str
    entries: int
    """Ledger entries pushed by this sync."""
    records: int
    """Record versions the server did not have."""
    samples: int
    """Telemetry samples in the chunks pushed."""
    server_seq: int
    """The server's head for this journal after the push."""
    local_seq: int
    """The journal's head when the push ended."""
    seconds: float

    @property
    def pending(self) -> int:
        return max(0, self.local_seq - self.server_seq)

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "pending": self.pending}


@dataclass
class _Batch:
    seq: list[int]
    tables: list[str]
    uids: list[str]
    digests: list[str]
    prevs: list[str]
    hashes: list[str]
    walls: list[float]
    r_uid: list[str]
    r_digest: list[str]
    r_table: list[str]
    r_seq: list[int]
    r_body: list[str]
    r_blob: list[bytes | None]
    problem: tuple[int, str] | None = None

    @classmethod
    def empty(cls) -> _Batch:
        return cls([], [], [], [], [], [], [], [], [], [], [], [], [])


def open_journal(path: Path) -> JournalStore:
    """The journal for reading (the recorder may be writing it meanwhile)."""
    if not Path(path).is_file():
        raise errors.JournalError(
            f"no session journal at {path}: pass --journal PATH (or set SMPCTL_JOURNAL) to the "
            "journal this chair records"
        )
    return JournalStore(Path(path), writer=False)


def journal_id_of(store: JournalStore) -> str | None:
    """A journal's id on the server: the hash of its first ledger entry (unique, since it
    covers the first record's random uid, and bound to the chain)."""
    row = store.query_one("SELECT hash FROM ledger WHERE seq = 1")
    return str(row["hash"]) if row else None


def local_head(store: JournalStore) -> int:
    row = store.query_one("SELECT COALESCE(MAX(seq), 0) AS n FROM ledger")
    return int(row["n"]) if row else 0


def _read_batch(store: JournalStore, after: int, prev_hash: str, limit: int) -> _Batch:
    batch = _Batch.empty()
    store.query("BEGIN")  # one snapshot: the ledger and the rows it points at agree
    try:
        entries = store.query(
            "SELECT seq, record_table, record_uid, digest, prev_hash, hash, wall FROM ledger "
            "WHERE seq > ? AND seq <= ? ORDER BY seq",
            (after, after + limit),
        )
        if not entries:
            return batch
        last = int(entries[-1]["seq"])
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for table in sorted({str(e["record_table"]) for e in entries}):
            if table not in RECORD_TABLES:
                continue  # reported below as not a record table
            for row in store.iterate(
                f"SELECT t.* FROM {table} t WHERE t.uid IN (SELECT record_uid FROM ledger "
                "WHERE seq > ? AND seq <= ? AND record_table = ?)",
                (after, last, table),
            ):
                rows[(table, str(row["uid"]))] = row
        newest = {
            str(r["record_uid"]): int(r["n"])
            for r in store.iterate(
                "SELECT record_uid, MAX(seq) AS n FROM ledger WHERE record_uid IN "
                "(SELECT record_uid FROM ledger WHERE seq > ? AND seq <= ?) GROUP BY record_uid",
                (after, last),
            )
        }
    finally:
        store.query("COMMIT")
    digests: dict[tuple[str, str], str] = {}
    sent: set[tuple[str, str]] = set()
    expected = after + 1
    prev = prev_hash
    for e in entries:
        seq, table, uid, digest = (
            int(e["seq"]),
            str(e["record_table"]),
            str(e["record_uid"]),
            str(e["digest"]),
        )
        problem = None
        if seq != expected:
            problem = f"ledger entries {expected}..{seq - 1} were deleted"
        elif e["prev_hash"] != prev:
            problem = "the chain is broken (an entry before it was changed)"
        elif link_hash(prev, seq, table, uid, digest) != e["hash"]:
            problem = "the ledger entry was edited"
        elif table not in RECORD_TABLES:
            problem = f"{table!r} is not a record table"
        else:
            stored = rows.get((table, uid))
            if stored is None:
                problem = f"{table} record {uid} was deleted"
            else:
                current = digests.get((table, uid))
                if current is None:
                    current = digests[(table, uid)] = row_digest(stored)
                if current == digest:
                    if (uid, digest) not in sent:
                        sent.add((uid, digest))
                        body, blob = encode_row(stored)
                        batch.r_uid.append(uid)
                        batch.r_digest.append(digest)
                        batch.r_table.append(table)
                        batch.r_seq.append(seq)
                        batch.r_body.append(body)
                        batch.r_blob.append(blob)
                elif newest.get(uid, seq) <= seq:
                    problem = f"{table} record {uid} was edited after it was recorded"
        if problem is not None:
            batch.problem = (seq, problem)
            # drop the content of records from the bad entry on
            keep = [i for i, s in enumerate(batch.r_seq) if s < seq]
            for name in ("r_uid", "r_digest", "r_table", "r_seq", "r_body", "r_blob"):
                values = getattr(batch, name)
                setattr(batch, name, [values[i] for i in keep])
            break
        batch.seq.append(seq)
        batch.tables.append(table)
        batch.uids.append(uid)
        batch.digests.append(digest)
        batch.prevs.append(str(e["prev_hash"]))
        batch.hashes.append(str(e["hash"]))
        batch.walls.append(float(e["wall"]))
        prev = str(e["hash"])
        expected = seq + 1
    return batch


def _register_journal(
    conn: psycopg.Connection[Any], journal_id: str, chair: Chair, path: Path
) -> None:
    with conn.transaction():
        row = conn.execute(
            "SELECT j.chair_id, c.name FROM smpctl.journals j "
            "JOIN smpctl.chairs c ON c.id = j.chair_id WHERE j.id = %s",
            (journal_id,),
        ).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO smpctl.journals (id, chair_id, path) VALUES (%s, %s, %s) "
                "ON CONFLICT (id) DO NOTHING",
                (journal_id, chair.id, str(path)),
            )
            row = conn.execute(
                "SELECT j.chair_id, c.name FROM smpctl.journals j "
                "JOIN smpctl.chairs c ON c.id = j.chair_id WHERE j.id = %s",
                (journal_id,),
            ).fetchone()
            if row is None:
                raise errors.ServerRefusedError(
                    f"the journal {path} was pushed by a chair of another clinic: sign in as "
                    "that chair"
                )
    if int(row[0]) != chair.id:
        raise errors.ServerRefusedError(
            f"the journal {path} syncs as chair {row[1]!r}, not {chair.name!r}: each journal "
            "syncs as the chair that first pushed it; sign in as that chair"
        )


def _lock_journal(
    conn: psycopg.Connection[Any], journal_id: str, path: Path, wait_s: float
) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        row = conn.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", (journal_id,)
        ).fetchone()
        if row and row[0]:
            return
        if time.monotonic() >= deadline:
            raise errors.SyncBusyError(str(path), wait_s)
        time.sleep(0.05)


def _server_head(conn: psycopg.Connection[Any], journal_id: str) -> tuple[int, str]:
    row = conn.execute(
        "SELECT seq, hash FROM smpctl.ledger WHERE journal_id = %s ORDER BY seq DESC LIMIT 1",
        (journal_id,),
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def push_journal(
    conn: psycopg.Connection[Any],
    url: str,
    store: JournalStore,
    chair: Chair,
    *,
    batch_entries: int = BATCH_ENTRIES,
    lock_wait_s: float = LOCK_WAIT_S,
    on_batch: Callable[[str, int], None] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> PushReport:
    """Push what the server lacks of the journal in ``store``; ``on_batch(journal_id,
    server_seq)`` runs after each committed batch."""
    started = monotonic()
    path = store.path
    journal_id = journal_id_of(store)
    entries = records = samples = head_seq = 0
    if journal_id is None:
        return PushReport(str(path), None, chair.name, 0, 0, 0, 0, 0, monotonic() - started)
    try:
        _register_journal(conn, journal_id, chair, path)
        while True:
            with conn.transaction():
                _lock_journal(conn, journal_id, path, lock_wait_s)
                head_seq, head_hash = _server_head(conn, journal_id)
                mine = store.query_one("SELECT hash FROM ledger WHERE seq = ?", (head_seq,))
                if head_seq and (mine is None or mine["hash"] != head_hash):
                    raise errors.JournalDivergedError(
                        f"the server holds entries 1..{head_seq} of the journal {path}, but the "
                        f"file {'ends before that' if mine is None else 'differs there'}: was it "
                        "restored from an older copy? Keep this file aside and ask the clinic's "
                        "administrator; sync a new journal as a new chair"
                    )
                batch = _read_batch(store, head_seq, head_hash, batch_entries)
                if batch.seq:
                    conn.execute(
                        _INSERT_LEDGER,
                        {
                            "journal": journal_id,
                            "chair": chair.id,
                            "seq": batch.seq,
                            "t": batch.tables,
                            "uid": batch.uids,
                            "d": batch.digests,
                            "p": batch.prevs,
                            "h": batch.hashes,
                            "w": batch.walls,
                        },
                    )
                if batch.r_uid:
                    cur = conn.execute(
                        _INSERT_RECORDS,
                        {
                            "journal": journal_id,
                            "chair": chair.id,
                            "uid": batch.r_uid,
                            "d": batch.r_digest,
                            "t": batch.r_table,
                            "seq": batch.r_seq,
                            "body": batch.r_body,
                            "blob": batch.r_blob,
                        },
                    )
                    inserted = cur.fetchall()
                    records += len(inserted)
                    samples += sum(int(r[0]) for r in inserted)
            entries += len(batch.seq)
            head_seq = batch.seq[-1] if batch.seq else head_seq
            if on_batch is not None and batch.seq:
                on_batch(journal_id, head_seq)
            if batch.problem is not None:
                raise errors.ChainVerifyError(str(path), *batch.problem, pushed=entries)
            if not batch.seq:
                break
    except psycopg.Error as exc:
        if getattr(exc, "sqlstate", None) == SQLSTATE_CHAIN:
            raise errors.ChainVerifyError(
                str(path), head_seq + 1, f"the server refused it ({exc.diag.message_primary})"
            ) from None
        raise translate(exc, url) from None
    return PushReport(
        str(path),
        journal_id,
        chair.name,
        entries,
        records,
        samples,
        head_seq,
        local_head(store),
        monotonic() - started,
    )
