"""``smpctl logs verify``: recompute the hash chain and every record's digest, and the
derived tables from the records they summarise."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

from .chain import GENESIS, link_hash, row_digest
from .records import VerifyReport
from .schema import (
    DERIVED_FILLS,
    DERIVED_TABLES,
    EVENT_COUNTS_SELECT,
    RECORD_TABLES,
    SESSION_SUPPLIES_SELECT,
    ZONE_LABELS_SELECT,
    ZONE_TOTALS_COLUMNS,
    ZONE_TOTALS_SELECT,
)
from .store import Derived, JournalStore
from .strip_codec import (
    ALL_NUMBERS,
    STRIP_CODEC,
    STRIP_PASSES_SQL,
    STRIP_UPSERT_SQL,
    read_strip,
    strip_of,
)

_DERIVED: tuple[tuple[str, str, str, int], ...] = (
    # table, its rows recomputed from the records, its rows as stored, key columns (the
    # first is the session; in the first two tables the second is the zone)
    (
        "zone_totals",
        f"{ZONE_TOTALS_SELECT} GROUP BY session_uid, zone",
        f"SELECT {', '.join(ZONE_TOTALS_COLUMNS)} FROM zone_totals",
        2,
    ),
    (
        "zone_labels",
        ZONE_LABELS_SELECT,
        "SELECT session_uid, zone, kind, label, passes FROM zone_labels",
        4,
    ),
    (
        "event_counts",
        EVENT_COUNTS_SELECT,
        "SELECT session_uid, source, kind, code, n FROM event_counts",
        4,
    ),
    (
        "session_supplies",
        SESSION_SUPPLIES_SELECT,
        "SELECT session_uid, cartridge_uid, pigment_uid, passes FROM session_supplies",
        3,
    ),
)
_BY_ZONE = frozenset({"zone_totals", "zone_labels"})


def verify(store: JournalStore) -> VerifyReport:
    """Report each edited, deleted or unchained record and each break in the chain, and
    each derived figure that disagrees with the records.

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
    problems += derived_problems(store)
    return VerifyReport(records=records, problems=tuple(problems))


REBUILD_HINT = (
    "Reviews of it read wrong until `smpctl logs verify --rebuild` recomputes the derived "
    "tables from the records."
)


def rebuild_derived(store: JournalStore) -> None:
    """Every derived table emptied and filled again from the records in one transaction:
    the totals, labels, counts and supplies as the V5 migration filled them, each zone's
    strip drawn from its closed passes' stored traces as the journal draws it (none for a
    zone with a pass that has samples but no trace: reports draw that zone from them)."""
    ops = [Derived(f"DELETE FROM {table}") for table in DERIVED_TABLES]
    ops += [Derived(sql) for sql in DERIVED_FILLS]
    for session_uid, zone in store.rows(
        "SELECT DISTINCT session_uid, zone FROM passes "
        "WHERE session_uid IS NOT NULL AND zone IS NOT NULL AND outcome IS NOT NULL"
    ):
        strip = strip_of(store.rows(STRIP_PASSES_SQL, (session_uid, zone, ALL_NUMBERS)))
        if strip is not None and strip.last_number is not None:
            data = strip.view().encode()
            row = (session_uid, zone, strip.passes, strip.last_number, STRIP_CODEC, data)
            ops.append(Derived(STRIP_UPSERT_SQL, row))
    store.write(ops)


def derived_problems(store: JournalStore) -> list[str]:
    """Each derived row that differs from the same figures recomputed from the records (a
    table edited by hand would otherwise change every review quietly)."""
    problems: list[str] = []
    for table, recompute, stored_sql, width in _DERIVED:
        expected = {tuple(r[:width]): r[width:] for r in store.rows(recompute)}
        stored: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for r in store.rows(stored_sql):
            key = tuple(r[:width])
            if key in stored:
                problems.append(f"{table} holds {_where(table, key)} twice. {REBUILD_HINT}")
            stored[key] = r[width:]
        for key in sorted(expected.keys() | stored.keys(), key=repr):
            if not _same(expected.get(key), stored.get(key)):
                problems.append(
                    f"{table} disagrees with the records for {_where(table, key)}: a derived table "
                    f"was edited outside smpctl (the records are intact). {REBUILD_HINT}"
                )
    problems += _strip_problems(store)
    return problems


def _where(table: str, key: tuple[Any, ...]) -> str:
    """Session and zone: ids and zone codes, never labels or other contents."""
    return f"session {key[0]}" + (f", zone {key[1]}" if table in _BY_ZONE else "")


def _same(a: Sequence[Any] | None, b: Sequence[Any] | None) -> bool:
    """Equal, floats to within rounding (a sum kept pass by pass may add in another order
    than a recomputation, or SQLite may compensate its sums)."""
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
        if isinstance(x, float) or isinstance(y, float)
        else x == y
        for x, y in zip(a, b, strict=True)
    )


def _strip_problems(store: JournalStore) -> list[str]:
    """Each zone strip drawn again from its passes' stored traces."""
    problems: list[str] = []
    for session_uid, zone, passes, last, codec, data in store.rows(
        "SELECT session_uid, zone, passes, last_number, codec, data FROM zone_strips"
    ):
        where = f"session {session_uid}, zone {zone}"
        try:
            stored = read_strip(data, codec)
        except (ValueError, TypeError, struct.error):
            problems.append(f"zone_strips for {where} cannot be read. {REBUILD_HINT}")
            continue
        strip = strip_of(store.rows(STRIP_PASSES_SQL, (session_uid, zone, last)))
        if strip is None or strip.view() != stored or strip.passes != passes:
            problems.append(
                f"zone_strips disagrees with the stored traces for {where}: a derived table "
                f"was edited outside smpctl (the records are intact). {REBUILD_HINT}"
            )
    return problems
