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

# V5: derived tables, so that summarising a session reads a row per zone instead of every
# pass and event row. They are not records (not chained, not in RECORD_TABLES): like an
# index, each is a function of the records, and ``logs verify`` recomputes them and reports
# any difference. SQLite triggers keep them, so they change in the same transaction as the
# rows they summarise and no writer (the journal, crash recovery, a clinic snapshot) can
# forget them. Only ``zone_strips`` is written by the journal itself (it needs the traces
# decoded), in the same transaction as the pass it adds (``store.Derived``). Totals are
# kept exactly as a GROUP BY over the pass rows gives them: float sums add in record order,
# which is also the order a pass's figures are set in (once, as it ends); an update that
# rewrites a figure rebuilds its zone's row from the pass rows instead. The texts that make
# up V5 are built from the constants below once, at import: they are V5 as released, never
# change them (a later version adds a migration).

NEEDLE_S = (
    "COALESCE((({r}.ended_t_us - {r}.started_t_us) & 4294967295) / 1e6, "
    "{r}.ended_wall - {r}.started_wall, 0.0)"
)
"""A pass's needle time: the pen's clock (u32 µs, wraps), else the wall clock, an open pass
0. ``{r}`` names the pass row (``passes``, ``OLD``, ``NEW``)."""

_ZONE_FIGURES: tuple[tuple[str, str, str], ...] = (
    # (zone_totals column, how it combines, the pass's value)
    ("needle_s", "fsum", NEEDLE_S),
    ("strokes", "isum", "{r}.strokes"),
    ("samples", "isum", "{r}.samples"),
    ("speed_sum", "fsum", "{r}.speed_mean_hz * {r}.samples"),
    ("speed_samples", "isum", "CASE WHEN {r}.speed_mean_hz IS NOT NULL THEN {r}.samples END"),
    ("speed_passes", "isum", "{r}.speed_mean_hz * {r}.samples IS NOT NULL"),
    ("speed_min", "min", "{r}.speed_min_hz"),
    ("speed_max", "max", "{r}.speed_max_hz"),
    ("setpoint_sum", "fsum", "{r}.setpoint_hz"),
    ("setpoint_passes", "isum", "{r}.setpoint_hz IS NOT NULL"),
    ("depth_sum", "fsum", "{r}.depth_mm"),
    ("depth_passes", "isum", "{r}.depth_mm IS NOT NULL"),
    ("depth_min", "min", "{r}.depth_mm"),
    ("depth_max", "max", "{r}.depth_mm"),
    ("peak_current", "max", "{r}.peak_current_a"),
    ("max_temp", "max", "{r}.max_temp_c"),
    ("interrupted", "isum", "{r}.outcome LIKE 'interrupted%'"),
    ("open_passes", "isum", "{r}.outcome IS NULL"),
    ("flagged", "isum", "{r}.flag IS NOT NULL OR {r}.note IS NOT NULL"),
    ("in_skin_sum", "isum", "{r}.in_skin_strokes"),
    ("in_skin_passes", "isum", "{r}.in_skin_strokes IS NOT NULL"),
    ("punctures_sum", "isum", "{r}.punctures"),
    ("punctures_passes", "isum", "{r}.punctures IS NOT NULL"),
)
"""Sums (``fsum`` float, ``isum`` integer) and extremes per (session, zone). Float sums add
in the order the passes close, as SQLite's SUM over the pass rows does."""

_AGGREGATE = {"fsum": "TOTAL", "isum": "SUM", "min": "MIN", "max": "MAX"}

ZONE_TOTALS_COLUMNS: tuple[str, ...] = (
    "session_uid",
    "zone",
    "passes",
    *(column for column, _how, _value in _ZONE_FIGURES),
)
ZONE_TOTALS_SELECT = (
    "SELECT session_uid, zone, COUNT(*), "
    + ", ".join(
        f"COALESCE(SUM({value.format(r='passes')}), 0)"
        if how == "isum"
        else f"{_AGGREGATE[how]}({value.format(r='passes')})"
        for _column, how, value in _ZONE_FIGURES
    )
    + " FROM passes INDEXED BY passes_by_session"
)
"""``zone_totals`` recomputed from the pass rows (add ``WHERE``, then ``GROUP BY
session_uid, zone``): the migration's backfill, a zone's rebuild, ``logs verify``. Read
in record order (by the session index), as the triggers add them, so that float sums
come out the same to the last bit."""

ZONE_LABELS_SELECT = (
    "SELECT session_uid, zone, 'flag', flag, COUNT(*) FROM passes WHERE flag IS NOT NULL "
    "GROUP BY session_uid, zone, flag UNION ALL "
    "SELECT session_uid, zone, 'scar', scar, COUNT(*) FROM passes WHERE scar IS NOT NULL "
    "GROUP BY session_uid, zone, scar"
)
EVENT_COUNTS_SELECT = (
    "SELECT session_uid, source, kind, code, COUNT(*) FROM events "
    "GROUP BY session_uid, source, kind, code"
)
SESSION_SUPPLIES_SELECT = (
    "SELECT session_uid, cartridge_uid, pigment_uid, COUNT(*) FROM passes "
    "GROUP BY session_uid, cartridge_uid, pigment_uid"
)

LOOK_MEAN_DRIFT = 0.02
LOOK_SPEED_FLOOR = 0.95
LOOK_SQL = (
    "outcome IS NOT 'complete' OR flag IS NOT NULL OR note IS NOT NULL "
    f"OR abs(speed_mean_hz / setpoint_hz - 1) > {LOOK_MEAN_DRIFT} "
    f"OR speed_min_hz / setpoint_hz < {LOOK_SPEED_FLOOR}"
)
"""Passes that may need a look: not simply run to the end, flagged or annotated, mean speed
more than 2 % off the setpoint or a dip below 95 % of it. A partial index holds just these,
per session; which of them do need a look is the review's call (its thresholds lie within
these). A partial index, unlike one on (session, speed), leaves the plans of every other
query of a session's passes (and the order SUM adds them in) as they were."""

_ZONE_KEY = "session_uid IS {r}.session_uid AND zone IS {r}.zone"


def _zone_changes(old: bool) -> str:
    """The SET list that adds pass NEW to its zone's totals (and takes away OLD, for an
    update that only sets what was unset: see ``_SET_ONCE``)."""
    out = []
    for column, how, value in _ZONE_FIGURES:
        new_value = value.format(r="NEW")
        old_value = value.format(r="OLD")
        if how == "isum":
            took = f" - IFNULL({old_value}, 0)" if old else ""
            out.append(f"{column} = {column}{took} + IFNULL({new_value}, 0)")
        elif how == "fsum":
            if old:  # untouched when kept: x - a + a need not give x back in floating point
                out.append(
                    f"{column} = CASE WHEN {old_value} IS {new_value} THEN {column} "
                    f"ELSE {column} - IFNULL({old_value}, 0.0) + IFNULL({new_value}, 0.0) END"
                )
            else:
                out.append(f"{column} = {column} + IFNULL({new_value}, 0.0)")
        else:  # scalar min()/max() are NULL if either side is
            out.append(f"{column} = COALESCE({how}({column}, {new_value}), {column}, {new_value})")
    return ",\n            ".join(out)


_SET_ONCE = " AND ".join(
    [
        "OLD.session_uid IS NEW.session_uid",
        "OLD.zone IS NEW.zone",
        *dict.fromkeys(
            # a float figure is added once, when it is set (its old value is then 0 or
            # unset); an extreme only when it is set: then the zone's is still right
            f"({value.format(r='OLD')} {'= 0.0' if column == 'needle_s' else 'IS NULL'} "
            f"OR {value.format(r='OLD')} IS {value.format(r='NEW')})"
            for column, how, value in _ZONE_FIGURES
            if how != "isum"
        ),
    ]
)
"""An update of a pass that the incremental trigger handles exactly: it closes the pass
(its figures go from unset to set once, at the end) or flags or annotates it. Any other
(a figure rewritten, the pass moved to another zone) rebuilds the zones concerned."""


def _rebuild_zone(r: str) -> str:
    key = _ZONE_KEY.format(r=r)
    return (
        f"DELETE FROM zone_totals WHERE {key};\n"
        f"        INSERT INTO zone_totals ({', '.join(ZONE_TOTALS_COLUMNS)}) "
        f"{ZONE_TOTALS_SELECT} WHERE {key} GROUP BY session_uid, zone;"
    )


def _labels(sign: str, r: str) -> str:
    """Add (``+``) or take away (``-``) pass ``r``'s flag and scar in ``zone_labels``."""
    key = _ZONE_KEY.format(r=r)
    parts = []
    for kind in ("flag", "scar"):
        if sign == "+":
            parts.append(
                "INSERT INTO zone_labels (session_uid, zone, kind, label, passes) "
                f"SELECT {r}.session_uid, {r}.zone, '{kind}', {r}.{kind}, 0 "
                f"WHERE {r}.{kind} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM zone_labels "
                f"WHERE {key} AND kind = '{kind}' AND label = {r}.{kind});"
            )
        parts.append(
            f"UPDATE zone_labels SET passes = passes {sign} 1 "
            f"WHERE {key} AND kind = '{kind}' AND label = {r}.{kind};"
        )
    if sign == "-":
        parts.append(f"DELETE FROM zone_labels WHERE {key} AND passes <= 0;")
    return "\n        ".join(parts)


def _tally(table: str, key: tuple[str, ...], count: str, sign: str, r: str) -> str:
    """Add or take away one for row ``r`` in a (key..., count) table (a NULL in the key is
    a value of its own, as in GROUP BY)."""
    where = " AND ".join(f"{c} IS {r}.{c}" for c in key)
    parts = []
    if sign == "+":
        parts.append(
            f"INSERT INTO {table} ({', '.join(key)}, {count}) "
            f"SELECT {', '.join(f'{r}.{c}' for c in key)}, 0 "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {where});"
        )
    parts.append(f"UPDATE {table} SET {count} = {count} {sign} 1 WHERE {where};")
    if sign == "-":
        parts.append(f"DELETE FROM {table} WHERE {where} AND {count} <= 0;")
    return "\n        ".join(parts)


_SUPPLY_KEY = ("session_uid", "cartridge_uid", "pigment_uid")
_EVENT_KEY = ("session_uid", "source", "kind", "code")
_SUPPLY_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _SUPPLY_KEY)
_EVENT_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _EVENT_KEY)
_PLACE_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ("session_uid", "zone", "number"))
_DROP_STRIP = "DELETE FROM zone_strips WHERE session_uid = {r}.session_uid AND zone = {r}.zone;"
_DROP_TRACE_STRIP = (
    "DELETE FROM zone_strips WHERE session_uid = {r}.session_uid "
    "AND zone = (SELECT zone FROM passes WHERE uid = {r}.pass_uid);"
)
_LABEL_CHANGED = " OR ".join(
    f"OLD.{c} IS NOT NEW.{c}" for c in ("session_uid", "zone", "flag", "scar")
)

DERIVED_FILLS: tuple[str, ...] = (
    f"INSERT INTO zone_totals ({', '.join(ZONE_TOTALS_COLUMNS)}) {ZONE_TOTALS_SELECT} "
    "GROUP BY session_uid, zone",
    f"INSERT INTO zone_labels (session_uid, zone, kind, label, passes) {ZONE_LABELS_SELECT}",
    f"INSERT INTO event_counts (session_uid, source, kind, code, n) {EVENT_COUNTS_SELECT}",
    "INSERT INTO session_supplies (session_uid, cartridge_uid, pigment_uid, passes) "
    + SESSION_SUPPLIES_SELECT,
)
"""The derived tables (but the strips, drawn in Python) filled from the records: at the V5
migration, and by ``logs verify --rebuild`` after a hand edit."""

V5: tuple[str, ...] = (
    "CREATE TABLE zone_totals (session_uid TEXT, zone TEXT, passes INTEGER NOT NULL DEFAULT 0, "
    + ", ".join(
        f"{column} REAL"
        if how in ("min", "max")
        else f"{column} {'REAL' if how == 'fsum' else 'INTEGER'} NOT NULL DEFAULT 0"
        for column, how, _value in _ZONE_FIGURES
    )
    + ")",
    "CREATE UNIQUE INDEX zone_totals_key ON zone_totals(session_uid, zone)",
    # each zone's distinct flags and scar overlays, with how many passes carry each
    """CREATE TABLE zone_labels (
        session_uid TEXT,
        zone TEXT,
        kind TEXT NOT NULL,
        label TEXT NOT NULL,
        passes INTEGER NOT NULL)""",
    "CREATE UNIQUE INDEX zone_labels_key ON zone_labels(session_uid, zone, kind, label)",
    """CREATE TABLE event_counts (
        session_uid TEXT,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        code INTEGER,
        n INTEGER NOT NULL)""",
    "CREATE UNIQUE INDEX event_counts_key ON event_counts(session_uid, source, kind, code)",
    # the passes made with each cartridge and pigment
    """CREATE TABLE session_supplies (
        session_uid TEXT,
        cartridge_uid TEXT,
        pigment_uid TEXT,
        passes INTEGER NOT NULL)""",
    "CREATE UNIQUE INDEX session_supplies_key "
    "ON session_supplies(session_uid, cartridge_uid, pigment_uid)",
    # each zone's strip of speed traces for the report as drawn, a fixed budget of points,
    # written by the journal as each pass ends (smpctl.journal.strip_codec). A zone with a
    # pass closed by crash recovery has none: a report draws it from the stored traces
    """CREATE TABLE zone_strips (
        session_uid TEXT NOT NULL,
        zone TEXT NOT NULL,
        passes INTEGER NOT NULL,
        last_number INTEGER NOT NULL,
        codec TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (session_uid, zone))""",
    # what the journal already holds
    *DERIVED_FILLS,
    # the review reads a session's events of one kind (faults, stops) without the rest
    # (every query of a session's events orders its rows: the wider index serves them too)
    "DROP INDEX events_by_session",
    "CREATE INDEX events_by_session_kind ON events(session_uid, kind, code)",
    # and the passes that may need a look without the rest
    f"CREATE INDEX passes_to_look ON passes(session_uid) WHERE {LOOK_SQL}",
    # and from now on
    f"""CREATE TRIGGER passes_insert_derived AFTER INSERT ON passes BEGIN
        INSERT INTO zone_totals (session_uid, zone) SELECT NEW.session_uid, NEW.zone
            WHERE NOT EXISTS (SELECT 1 FROM zone_totals WHERE {_ZONE_KEY.format(r="NEW")});
        UPDATE zone_totals SET passes = passes + 1,
            {_zone_changes(old=False)}
            WHERE {_ZONE_KEY.format(r="NEW")};
        {_labels("+", "NEW")}
        {_tally("session_supplies", _SUPPLY_KEY, "passes", "+", "NEW")}
    END""",
    f"""CREATE TRIGGER passes_update_totals AFTER UPDATE ON passes WHEN {_SET_ONCE} BEGIN
        UPDATE zone_totals SET
            {_zone_changes(old=True)}
            WHERE {_ZONE_KEY.format(r="NEW")};
    END""",
    f"""CREATE TRIGGER passes_update_rebuilds_totals AFTER UPDATE ON passes
    WHEN NOT ({_SET_ONCE}) BEGIN
        {_rebuild_zone("OLD")}
        {_rebuild_zone("NEW")}
    END""",
    f"""CREATE TRIGGER passes_update_labels AFTER UPDATE ON passes WHEN {_LABEL_CHANGED} BEGIN
        {_labels("-", "OLD")}
        {_labels("+", "NEW")}
    END""",
    f"""CREATE TRIGGER passes_update_supplies AFTER UPDATE ON passes WHEN {_SUPPLY_CHANGED}
    BEGIN
        {_tally("session_supplies", _SUPPLY_KEY, "passes", "-", "OLD")}
        {_tally("session_supplies", _SUPPLY_KEY, "passes", "+", "NEW")}
    END""",
    f"""CREATE TRIGGER passes_delete_derived AFTER DELETE ON passes BEGIN
        {_rebuild_zone("OLD")}
        {_labels("-", "OLD")}
        {_tally("session_supplies", _SUPPLY_KEY, "passes", "-", "OLD")}
        {_DROP_STRIP.format(r="OLD")}
    END""",
    # a strip is drawn as passes end; a pass moved, renumbered or deleted, or a trace
    # changed, by anything else drops the strips concerned (a report then draws those
    # zones from the traces) rather than leave one that no longer matches its passes
    f"""CREATE TRIGGER passes_move_drops_strips AFTER UPDATE OF session_uid, zone, number
    ON passes WHEN {_PLACE_CHANGED} BEGIN
        {_DROP_STRIP.format(r="OLD")}
        {_DROP_STRIP.format(r="NEW")}
    END""",
    f"""CREATE TRIGGER pass_traces_delete_drops_strip AFTER DELETE ON pass_traces BEGIN
        {_DROP_TRACE_STRIP.format(r="OLD")}
    END""",
    f"""CREATE TRIGGER pass_traces_update_drops_strip AFTER UPDATE ON pass_traces BEGIN
        {_DROP_TRACE_STRIP.format(r="OLD")}
        {_DROP_TRACE_STRIP.format(r="NEW")}
    END""",
    f"""CREATE TRIGGER events_insert_derived AFTER INSERT ON events BEGIN
        {_tally("event_counts", _EVENT_KEY, "n", "+", "NEW")}
    END""",
    f"""CREATE TRIGGER events_update_derived AFTER UPDATE ON events WHEN {_EVENT_CHANGED} BEGIN
        {_tally("event_counts", _EVENT_KEY, "n", "-", "OLD")}
        {_tally("event_counts", _EVENT_KEY, "n", "+", "NEW")}
    END""",
    f"""CREATE TRIGGER events_delete_derived AFTER DELETE ON events BEGIN
        {_tally("event_counts", _EVENT_KEY, "n", "-", "OLD")}
    END""",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (V1, V2, V3, V4, V5)
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

DERIVED_TABLES: tuple[str, ...] = (
    "zone_totals",
    "zone_labels",
    "event_counts",
    "session_supplies",
    "zone_strips",
)
"""Tables computed from the records (V5): never chained, always rebuildable from them."""


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
