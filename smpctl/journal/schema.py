"""The journal's schema, versioned with forward migrations only.

``PRAGMA user_version`` holds the version. Records are kept for years, so a newer smpctl
must read every older journal: each migration turns version N-1 into N in one transaction,
and never rewrites a record (added columns start NULL, which keeps the hash chain valid).
``V1`` stays here verbatim: it is what the first version wrote, and the tests upgrade a
database built from it.
"""

from __future__ import annotations

import sqlite3

from smpctl.errors import JournalSchemaError

V1: tuple[str, ...] = (
    """CREATE TABLE ledger (
        seq INTEGER PRIMARY KEY,
        record_table TEXT NOT NULL,
        record_uid TEXT NOT NULL,
        digest TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        wall REAL NOT NULL)""",
    "CREATE INDEX ledger_by_record ON ledger(record_uid)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE clients (
        uid TEXT PRIMARY KEY,
        pseudonym TEXT NOT NULL,
        display_name TEXT,
        created_wall REAL NOT NULL)""",
    "CREATE INDEX clients_by_pseudonym ON clients(pseudonym)",
    """CREATE TABLE practitioners (
        uid TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_wall REAL NOT NULL)""",
    """CREATE TABLE pens (
        uid TEXT PRIMARY KEY,
        serial TEXT NOT NULL,
        model TEXT NOT NULL,
        firmware TEXT NOT NULL,
        simulated INTEGER NOT NULL,
        calibration TEXT NOT NULL,
        registered_wall REAL NOT NULL)""",
    """CREATE TABLE sessions (
        uid TEXT PRIMARY KEY,
        client_uid TEXT NOT NULL,
        session_number INTEGER NOT NULL,
        practitioner_uid TEXT,
        pen_uid TEXT,
        consent INTEGER NOT NULL,
        simulated INTEGER NOT NULL,
        notes TEXT,
        started_wall REAL NOT NULL,
        ended_wall REAL)""",
    """CREATE TABLE cartridges (
        uid TEXT PRIMARY KEY,
        session_uid TEXT,
        needle TEXT NOT NULL,
        lot TEXT NOT NULL,
        expiry TEXT NOT NULL,
        registered_wall REAL NOT NULL)""",
    """CREATE TABLE pigments (
        uid TEXT PRIMARY KEY,
        session_uid TEXT,
        shade TEXT NOT NULL,
        dilution TEXT NOT NULL,
        lot TEXT NOT NULL,
        registered_wall REAL NOT NULL)""",
    """CREATE TABLE passes (
        uid TEXT PRIMARY KEY,
        session_uid TEXT,
        pen_uid TEXT,
        number INTEGER NOT NULL,
        zone TEXT,
        scar TEXT,
        started_wall REAL NOT NULL,
        started_t_us INTEGER,
        ended_wall REAL,
        ended_t_us INTEGER,
        outcome TEXT,
        outcome_detail TEXT,
        continues_uid TEXT,
        cartridge_uid TEXT,
        pigment_uid TEXT,
        setpoint_hz REAL,
        depth_mm REAL,
        samples INTEGER,
        speed_mean_hz REAL,
        speed_min_hz REAL,
        speed_max_hz REAL,
        strokes INTEGER,
        peak_current_a REAL,
        max_temp_c REAL,
        events TEXT,
        flag TEXT,
        note TEXT)""",
    "CREATE INDEX passes_by_session ON passes(session_uid)",
    "CREATE INDEX passes_open ON passes(outcome) WHERE outcome IS NULL",
    """CREATE TABLE events (
        uid TEXT PRIMARY KEY,
        session_uid TEXT,
        pass_uid TEXT,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        code INTEGER,
        value INTEGER,
        t_us INTEGER,
        wall REAL NOT NULL,
        message TEXT,
        data TEXT)""",
    "CREATE INDEX events_by_pass ON events(pass_uid)",
    """CREATE TABLE telemetry_chunks (
        uid TEXT PRIMARY KEY,
        pass_uid TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        samples INTEGER NOT NULL,
        first_t_us INTEGER NOT NULL,
        last_t_us INTEGER NOT NULL,
        last_wall REAL NOT NULL,
        codec TEXT NOT NULL,
        data BLOB NOT NULL)""",
    "CREATE INDEX chunks_by_pass ON telemetry_chunks(pass_uid)",
)

V2: tuple[str, ...] = (
    # the profile in force during a pass (profiles arrived after the first journal)
    "ALTER TABLE passes ADD COLUMN profile_hash TEXT",
    "ALTER TABLE passes ADD COLUMN setpoints TEXT",
)

V3: tuple[str, ...] = (
    # the pens' calibration history (the technician tools arrived after the profiles)
    """CREATE TABLE calibrations (
        uid TEXT PRIMARY KEY,
        pen_uid TEXT,
        pen_serial TEXT NOT NULL,
        pen_model TEXT NOT NULL,
        kind TEXT NOT NULL,
        passed INTEGER NOT NULL,
        calibrated_day TEXT NOT NULL,
        expires_day TEXT,
        technician TEXT,
        tolerance TEXT,
        written TEXT,
        residuals TEXT NOT NULL,
        diagnoses TEXT,
        report TEXT,
        simulated INTEGER NOT NULL,
        recorded_wall REAL NOT NULL)""",
    "CREATE INDEX calibrations_by_serial ON calibrations(pen_serial)",
)

V4: tuple[str, ...] = (
    # review reads a session's events without scanning every session's
    "CREATE INDEX events_by_session ON events(session_uid)",
    # the micro-injury dose: what kind of session (NULL: SMP, recorded before
    # microneedling sessions arrived), the cartridge's kind and needle count, and per pass
    # the strokes that entered the skin and the punctures they made
    "ALTER TABLE sessions ADD COLUMN kind TEXT",
    "ALTER TABLE cartridges ADD COLUMN kind TEXT",
    "ALTER TABLE cartridges ADD COLUMN needles INTEGER",
    "ALTER TABLE passes ADD COLUMN in_skin_strokes INTEGER",
    "ALTER TABLE passes ADD COLUMN needles INTEGER",
    "ALTER TABLE passes ADD COLUMN punctures INTEGER",
    # each pass's speed trace, downsampled when the pass ends: a report reads one small row
    # per pass instead of its telemetry
    """CREATE TABLE pass_traces (
        uid TEXT PRIMARY KEY,
        pass_uid TEXT NOT NULL,
        session_uid TEXT,
        points INTEGER NOT NULL,
        codec TEXT NOT NULL,
        data BLOB NOT NULL,
        recorded_wall REAL NOT NULL)""",
    "CREATE INDEX pass_traces_by_pass ON pass_traces(pass_uid)",
    "CREATE INDEX pass_traces_by_session ON pass_traces(session_uid)",
    # the zone areas in force for a session (a dose keeps the area it was computed with)
    """CREATE TABLE session_areas (
        uid TEXT PRIMARY KEY,
        session_uid TEXT NOT NULL,
        zone TEXT NOT NULL,
        area_cm2 REAL NOT NULL,
        source TEXT NOT NULL,
        recorded_wall REAL NOT NULL)""",
    "CREATE INDEX session_areas_by_session ON session_areas(session_uid)",
    # zone areas measured on a client (the newest per zone replaces the default)
    """CREATE TABLE client_areas (
        uid TEXT PRIMARY KEY,
        client_uid TEXT NOT NULL,
        zone TEXT NOT NULL,
        area_cm2 REAL NOT NULL,
        measured_day TEXT NOT NULL,
        method TEXT,
        recorded_wall REAL NOT NULL)""",
    "CREATE INDEX client_areas_by_client ON client_areas(client_uid)",
    # microneedling: the end point reached per zone (none, erythema, pinpoint bleeding)
    """CREATE TABLE zone_endpoints (
        uid TEXT PRIMARY KEY,
        session_uid TEXT NOT NULL,
        zone TEXT NOT NULL,
        end_point TEXT NOT NULL,
        note TEXT,
        recorded_wall REAL NOT NULL)""",
    "CREATE INDEX zone_endpoints_by_session ON zone_endpoints(session_uid)",
    # treatments the client takes alongside (minoxidil, finasteride, PRP, LLLT, other)
    """CREATE TABLE adjuncts (
        uid TEXT PRIMARY KEY,
        client_uid TEXT NOT NULL,
        treatment TEXT NOT NULL,
        detail TEXT,
        started_day TEXT NOT NULL,
        stopped_day TEXT,
        recorded_wall REAL NOT NULL)""",
    "CREATE INDEX adjuncts_by_client ON adjuncts(client_uid)",
    # hair measurements per client, zone and day; photos by reference and hash
    """CREATE TABLE outcomes (
        uid TEXT PRIMARY KEY,
        client_uid TEXT NOT NULL,
        zone TEXT NOT NULL,
        measured_day TEXT NOT NULL,
        terminal_per_cm2 REAL,
        vellus_per_cm2 REAL,
        rating REAL,
        rating_scale TEXT,
        photo_path TEXT,
        photo_sha256 TEXT,
        method TEXT,
        note TEXT,
        recorded_wall REAL NOT NULL)""",
    "CREATE INDEX outcomes_by_client ON outcomes(client_uid)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (V1, V2, V3, V4)
"""MIGRATIONS[n - 1] turns version n - 1 into version n."""
LATEST = len(MIGRATIONS)

RECORD_TABLES: tuple[str, ...] = (
    "clients",
    "practitioners",
    "pens",
    "sessions",
    "cartridges",
    "pigments",
    "passes",
    "events",
    "telemetry_chunks",
    "calibrations",
    "pass_traces",
    "session_areas",
    "client_areas",
    "zone_endpoints",
    "adjuncts",
    "outcomes",
)
"""Tables whose rows are chained records (``ledger`` and ``meta`` hold the chain)."""


def version_of(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> int:
    """Bring ``conn`` (autocommit mode) to ``target``; returns the version found."""
    found = version_of(conn)
    if found > LATEST:
        raise JournalSchemaError(
            f"this journal was written by a newer smpctl (schema {found}, this smpctl reads "
            f"up to {LATEST}): update smpctl to open it. The journal was not changed."
        )
    for version in range(found + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found
