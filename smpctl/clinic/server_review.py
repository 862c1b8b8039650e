"""The review commands on the clinic-wide records (``smpctl logs show|compare|pass|export|
report ... --server URL``), through the same review code as a chair's own journal.

The server's records are copied into a review snapshot: a private, temporary SQLite journal
(the journal's own schema, in a 0700 directory removed afterwards) holding the current
version of each record the command needs -- the newest ledger entry's version whose
content is on the server, as ``pull`` takes it, from every chair the signed-in role may
read. The review functions then run on it unchanged. The snapshot has no ledger: it is a
read-only view, never a journal anyone records into or syncs.

What is fetched follows what is asked: the clients (and, to resolve a session id, every
session) first, then the records of the sessions to review -- passes, events, cartridges,
pigments, their pens and practitioners, pass traces, zone areas and end points, and the
client's measured areas, adjuncts and outcomes. Raw telemetry only for ``pass`` and
``export --telemetry`` (the passes asked for), and for a report only where a pass has no
stored trace (an older journal): the few chunks its speed trace reads.
"""

from __future__ import annotations

import contextlib
import difflib
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import psycopg

from smpctl.errors import AmbiguousIdError, UnknownRecordError, UnknownServerRecordError
from smpctl.journal import Journal, PassRecord, SessionSummary
from smpctl.journal.paths import create_private_file
from smpctl.journal.schema import migrate
from smpctl.review.ids import MATCHES, SHORT_ID, resolve_client, resolve_pass, resolve_session

from .connection import open_server, server_errors, server_label
from .row_codec import decode_row
from .server_schema import check_version

TelemetryNeed = Literal["none", "trace", "all"]
"""Raw telemetry to fetch with a session: none, the chunks a report's speed trace reads
where a pass has no stored trace, or every chunk (``export --telemetry``)."""

FETCH = 2000
"""Rows per round trip of the server-side cursor."""
FETCH_CHUNKS = 200
"""Telemetry chunks per round trip (each carries up to 4096 samples)."""
TRACE_CHUNKS = 16
"""Chunks of a pass a report's speed trace reads (``smpctl.review.trace.MAX_CHUNKS``):
picked evenly across the pass, as the review picks them from a journal."""
SNAPSHOT_NAME = "clinic-review.sqlite3"

SESSION_TABLES = ("passes", "events", "cartridges", "pigments")
"""Tables the server indexes by ``session_uid`` (``records_by_session``)."""
SESSION_TABLES_V4 = ("pass_traces", "session_areas", "zone_endpoints")
CLIENT_TABLES_V4 = ("client_areas", "adjuncts", "outcomes")

HINTS = {
    "session": "Run `smpctl logs list --server URL` to see every session",
    "client": "Clients are named by their pseudonym",
    "pass": "`smpctl logs show SESSION --server URL` lists passes",
}

# The current version of each candidate record: its newest ledger entry whose content is on
# the server (a newer one may still be on its way, as ``pull`` reads it). Sorted after the
# search (OFFSET 0 keeps the search from walking the whole (journal, seq) index just to
# come out in order): the snapshot's row order is the chairs' own.
_CURRENT = """
SELECT record_table, record_uid, chair, body, blob FROM (
    SELECT r.record_table, r.record_uid, c.name AS chair, r.body::text AS body, r.blob,
           r.journal_id, r.seq
    FROM smpctl.records r
    JOIN smpctl.chairs c ON c.id = r.chair_id
    WHERE ({where})
      AND r.digest = (
          SELECT l.digest FROM smpctl.ledger l
          JOIN smpctl.records v ON v.record_uid = l.record_uid AND v.digest = l.digest
          WHERE l.record_uid = r.record_uid
          ORDER BY l.seq DESC LIMIT 1)
    OFFSET 0) x
ORDER BY journal_id, seq"""

# A pass's telemetry chunks lie in its journal between the pass's first ledger entry and
# its last: the store writes staged telemetry before the records that follow it, so the
# chunks precede the entry that closes the pass (an open pass has no upper bound). That
# range is read by the (journal, seq) index instead of scanning every record. Chunks are
# never changed, so each has one version. ``spread`` picks that many chunks evenly across
# the pass (the report's speed trace), NULL takes all of them.
_CHUNKS = """
WITH p AS (SELECT * FROM unnest(%(uids)s::text[], %(open)s::bool[]) AS p(uid, open)),
span AS (
    SELECT p.uid, l.journal_id, MIN(l.seq) AS lo,
           CASE WHEN bool_or(p.open) THEN 9223372036854775807 ELSE MAX(l.seq) END AS hi
    FROM p JOIN smpctl.ledger l ON l.record_uid = p.uid
    GROUP BY p.uid, l.journal_id),
c AS (
    SELECT r.record_uid, r.chair_id, r.journal_id, r.seq, r.body, r.blob,
           row_number() OVER w - 1 AS k, count(*) OVER (PARTITION BY s.uid) AS n
    FROM span s
    JOIN smpctl.records r ON r.journal_id = s.journal_id AND r.seq BETWEEN s.lo AND s.hi
    WHERE r.record_table = 'telemetry_chunks' AND r.body->>'pass_uid' = s.uid
    WINDOW w AS (PARTITION BY s.uid ORDER BY r.seq))
SELECT 'telemetry_chunks', c.record_uid, ch.name, c.body::text, c.blob
FROM c JOIN smpctl.chairs ch ON ch.id = c.chair_id
WHERE %(spread)s::int IS NULL
   OR c.k IN (SELECT (c.n - 1) * i / GREATEST(%(spread)s::int - 1, 1)
              FROM generate_series(0, %(spread)s::int - 1) i)
ORDER BY c.journal_id, c.seq"""

_PASS_IDS = """
SELECT DISTINCT record_uid FROM smpctl.ledger
WHERE record_table = 'passes' AND starts_with(record_uid, %s)
ORDER BY record_uid LIMIT %s"""

_PASS_SHORT_IDS = """
SELECT DISTINCT left(record_uid, %s) FROM smpctl.ledger WHERE record_table = 'passes'"""


class ServerReview:
    """A review snapshot of the clinic server at ``url``, filled as the command asks.

    ``journal`` is what the review functions read; ``session``, ``client``, ``everything``
    and ``pass_record`` resolve what the user typed against the server (the same closest
    matches as in a journal) and fetch the records that answer it.
    """

    def __init__(
        self,
        url: str,
        conn: psycopg.Connection[Any],
        directory: Path,
        chairs: int,
    ) -> None:
        self.url = url
        self.server = server_label(url)
        self.chair_count = chairs
        self._conn = conn
        self._dir = directory
        path = directory / SNAPSHOT_NAME
        create_private_file(path)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")  # a throwaway copy: nothing to keep
        migrate(self._db)
        self._db.execute("CREATE TEMP TABLE keyset (v PRIMARY KEY)")
        self._columns: dict[str, frozenset[str]] = {}
        self._have: set[str] = set()
        self._chairs: dict[str, str] = {}
        self._indexed: set[str] = set()
        self._detailed: set[str] = set()
        self.journal = Journal.open(path, writer=False)

    @classmethod
    def open(cls, url: str) -> ServerReview:
        """Sign in (errors say what to do: unreachable, wrong password, schema versions)."""
        conn = open_server(url)
        directory: Path | None = None
        try:
            with server_errors(url):
                check_version(conn, server_label(url))
                # the correlated look-ups below are cheap but look costly to the planner,
                # which would spend longer compiling them (JIT) than running them
                conn.execute("SET jit = off")
                row = conn.execute(
                    "SELECT COUNT(DISTINCT chair_id) FROM smpctl.journals"
                ).fetchone()
            directory = Path(tempfile.mkdtemp(prefix="smpctl-review-"))  # 0700
            return cls(url, conn, directory, int(row[0]) if row else 0)
        except BaseException:
            conn.close()
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.journal.close()
        with contextlib.suppress(Exception):
            self._db.close()
        with contextlib.suppress(Exception):
            self._conn.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> ServerReview:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ what the user sees

    def banner(self) -> str:
        chairs = f"{self.chair_count} chair{'' if self.chair_count == 1 else 's'}"
        return f"records from clinic server {self.server} ({chairs})"

    def origin(self) -> dict[str, object]:
        """Where the records came from, for JSON output."""
        return {"server": self.server, "chairs": self.chair_count}

    def chair(self, uid: str) -> str | None:
        """The chair that recorded a record in the snapshot."""
        return self._chairs.get(uid)

    # ------------------------------------------------------------------ resolving and fetching

    def session(self, given: str, telemetry: TelemetryNeed = "none") -> SessionSummary:
        """A session by id, unique prefix or ``CLIENT#N``, with its records."""
        self._index(sessions=True)
        with self._on_server():
            uid = resolve_session(self.journal, given).uid
        self._details([uid], telemetry)
        return resolve_session(self.journal, uid)

    def client(self, given: str, telemetry: TelemetryNeed = "none") -> str:
        """A client's pseudonym (exact, any case, unique prefix), with every session any
        chair recorded for it; returns the pseudonym."""
        self._index(sessions=False)
        with self._on_server():
            pseudonym = resolve_client(self.journal, given)
        uids = self._client_uids([pseudonym])
        self._fetch(
            "r.record_table = 'sessions' AND r.body->>'client_uid' = ANY(%(keys)s)", keys=uids
        )
        sessions = self._select("SELECT uid FROM sessions WHERE client_uid IN ({})", uids)
        self._details(sessions, telemetry)
        return pseudonym

    def everything(self, telemetry: TelemetryNeed = "none") -> None:
        """Every session the role may read, with its records (``export --all``)."""
        self._index(sessions=True)
        self._details(None, telemetry)

    def pass_record(self, given: str) -> PassRecord:
        """A pass by id or unique prefix, with its session, events and telemetry."""
        text = given.strip().lower()
        with server_errors(self.url):
            rows = self._conn.execute(_PASS_IDS, (text, MATCHES + 1)).fetchall()
        found = [str(r[0]) for r in rows]
        if not found:
            # the passes whose short ids are nearest, so that the journal's own error, which
            # keeps the closest of what it holds, names the same ones as the whole server
            with server_errors(self.url):
                shorts = [
                    str(r[0]) for r in self._conn.execute(_PASS_SHORT_IDS, (SHORT_ID,)).fetchall()
                ]
            near = difflib.get_close_matches(text[:SHORT_ID], shorts, n=MATCHES, cutoff=0.0)
            if near:
                self._fetch(
                    "r.record_table = 'passes' AND left(r.record_uid, %(n)s) = ANY(%(keys)s)",
                    keys=near,
                    n=SHORT_ID,
                )
        else:
            self._fetch("r.record_uid = ANY(%(keys)s)", keys=found)
        with self._on_server():
            record = resolve_pass(self.journal, given)
        self._pass_context(record)
        return record

    # ------------------------------------------------------------------ internals

    @contextlib.contextmanager
    def _on_server(self) -> Iterator[None]:
        """The journal's "no such record" error, said of the server."""
        try:
            yield
        except AmbiguousIdError:
            raise
        except UnknownRecordError as exc:
            raise UnknownServerRecordError(
                exc.what, exc.given, exc.matches, self.server, HINTS.get(exc.what, "")
            ) from None

    def _index(self, *, sessions: bool) -> None:
        """Every client (and every session): what resolving an id compares against."""
        for table in ("clients", "sessions") if sessions else ("clients",):
            if table not in self._indexed:
                self._fetch(f"r.record_table = '{table}'")  # a literal: the partial indexes
                self._indexed.add(table)

    def _client_uids(self, pseudonyms: Sequence[str]) -> list[str]:
        """Each chair has its own client record for a pseudonym: all of them."""
        if "clients" not in self._indexed:
            self._fetch(
                "r.record_table = 'clients' AND r.body->>'pseudonym' = ANY(%(keys)s)",
                keys=list(pseudonyms),
            )
        return self._select("SELECT uid FROM clients WHERE pseudonym IN ({})", pseudonyms)

    def _details(self, sessions: Sequence[str] | None, telemetry: TelemetryNeed) -> None:
        """The records of ``sessions`` (None: of every session), whose rows are fetched."""
        if sessions is None:
            for tables in (SESSION_TABLES, SESSION_TABLES_V4, CLIENT_TABLES_V4):
                self._fetch(f"r.record_table IN {_sql_list(tables)}")
            chosen = self._select("SELECT uid FROM sessions", ())
        else:
            chosen = [s for s in dict.fromkeys(sessions) if s not in self._detailed]
            if not chosen:
                return
            self._fetch(
                f"r.record_table IN {_sql_list(SESSION_TABLES)} "
                "AND r.body->>'session_uid' = ANY(%(keys)s)",
                keys=chosen,
            )
            self._fetch_naming(SESSION_TABLES_V4, "session_uid", chosen)
        self._detailed.update(chosen)
        self._fetch(
            "r.record_uid = ANY(%(keys)s)",
            keys=self._select(
                "SELECT DISTINCT client_uid FROM sessions WHERE uid IN ({}) "
                "AND client_uid NOT IN (SELECT uid FROM clients)",
                chosen,
            ),
        )
        pseudonyms = self._select(
            "SELECT DISTINCT c.pseudonym FROM sessions s JOIN clients c "
            "ON c.uid = s.client_uid WHERE s.uid IN ({})",
            chosen,
        )
        clients = self._client_uids(pseudonyms)
        if sessions is not None:
            self._fetch_naming(CLIENT_TABLES_V4, "client_uid", clients)
        self._referenced(chosen)
        passes = self._select("SELECT uid FROM passes WHERE session_uid IN ({})", chosen)
        if telemetry == "all":
            self._chunks(passes, spread=None)
        elif telemetry == "trace":
            traced = set(
                self._select("SELECT pass_uid FROM pass_traces WHERE session_uid IN ({})", chosen)
            )
            self._chunks([p for p in passes if p not in traced], spread=TRACE_CHUNKS)

    def _referenced(self, sessions: Sequence[str]) -> None:
        """The practitioners, pens, cartridges and pigments the sessions and passes name."""
        named = self._select(
            "SELECT practitioner_uid FROM sessions WHERE uid IN ({0}) "
            "UNION SELECT pen_uid FROM sessions WHERE uid IN ({0}) "
            "UNION SELECT pen_uid FROM passes WHERE session_uid IN ({0}) "
            "UNION SELECT cartridge_uid FROM passes WHERE session_uid IN ({0}) "
            "UNION SELECT pigment_uid FROM passes WHERE session_uid IN ({0})",
            sessions,
        )
        self._fetch("r.record_uid = ANY(%(keys)s)", keys=[u for u in named if u])

    def _pass_context(self, record: PassRecord) -> None:
        """What ``logs pass`` shows beside the pass: its session and client, cartridge and
        pigment, events and telemetry."""
        if record.session_uid is not None:
            self._fetch("r.record_uid = ANY(%(keys)s)", keys=[record.session_uid])
            client = self._select(
                "SELECT client_uid FROM sessions WHERE uid IN ({})", [record.session_uid]
            )
            self._fetch("r.record_uid = ANY(%(keys)s)", keys=client)
            self._fetch(  # by session first: the server indexes events by session
                "r.record_table = 'events' AND r.body->>'session_uid' = ANY(%(keys)s) "
                "AND r.body->>'pass_uid' = %(pass)s",
                keys=[record.session_uid],
                **{"pass": record.uid},
            )
        else:
            self._fetch_naming(("events",), "pass_uid", [record.uid])
        self._fetch_naming(("pass_traces",), "pass_uid", [record.uid])
        refs = [record.cartridge_uid, record.pigment_uid]
        self._fetch("r.record_uid = ANY(%(keys)s)", keys=[u for u in refs if u])
        self._chunks([record.uid], spread=None)

    def _fetch_naming(self, tables: Sequence[str], column: str, uids: Sequence[str]) -> None:
        """The records of ``tables`` whose ``column`` names one of ``uids``.

        The server indexes no such column for these tables, so the search is bounded
        instead: a journal records a row that names a session, client or pass only after
        that record's own first entry, in the same journal (each chair has its own records
        of a client), so only the entries from there on are read, by the (journal, seq)
        index.
        """
        if not uids:
            return
        with server_errors(self.url):
            starts = self._conn.execute(
                "SELECT journal_id, MIN(seq) FROM smpctl.ledger WHERE record_uid = ANY(%s) "
                "GROUP BY journal_id ORDER BY journal_id",
                (list(uids),),
            ).fetchall()
        if not starts:
            return
        params: dict[str, object] = {"keys": list(uids)}
        spans = []
        for i, (journal_id, first) in enumerate(starts):
            spans.append(f"(r.journal_id = %(j{i})s AND r.seq >= %(s{i})s)")
            params[f"j{i}"], params[f"s{i}"] = journal_id, first
        self._fetch(
            f"r.record_table IN {_sql_list(tables)} AND r.body->>'{column}' = ANY(%(keys)s) "
            f"AND ({' OR '.join(spans)})",
            **params,
        )

    def _chunks(self, passes: Sequence[str], *, spread: int | None) -> None:
        if not passes:
            return
        opened = set(
            self._select("SELECT uid FROM passes WHERE outcome IS NULL AND uid IN ({})", passes)
        )
        self._run(
            _CHUNKS,
            {"uids": list(passes), "open": [p in opened for p in passes], "spread": spread},
            itersize=FETCH_CHUNKS,
        )

    def _fetch(self, where: str, **params: object) -> None:
        if "keys" in params and not params["keys"]:
            return
        self._run(_CURRENT.format(where=where), params)

    def _run(self, query: str, params: dict[str, object], *, itersize: int = FETCH) -> None:
        """Stream the rows of ``query`` (table, uid, chair, body, blob) into the snapshot."""
        batch: list[tuple[str, dict[str, object]]] = []
        with (
            server_errors(self.url),
            self._conn.transaction(),
            self._conn.cursor(name="smpctl_review") as cur,
        ):
            cur.itersize = itersize
            cur.execute(query, params)
            for table, uid, chair, body, blob in cur:
                uid = str(uid)
                self._chairs[uid] = str(chair)
                if uid in self._have:
                    continue
                self._have.add(uid)
                batch.append(
                    (str(table), decode_row(body, bytes(blob) if blob is not None else None))
                )
                if len(batch) >= itersize:
                    self._insert(batch)
                    batch = []
        self._insert(batch)

    def _insert(self, rows: Sequence[tuple[str, dict[str, object]]]) -> None:
        """Columns a newer chair's journal added are left out: the review reads none."""
        by_shape: dict[tuple[str, tuple[str, ...]], list[tuple[object, ...]]] = defaultdict(list)
        for table, row in rows:
            known = self._table_columns(table)
            cols = tuple(c for c in row if c in known)
            by_shape[(table, cols)].append(tuple(row[c] for c in cols))
        if not by_shape:
            return
        self._db.execute("BEGIN")
        try:
            for (table, cols), values in by_shape.items():
                self._db.executemany(
                    f"INSERT OR IGNORE INTO {table} ({', '.join(cols)}) "
                    f"VALUES ({', '.join('?' * len(cols))})",
                    values,
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _table_columns(self, table: str) -> frozenset[str]:
        if table not in self._columns:
            self._columns[table] = frozenset(
                str(r[1]) for r in self._db.execute(f"PRAGMA table_info({table})")
            )
        return self._columns[table]

    def _select(self, query: str, keys: Sequence[object]) -> list[Any]:
        """The first column of ``query`` on the snapshot, where ``{}`` (or ``{0}``) stands
        for the ids in ``keys`` (a temporary table: there may be more than SQLite takes as
        parameters)."""
        self._db.execute("BEGIN")
        try:
            self._db.execute("DELETE FROM temp.keyset")
            self._db.executemany(
                "INSERT OR IGNORE INTO temp.keyset VALUES (?)", [(k,) for k in keys]
            )
            rows = self._db.execute(query.format("SELECT v FROM temp.keyset")).fetchall()
        finally:
            self._db.execute("COMMIT")
        return [r[0] for r in rows]


def _sql_list(names: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{n}'" for n in names) + ")"
