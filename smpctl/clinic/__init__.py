"""Clinic records: many chairs, one PostgreSQL, offline-first sync.

Each chair's journal stays the source of truth during a session; ``sync`` pushes every
ledger entry and record version the clinic server lacks (idempotent and resumable: the
server's ledger is the marker) and pulls the records of clients the chair asks for;
``BackgroundSync`` does it on a timer for the dashboard; ``remote_history`` gives the
dashboard a returning client's sessions from other chairs; ``migrate`` / ``add_chair`` /
``verify_server`` are the administrator's side; ``ServerReview`` runs the review commands
(``smpctl logs ... --server``) on the clinic-wide records.
"""

from __future__ import annotations

from .background import BackgroundSync, SyncState
from .chair_state import ChairState, state_path
from .chairs import Chair, add_chair, list_chairs
from .connection import ENV_VAR, open_server, resolve_server_url, server_label
from .history import PulledHistory, RecordIndex, remote_history, remote_passes
from .push import PushReport
from .server_records import server_index, server_passes, server_sessions
from .server_review import ServerReview
from .server_schema import LATEST as SERVER_SCHEMA
from .server_schema import init_server, migrate
from .sync import SyncReport, pending_entries, sync
from .verify import JournalCheck, ServerVerifyReport, verify_server

__all__ = [
    "ENV_VAR",
    "SERVER_SCHEMA",
    "BackgroundSync",
    "Chair",
    "ChairState",
    "JournalCheck",
    "PulledHistory",
    "PushReport",
    "RecordIndex",
    "ServerReview",
    "ServerVerifyReport",
    "SyncReport",
    "SyncState",
    "add_chair",
    "init_server",
    "list_chairs",
    "migrate",
    "open_server",
    "pending_entries",
    "remote_history",
    "remote_passes",
    "resolve_server_url",
    "server_index",
    "server_label",
    "server_passes",
    "server_sessions",
    "state_path",
    "sync",
    "verify_server",
]
