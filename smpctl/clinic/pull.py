"""Pull: a returning client's records from the other chairs of the clinic.

The chair asks by pseudonym; the server returns (as row-level security allows: the chairs
of this clinic) the client's records, their sessions, and each session's passes, events,
cartridges and pigments, plus the practitioners and pens they name -- the current version
of each record (its newest ledger entry), without raw telemetry. They go to the chair's
sync file (``chair_state``), never into its journal, and the dashboard reads them through
``history``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from .chair_state import PulledRow

_PULL = """
WITH cl AS (
    SELECT DISTINCT record_uid FROM smpctl.records
    WHERE record_table = 'clients' AND body->>'pseudonym' = ANY(%(pseudonyms)s)),
se AS (
    SELECT DISTINCT record_uid FROM smpctl.records
    WHERE record_table = 'sessions' AND body->>'client_uid' IN (SELECT record_uid FROM cl)),
rest AS (
    SELECT DISTINCT record_uid FROM smpctl.records
    WHERE record_table IN ('passes', 'events', 'cartridges', 'pigments')
      AND body->>'session_uid' IN (SELECT record_uid FROM se)),
named AS (
    SELECT DISTINCT ref.uid FROM smpctl.records r
    CROSS JOIN LATERAL (VALUES (r.body->>'practitioner_uid'), (r.body->>'pen_uid')) ref(uid)
    WHERE r.record_table IN ('sessions', 'passes')
      AND r.record_uid IN (SELECT record_uid FROM se UNION ALL SELECT record_uid FROM rest)
      AND ref.uid IS NOT NULL),
wanted AS (
    SELECT record_uid FROM cl UNION SELECT record_uid FROM se
    UNION SELECT record_uid FROM rest UNION SELECT uid FROM named),
latest AS (  -- the newest version on the server (the next may still be on its way)
    SELECT DISTINCT ON (l.record_uid) l.record_uid, l.digest FROM smpctl.ledger l
    JOIN smpctl.records v ON v.record_uid = l.record_uid AND v.digest = l.digest
    WHERE l.record_uid IN (SELECT record_uid FROM wanted)
    ORDER BY l.record_uid, l.seq DESC)
SELECT r.record_uid, r.record_table, r.digest, r.journal_id, c.name, r.body::text, r.blob
FROM latest x
JOIN smpctl.records r ON r.record_uid = x.record_uid AND r.digest = x.digest
JOIN smpctl.chairs c ON c.id = r.chair_id
WHERE r.journal_id IS DISTINCT FROM %(own)s
ORDER BY r.journal_id, r.seq"""


def pull_clients(
    conn: psycopg.Connection[Any], pseudonyms: Sequence[str], own_journal: str | None
) -> list[PulledRow]:
    """The records of ``pseudonyms`` held by the server, except this journal's own."""
    if not pseudonyms:
        return []
    rows = conn.execute(_PULL, {"pseudonyms": list(pseudonyms), "own": own_journal}).fetchall()
    return [
        PulledRow(
            uid=str(r[0]),
            record_table=str(r[1]),
            digest=str(r[2]),
            journal_id=str(r[3]),
            chair=str(r[4]),
            body=str(r[5]),
            blob=bytes(r[6]) if r[6] is not None else None,
        )
        for r in rows
    ]
