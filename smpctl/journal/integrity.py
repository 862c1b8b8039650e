"""``smpctl logs verify``: recompute the hash chain and every record's digest."""

from __future__ import annotations

from .chain import GENESIS, link_hash, row_digest
from .records import VerifyReport
from .schema import RECORD_TABLES
from .store import JournalStore


def verify(store: JournalStore) -> VerifyReport:
    """Report each edited, deleted or unchained record and each break in the chain.

    Problems name tables, ledger positions and record ids only, never record contents.
    """
    problems: list[str] = []
    latest: dict[tuple[str, str], str] = {}
    prev = GENESIS
    expected = 1
    for entry in store.iterate("SELECT * FROM ledger ORDER BY seq"):
        seq = int(entry["seq"])
        if seq != expected:
            problems.append(f"ledger entries {expected}..{seq - 1} were deleted")
        if entry["prev_hash"] != prev:
            problems.append(f"ledger entry {seq}: chain broken (an entry before it was changed)")
        table, uid, digest = entry["record_table"], entry["record_uid"], entry["digest"]
        if link_hash(entry["prev_hash"], seq, table, uid, digest) != entry["hash"]:
            problems.append(f"ledger entry {seq} was edited")
        prev = entry["hash"]
        expected = seq + 1
        latest[(table, uid)] = digest
    head = store.query_one("SELECT value FROM meta WHERE key = 'chain_head'")
    if head is not None and head["value"] != f"{expected - 1}:{prev}":
        problems.append(
            f"the chain ends at entry {expected - 1} but its recorded head is "
            f"{str(head['value']).split(':')[0]}: entries at the end were deleted"
        )
    records = 0
    for table in RECORD_TABLES:
        for row in store.iterate(f"SELECT * FROM {table}"):
            records += 1
            uid = str(row["uid"])
            digest = latest.pop((table, uid), None)
            if digest is None:
                problems.append(f"{table} record {uid} is not in the chain (added outside smpctl)")
            elif digest != row_digest(row):
                problems.append(f"{table} record {uid} was edited after it was recorded")
    for table, uid in sorted(latest):
        problems.append(f"{table} record {uid} was deleted")
    return VerifyReport(records=records, problems=tuple(problems))
