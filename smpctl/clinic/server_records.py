"""Clinic-wide records for the review commands (``smpctl logs ... --server URL``): the
current version of every session the signed-in role may read (a chair: its clinic; the
administrator: every clinic), as the journal's own ``SessionSummary`` and ``PassRecord``."""

from __future__ import annotations

from typing import Any

from smpctl.journal import PassRecord, SessionSummary

from .connection import open_server, server_errors, server_label
from .history import RecordIndex
from .row_codec import decode_row
from .server_schema import check_version

_CURRENT = """
SELECT r.record_table, r.record_uid, c.name, r.body, r.blob
FROM (SELECT DISTINCT ON (l.record_uid) l.record_uid, l.digest FROM smpctl.ledger l
      JOIN smpctl.records v ON v.record_uid = l.record_uid AND v.digest = l.digest
      WHERE l.record_table IN ('clients', 'practitioners', 'sessions', 'passes')
      ORDER BY l.record_uid, l.seq DESC) x
JOIN smpctl.records r ON r.record_uid = x.record_uid AND r.digest = x.digest
JOIN smpctl.chairs c ON c.id = r.chair_id"""


def server_index(url: str) -> RecordIndex:
    rows: dict[str, list[dict[str, Any]]] = {}
    chairs: dict[str, str] = {}
    with open_server(url) as conn, server_errors(url):
        check_version(conn, server_label(url))
        for table, uid, chair, body, blob in conn.execute(_CURRENT):
            rows.setdefault(str(table), []).append(
                decode_row(body, bytes(blob) if blob is not None else None)
            )
            chairs[str(uid)] = str(chair)
    return RecordIndex(rows, chairs)


def server_sessions(url: str, client: str | None = None) -> list[SessionSummary]:
    """Sessions on the server (one client's when ``client`` is given), oldest first."""
    return server_index(url).sessions(client)


def server_passes(url: str, session_uid: str) -> list[PassRecord]:
    return server_index(url).passes(session_uid)
