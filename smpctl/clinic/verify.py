"""``smpctl server verify``: every chair's hash chain on the server, end to end.

For each journal the server holds: the ledger entries 1..N are all there, each links to
the one before and matches its own hash, the first one is the journal's id; every stored
record version recomputes to its digest (exactly as the chair computed it) and is named by
an entry of that journal's ledger. A record whose newest entry arrived before its content
(the chair changed it again while syncing; the next sync brings it) is counted as
awaiting, not as a problem. Problems name journals, chairs, entries and record ids, never
record contents. The administrator sees every clinic; a chair sees its own clinic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from smpctl.journal.chain import GENESIS, link_hash, row_digest

from .connection import open_server, server_errors, server_label
from .row_codec import decode_row
from .server_schema import check_version

FETCH = 5000


@dataclass(frozen=True)
class JournalCheck:
    journal_id: str
    chair: str
    clinic: str
    entries: int
    records: int
    awaiting: int
    problems: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "problems": list(self.problems)}


@dataclass(frozen=True)
class ServerVerifyReport:
    server: str
    journals: tuple[JournalCheck, ...]

    @property
    def ok(self) -> bool:
        return not any(j.problems for j in self.journals)

    @property
    def problems(self) -> list[str]:
        return [p for j in self.journals for p in j.problems]

    def as_dict(self) -> dict[str, object]:
        return {
            "server": self.server,
            "ok": self.ok,
            "journals": [j.as_dict() for j in self.journals],
        }


def verify_server(url: str) -> ServerVerifyReport:
    server = server_label(url)
    with open_server(url) as conn, server_errors(url):
        check_version(conn, server)
        journals = conn.execute(
            "SELECT j.id, c.name, k.name FROM smpctl.journals j "
            "JOIN smpctl.chairs c ON c.id = j.chair_id JOIN smpctl.clinics k ON k.id = c.clinic_id "
            "ORDER BY k.name, c.name, j.registered_at"
        ).fetchall()
        checks = [verify_journal(conn, str(j), str(c), str(k)) for j, c, k in journals]
    return ServerVerifyReport(server, tuple(checks))


def verify_journal(
    conn: psycopg.Connection[Any], journal_id: str, chair: str, clinic: str
) -> JournalCheck:
    name = f"journal {journal_id[:12]} (chair {chair})"
    problems: list[str] = []
    latest: dict[str, str] = {}
    named: set[tuple[str, str]] = set()
    expected, prev, entries = 1, GENESIS, 0
    with conn.transaction(), conn.cursor(name="smpctl_verify_ledger") as cur:
        cur.itersize = FETCH
        cur.execute(
            "SELECT seq, record_table, record_uid, digest, prev_hash, hash FROM smpctl.ledger "
            "WHERE journal_id = %s ORDER BY seq",
            (journal_id,),
        )
        for seq, table, uid, digest, prev_hash, entry_hash in cur:
            entries += 1
            if seq != expected:
                problems.append(f"{name}: ledger entries {expected}..{seq - 1} are missing")
            if prev_hash != prev:
                problems.append(f"{name}: ledger entry {seq} does not link to the one before")
            if link_hash(prev_hash, seq, table, uid, digest) != entry_hash:
                problems.append(f"{name}: ledger entry {seq} was edited")
            if seq == 1 and entry_hash != journal_id:
                problems.append(f"{name}: its first entry is not the journal's id")
            prev, expected = entry_hash, seq + 1
            latest[uid] = digest
            named.add((uid, digest))
    present: set[tuple[str, str]] = set()
    records = 0
    with conn.transaction(), conn.cursor(name="smpctl_verify_records") as cur:
        cur.itersize = FETCH
        cur.execute(
            "SELECT record_uid, digest, record_table, body, blob FROM smpctl.records "
            "WHERE journal_id = %s ORDER BY seq",
            (journal_id,),
        )
        for uid, digest, table, body, blob in cur:
            records += 1
            present.add((uid, digest))
            try:
                row = decode_row(body, bytes(blob) if blob is not None else None)
            except ValueError:
                problems.append(f"{name}: {table} record {uid} cannot be read back")
                continue
            if row.get("uid") != uid or row_digest(row) != digest:
                problems.append(f"{name}: {table} record {uid} was edited on the server")
            if (uid, digest) not in named:
                problems.append(f"{name}: {table} record {uid} is not in the journal's chain")
    awaiting = sum(1 for uid, digest in latest.items() if (uid, digest) not in present)
    return JournalCheck(journal_id, chair, clinic, entries, records, awaiting, tuple(problems))
