"""The clinic server's schema, versioned with forward migrations only, like the journal's.

Everything lives in the ``smpctl`` schema of the clinic's database. ``smpctl.meta`` holds
the version; ``migrate`` (``smpctl server init URL``, run by the database's owner) turns
version N-1 into N in one transaction per step, under an advisory lock so two
administrators cannot migrate at once. ``V1`` stays here verbatim.

What the database itself enforces, whatever program connects:

- *Append-only.* Chairs are granted INSERT and SELECT only; on top of that, triggers refuse
  UPDATE, DELETE and TRUNCATE of journals, ledger entries and records for every role,
  the owner included (short of a superuser disabling triggers, which ``server verify``
  would then catch by the digests).
- *Row-level security.* Each chair signs in as its own role (a member of
  ``smpctl_chair``). A chair inserts rows only as itself (``chair_id`` is its own) and
  reads the rows of every chair of its own clinic: a returning client may sit at any chair
  of the clinic, so the clinic, the data controller, is the boundary; another clinic's
  records (a chain of clinics on one server) are invisible to it.
- *The chain.* A statement trigger checks every ledger entry pushed: its hash recomputed
  from its fields, linked to the entry before it in the same journal (the first one to the
  genesis hash, and the journal's id is that first hash), pushed by the journal's own
  chair. A record version is accepted only if the journal's ledger has an entry with its
  uid and digest. Row contents are checked by ``smpctl server verify``, which recomputes
  every digest (exactly as the chair's journal does, in Python).
"""

from __future__ import annotations

from typing import Any

import psycopg

from smpctl.errors import ServerSchemaOutdatedError, ServerSchemaTooNewError

from .connection import open_server, server_errors, server_label

CHAIR_GROUP = "smpctl_chair"
"""The role every chair's role is a member of; privileges and policies name it."""

_LOCK_KEY = 0x736D70636C
"""Advisory lock key of ``server init`` (any constant: 'smpcl' in ASCII)."""

GROUP_ROLE = f"""DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{CHAIR_GROUP}') THEN
        CREATE ROLE {CHAIR_GROUP} NOLOGIN;
    END IF;
END $$"""

V1: tuple[str, ...] = (
    GROUP_ROLE,
    f"GRANT USAGE ON SCHEMA smpctl TO {CHAIR_GROUP}",
    f"GRANT SELECT ON smpctl.meta TO {CHAIR_GROUP}",
    """CREATE TABLE smpctl.clinics (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE smpctl.chairs (
        id serial PRIMARY KEY,
        clinic_id integer NOT NULL REFERENCES smpctl.clinics(id),
        name text NOT NULL UNIQUE,
        role_name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now())""",
    # SECURITY INVOKER: current_user is the chair signed in
    """CREATE FUNCTION smpctl.my_chair() RETURNS integer LANGUAGE sql STABLE AS
        $$ SELECT id FROM smpctl.chairs WHERE role_name = current_user $$""",
    """CREATE FUNCTION smpctl.my_clinic_chairs() RETURNS SETOF integer LANGUAGE sql STABLE AS
        $$ SELECT c.id FROM smpctl.chairs c JOIN smpctl.chairs me
               ON me.clinic_id = c.clinic_id AND me.role_name = current_user $$""",
    f"GRANT SELECT ON smpctl.clinics, smpctl.chairs TO {CHAIR_GROUP}",
    """CREATE TABLE smpctl.journals (
        id text PRIMARY KEY,
        chair_id integer NOT NULL REFERENCES smpctl.chairs(id),
        path text,
        registered_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE smpctl.ledger (
        journal_id text NOT NULL REFERENCES smpctl.journals(id),
        seq bigint NOT NULL CHECK (seq >= 1),
        chair_id integer NOT NULL,
        record_table text NOT NULL,
        record_uid text NOT NULL,
        digest text NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        wall double precision NOT NULL,
        pushed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (journal_id, seq))""",
    "CREATE INDEX ledger_by_record ON smpctl.ledger (record_uid, seq)",
    """CREATE TABLE smpctl.records (
        record_uid text NOT NULL,
        digest text NOT NULL,
        record_table text NOT NULL,
        journal_id text NOT NULL REFERENCES smpctl.journals(id),
        seq bigint NOT NULL,
        chair_id integer NOT NULL,
        body jsonb NOT NULL,
        blob bytea,
        pushed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (record_uid, digest))""",
    "CREATE INDEX records_by_journal ON smpctl.records (journal_id, seq)",
    """CREATE INDEX records_clients_by_pseudonym ON smpctl.records ((body->>'pseudonym'))
        WHERE record_table = 'clients'""",
    """CREATE INDEX records_sessions_by_client ON smpctl.records ((body->>'client_uid'))
        WHERE record_table = 'sessions'""",
    """CREATE INDEX records_by_session ON smpctl.records ((body->>'session_uid'))
        WHERE record_table IN ('passes', 'events', 'cartridges', 'pigments')""",
    # append-only, for every role
    """CREATE FUNCTION smpctl.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'smpctl: % on smpctl.% refused: synced clinic records are append-only',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'SM002';
    END $$""",
    *(
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
            ON smpctl.{table} FOR EACH STATEMENT EXECUTE FUNCTION smpctl.refuse_change()"""
        for table in ("journals", "ledger", "records")
    ),
    # the chain, checked as it arrives
    """CREATE FUNCTION smpctl.check_ledger() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = pg_catalog, smpctl AS $$
    DECLARE
        bad record;
    BEGIN
        SELECT a.journal_id, a.seq INTO bad FROM added a
        WHERE a.hash <> encode(sha256(convert_to(a.prev_hash || '|' || a.seq || '|'
            || a.record_table || '|' || a.record_uid || '|' || a.digest, 'UTF8')), 'hex')
            OR (a.seq = 1 AND a.hash <> a.journal_id)
        ORDER BY a.seq LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'smpctl: ledger entry % of journal % does not match its hash',
                bad.seq, bad.journal_id USING ERRCODE = 'SM001';
        END IF;
        SELECT a.journal_id, a.seq INTO bad FROM added a
        LEFT JOIN smpctl.ledger p ON p.journal_id = a.journal_id AND p.seq = a.seq - 1
        WHERE CASE WHEN a.seq = 1 THEN a.prev_hash <> repeat('0', 64)
                   ELSE p.hash IS DISTINCT FROM a.prev_hash END
        ORDER BY a.seq LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'smpctl: ledger entry % of journal % does not link to entry %',
                bad.seq, bad.journal_id, bad.seq - 1 USING ERRCODE = 'SM001';
        END IF;
        SELECT a.journal_id, a.seq INTO bad FROM added a
        JOIN smpctl.journals j ON j.id = a.journal_id
        WHERE j.chair_id <> a.chair_id LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'smpctl: journal % belongs to another chair', bad.journal_id
                USING ERRCODE = 'SM003';
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER ledger_chain AFTER INSERT ON smpctl.ledger
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT
        EXECUTE FUNCTION smpctl.check_ledger()""",
    """CREATE FUNCTION smpctl.check_records() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = pg_catalog, smpctl AS $$
    DECLARE
        bad record;
    BEGIN
        SELECT a.record_uid, a.journal_id INTO bad FROM added a
        LEFT JOIN smpctl.ledger l ON l.journal_id = a.journal_id AND l.seq = a.seq
        WHERE l.seq IS NULL OR l.record_uid <> a.record_uid OR l.digest <> a.digest
            OR l.chair_id <> a.chair_id OR l.record_table <> a.record_table
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'smpctl: record % is not in the ledger of journal %',
                bad.record_uid, bad.journal_id USING ERRCODE = 'SM001';
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER records_in_ledger AFTER INSERT ON smpctl.records
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT
        EXECUTE FUNCTION smpctl.check_records()""",
    # row-level security: insert as yourself, read your clinic
    *(
        statement
        for table in ("journals", "ledger", "records")
        for statement in (
            f"ALTER TABLE smpctl.{table} ENABLE ROW LEVEL SECURITY",
            f"""CREATE POLICY {table}_read_own_clinic ON smpctl.{table} FOR SELECT
                TO {CHAIR_GROUP} USING (chair_id IN (SELECT smpctl.my_clinic_chairs()))""",
            f"""CREATE POLICY {table}_insert_as_self ON smpctl.{table} FOR INSERT
                TO {CHAIR_GROUP} WITH CHECK (chair_id = (SELECT smpctl.my_chair()))""",
            f"GRANT SELECT, INSERT ON smpctl.{table} TO {CHAIR_GROUP}",
        )
    ),
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (V1,)
"""MIGRATIONS[n - 1] turns version n - 1 into version n."""
LATEST = len(MIGRATIONS)


def version_of(conn: psycopg.Connection[Any]) -> int:
    """The server's schema version; 0 when ``server init`` never ran."""
    row = conn.execute(
        "SELECT to_regclass('smpctl.meta') IS NOT NULL AND has_table_privilege("
        "'smpctl.meta', 'SELECT')"
    ).fetchone()
    if not row or not row[0]:
        return 0
    found = conn.execute("SELECT value FROM smpctl.meta WHERE key = 'schema_version'").fetchone()
    return int(found[0]) if found else 0


def check_version(conn: psycopg.Connection[Any], server: str) -> int:
    """Refuse a server this smpctl cannot write to, before anything is written."""
    found = version_of(conn)
    if found > LATEST:
        raise ServerSchemaTooNewError(server, found, LATEST)
    if found < LATEST:
        raise ServerSchemaOutdatedError(server, found, LATEST)
    return found


def migrate(conn: psycopg.Connection[Any], server: str, target: int = LATEST) -> int:
    """Create or migrate the schema (as the database's owner); returns the version found."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("CREATE SCHEMA IF NOT EXISTS smpctl")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS smpctl.meta (key text PRIMARY KEY, value text NOT NULL)"
        )
        found = version_of(conn)
    if found > LATEST:
        raise ServerSchemaTooNewError(server, found, LATEST)
    for version in range(found + 1, target + 1):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            if version_of(conn) >= version:  # another administrator got there first
                continue
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO smpctl.meta VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (str(version),),
            )
    return found


def init_server(url: str) -> tuple[int, int]:
    """``smpctl server init URL``: (version found, version now)."""
    with open_server(url) as conn, server_errors(url):
        found = migrate(conn, server_label(url))
    return found, LATEST
