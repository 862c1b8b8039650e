"""Which client a record is for, and when the client's sessions began.

Reading accepts what the review does (a unique prefix of the pseudonym). Writing does not:
a health record filed under the wrong client is worse than a refusal, so a record names
its client in full, and a pseudonym the journal does not know is refused with the closest
ones unless the user asks to register a new client.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from smpctl.errors import UnknownRecordError
from smpctl.journal import Insert, Journal
from smpctl.journal.doses import client_sessions, client_uid_of
from smpctl.journal.store import Op
from smpctl.review.ids import clients, resolve_client


@dataclass(frozen=True)
class ClientRef:
    uid: str
    pseudonym: str
    new: bool = False
    """Not in the journal yet: its record is written together with the first record for
    it (``registration``), so a refused entry leaves no client behind."""

    def registration(self, journal: Journal) -> list[Op]:
        """The client's row as ``Journal.client`` writes it (no display name), to go in
        the same write as the record."""
        if not self.new:
            return []
        row = {"uid": self.uid, "pseudonym": self.pseudonym, "created_wall": journal.now}
        return [Insert("clients", row)]


def session_day(started_wall: float) -> dt.date:
    """A session's day as the journal's dose queries count it (local time)."""
    return dt.date.fromtimestamp(started_wall)


def client_for_reading(journal: Journal, given: str) -> ClientRef:
    """The client ``given`` names: exact, ignoring case, or a unique prefix; else
    ``UnknownRecordError`` with the closest pseudonyms."""
    pseudonym = resolve_client(journal, given)
    uid = client_uid_of(journal, pseudonym)
    if uid is None:  # pragma: no cover - resolve_client returned a known pseudonym
        raise UnknownRecordError("client", given, [])
    return ClientRef(uid, pseudonym)


def client_for_record(
    journal: Journal, given: str, *, create: bool = False, creatable: bool = False
) -> ClientRef:
    """The client a new record is for: the full pseudonym (case aside). With ``create``
    a pseudonym the journal does not know becomes a new client, registered with the first
    record written for it (areas and treatments are often noted before the first session);
    ``creatable`` says the command can do that (its refusal then says how)."""
    text = given.strip()
    if not text:
        raise UnknownRecordError("client", given, [], "Give the client's pseudonym")
    same = [c for c in clients(journal) if c.lower() == text.lower()]
    exact = text if text in same else (same[0] if len(same) == 1 else None)
    if exact is not None:
        uid = client_uid_of(journal, exact)
        if uid is not None:
            return ClientRef(uid, exact)
    if create:
        return ClientRef(journal.store.new_uid(), text, new=True)
    try:
        near = [client_for_reading(journal, text).pseudonym]
    except UnknownRecordError as exc:
        near = exc.matches
    hint = "A record names its client by the full pseudonym"
    if creatable:
        hint += "; to register a new client with this pseudonym, add --new"
    raise UnknownRecordError("client", given, near, hint)


def first_session_day(journal: Journal, client_uid: str) -> dt.date | None:
    sessions = client_sessions(journal, client_uid)
    return session_day(sessions[0][1]) if sessions else None
