"""The hash chain that makes every record tamper-evident.

Each write appends a ledger entry per record written: the record's digest, chained to the
previous entry's hash. ``verify`` recomputes both: an edited record no longer matches its
latest digest, a deleted one leaves a dangling entry, an edited or deleted entry breaks the
chain. Columns that are NULL do not enter a digest, so a migration that adds columns keeps
every old record valid. (The clinic-sync issue anchors the chain head off this machine.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

GENESIS = "0" * 64


def row_digest(row: Mapping[str, object]) -> str:
    h = hashlib.sha256()
    for key in sorted(row):
        value = row[key]
        if value is None:
            continue
        h.update(key.encode())
        if isinstance(value, bytes | bytearray | memoryview):
            raw = bytes(value)
            h.update(b"\0b%d\0" % len(raw))
            h.update(raw)
        elif isinstance(value, bool | int):
            h.update(b"\0i" + str(int(value)).encode())
        elif isinstance(value, float):
            h.update(b"\0f" + repr(value).encode())
        else:
            raw = str(value).encode()
            h.update(b"\0s%d\0" % len(raw))
            h.update(raw)
        h.update(b"\0")
    return h.hexdigest()


def link_hash(prev_hash: str, seq: int, table: str, uid: str, digest: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{seq}|{table}|{uid}|{digest}".encode()).hexdigest()
