"""Opening the journal to add a client record from the command line.

The journal must already exist (a record for a client belongs with that client's
sessions: a typo in ``--journal`` must not start a new, empty one), and one from a newer
smpctl is refused before anything touches it. Writing takes the journal's writer lock, so
while the dashboard records a session these commands say to close it first instead of
interleaving with it.
"""

from __future__ import annotations

import os

from smpctl.errors import JournalMissingError
from smpctl.journal import Journal, resolve_journal_path
from smpctl.review.source import check_schema


def open_for_records(option: str | os.PathLike[str] | None = None) -> Journal:
    path = resolve_journal_path(option)
    if not path.is_file():
        raise JournalMissingError(str(path))
    check_schema(path)
    return Journal.open(path, writer=True)
