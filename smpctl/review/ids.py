"""Finding the session, client or pass a user typed: full ids, unique prefixes, and the
closest matches when nothing fits (a typo in a pseudonym must not read as "no records")."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from smpctl.errors import AmbiguousIdError, UnknownRecordError
from smpctl.journal import Journal, PassRecord, SessionSummary

SHORT_ID = 8
"""Ids are shown by their first 8 characters (as ``logs list`` prints them)."""
MATCHES = 5


def session_label(s: SessionSummary) -> str:
    day = dt.datetime.fromtimestamp(s.started_wall).strftime("%Y-%m-%d")
    return f"{s.uid[:SHORT_ID]} ({s.client} #{s.session_number}, {day})"


def _closest(given: str, candidates: Sequence[str]) -> list[str]:
    lowered = {c.lower(): c for c in candidates}
    found = difflib.get_close_matches(given.lower(), list(lowered), n=MATCHES, cutoff=0.5)
    return [lowered[f] for f in found]


def session_summary(journal: Journal, uid: str) -> SessionSummary:
    found = journal.session(uid)
    if found is None:
        raise UnknownRecordError("session", uid, [])
    return found


@dataclass(frozen=True)
class _Key:
    uid: str
    client: str
    number: int
    started_wall: float


def _label(k: _Key) -> str:
    day = dt.datetime.fromtimestamp(k.started_wall).strftime("%Y-%m-%d")
    return f"{k.uid[:SHORT_ID]} ({k.client} #{k.number}, {day})"


def resolve_session(journal: Journal, given: str) -> SessionSummary:
    """A session by id, unique id prefix, or ``CLIENT#N`` (the client's Nth session)."""
    text = given.strip()
    keys = [
        _Key(r["uid"], r["pseudonym"] or "?", r["session_number"], r["started_wall"])
        for r in journal.store.query(
            "SELECT s.uid, c.pseudonym, s.session_number, s.started_wall FROM sessions s "
            "LEFT JOIN clients c ON c.uid = s.client_uid ORDER BY s.started_wall, s.rowid"
        )
    ]
    for k in keys:
        if k.uid == text:
            return session_summary(journal, k.uid)
    if "#" in text:
        client, _, number = text.rpartition("#")
        hits = [k for k in keys if k.client == client.strip() and str(k.number) == number]
        if len(hits) == 1:
            return session_summary(journal, hits[0].uid)
        if len(hits) > 1:
            raise AmbiguousIdError("session", given, [_label(k) for k in hits])
    hits = [k for k in keys if text and k.uid.startswith(text.lower())]
    if len(hits) == 1:
        return session_summary(journal, hits[0].uid)
    if len(hits) > 1:
        raise AmbiguousIdError("session", given, [_label(k) for k in hits[:MATCHES]])
    by_key: dict[str, _Key] = {}
    for k in keys:
        by_key.setdefault(k.uid[:SHORT_ID], k)
        by_key.setdefault(f"{k.client}#{k.number}", k)
    key = text[:SHORT_ID] if "#" not in text else text
    near = _closest(key, list(by_key))
    labels = list(dict.fromkeys(_label(by_key[n]) for n in near))
    raise UnknownRecordError(
        "session", given, labels, "Run `smpctl logs list` to see every session"
    )


def clients(journal: Journal) -> list[str]:
    rows = journal.store.query("SELECT DISTINCT pseudonym FROM clients ORDER BY pseudonym")
    return [str(r["pseudonym"]) for r in rows]


def resolve_client(journal: Journal, given: str) -> str:
    """A client's pseudonym: exact, then ignoring case, then a unique prefix."""
    text = given.strip()
    known = clients(journal)
    if text in known:
        return text
    same = [c for c in known if c.lower() == text.lower()]
    if len(same) == 1:
        return same[0]
    prefixed = [c for c in known if text and c.lower().startswith(text.lower())]
    if len(prefixed) == 1:
        return prefixed[0]
    if len(prefixed) > 1:
        raise AmbiguousIdError("client", given, prefixed[:MATCHES])
    raise UnknownRecordError(
        "client", given, _closest(text, known), "Clients are named by their pseudonym"
    )


def resolve_pass(journal: Journal, given: str) -> PassRecord:
    """A pass by id or unique id prefix."""
    text = given.strip().lower()
    rows = journal.store.query(
        "SELECT uid FROM passes WHERE uid >= ? AND uid < ? ORDER BY uid LIMIT ?",
        (text, text + "\uffff", MATCHES + 1),
    )
    if any(r["uid"] == text for r in rows):
        return journal.pass_record(text)
    if len(rows) == 1 and text:
        return journal.pass_record(str(rows[0]["uid"]))
    if len(rows) > 1:
        raise AmbiguousIdError("pass", given, [str(r["uid"])[:SHORT_ID] for r in rows])
    uids = [str(r["uid"])[:SHORT_ID] for r in journal.store.query("SELECT uid FROM passes")]
    raise UnknownRecordError(
        "pass", given, _closest(text[:SHORT_ID], uids), "`smpctl logs show SESSION` lists passes"
    )
