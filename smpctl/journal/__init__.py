"""The session journal: every pass per scalp zone, recorded so nothing is ever lost.

``Journal.open()`` opens (or creates) the journal file; ``Recorder(journal, pen).start()``
follows a connected pen and records its passes, events and telemetry by itself; the
dashboard and tools use the ``Journal`` methods for sessions, cartridges, pigments, the
current zone, flags and notes.
"""

from __future__ import annotations

from .journal import Journal, journal_path
from .paths import ENV_VAR, default_journal_path, resolve_journal_path
from .recorder import Recorded, Recorder
from .records import (
    SCAR_KINDS,
    ZONE_CODES,
    EventSource,
    Outcome,
    PassRecord,
    SessionSummary,
    VerifyReport,
)
from .store import Insert, JournalStore, Update, default_connect

__all__ = [
    "ENV_VAR",
    "SCAR_KINDS",
    "ZONE_CODES",
    "EventSource",
    "Insert",
    "Journal",
    "JournalStore",
    "Outcome",
    "PassRecord",
    "Recorded",
    "Recorder",
    "SessionSummary",
    "Update",
    "VerifyReport",
    "default_connect",
    "default_journal_path",
    "journal_path",
    "resolve_journal_path",
]
