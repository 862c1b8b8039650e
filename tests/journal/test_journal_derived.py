"""The journal's derived tables (schema V5): per-zone totals and labels, event counts and
consumable use, kept by SQLite triggers in the same transaction as the records, and each
zone's strip of traces, kept by the journal as passes end. After every kind of write they
equal a recompute from the records (the GROUP BY the review ran before, kept here as the
reference); older journals get them when upgraded; ``verify`` notices one edited by hand."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from journal_support import hold, wait_until

import smpctl.sim as sim
from smpctl.cli import main
from smpctl.client import LinkState, Pen, connect
from smpctl.journal import EventSource, Journal, Outcome, Recorder, Update
from smpctl.journal.doses import doses_by_session
from smpctl.journal.integrity import derived_problems
from smpctl.journal.schema import DERIVED_TABLES, RECORD_TABLES, migrate
from smpctl.journal.strip_codec import (
    MERGED_POINTS,
    STRIP_PASSES_SQL,
    STRIP_POINTS,
    STRIP_SEGMENTS,
    ZoneStrip,
    read_strip,
    strip_of,
)
from smpctl.journal.trace_codec import TracePoint, encode_trace
from smpctl.protocol import SimAction, Status, Telemetry
from smpctl.review import summary
from smpctl.review.summary import consumables, session_events, zone_rows

EXACT = sqlite3.sqlite_version_info < (3, 43, 0)
"""SQLite 3.43 and later compensate the rounding of SUM: the triggers' running sums then
agree with a recompute to the last few bits only. Before, they agree exactly."""

OLD_ZONE_SQL = f"""
SELECT session_uid, zone,
       COUNT(*) AS passes,
       SUM({summary.NEEDLE_S_SQL}) AS needle_s,
       COALESCE(SUM(strokes), 0) AS strokes,
       COALESCE(SUM(samples), 0) AS samples,
       SUM(speed_mean_hz * samples) / SUM(CASE WHEN speed_mean_hz IS NOT NULL
                                          THEN samples END) AS mean_hz,
       MIN(speed_min_hz) AS min_hz,
       MAX(speed_max_hz) AS max_hz,
       AVG(setpoint_hz) AS setpoint_hz,
       AVG(depth_mm) AS depth_mm,
       MIN(depth_mm) AS depth_min_mm,
       MAX(depth_mm) AS depth_max_mm,
       MAX(peak_current_a) AS peak_current_a,
       MAX(max_temp_c) AS max_temp_c,
       SUM(outcome LIKE 'interrupted%') AS interrupted,
       SUM(outcome IS NULL) AS open_passes,
       SUM(flag IS NOT NULL OR note IS NOT NULL) AS flagged,
       GROUP_CONCAT(DISTINCT flag) AS flags,
       GROUP_CONCAT(DISTINCT scar) AS scars
FROM passes WHERE session_uid IN ({{marks}})
GROUP BY session_uid, zone
"""
"""The per-zone GROUP BY over the pass rows that ``logs show`` and ``compare`` ran before
the derived tables: the reference every zone row is held to."""

OLD_DOSE_SQL = """
SELECT p.session_uid AS session_uid, p.zone AS zone, COUNT(*) AS passes,
       COALESCE(SUM(p.strokes), 0) AS strokes, SUM(p.in_skin_strokes) AS in_skin_strokes,
       COUNT(p.in_skin_strokes) AS with_in_skin, SUM(p.punctures) AS punctures,
       COUNT(p.punctures) AS with_punctures
FROM passes p WHERE p.session_uid IN ({marks}) AND p.zone IS NOT NULL
GROUP BY p.session_uid, p.zone
"""

OLD_SESSION_SQL = """
SELECT COUNT(x.uid) AS passes,
       SUM(CASE WHEN x.outcome LIKE 'interrupted%' THEN 1 ELSE 0 END) AS interrupted,
       GROUP_CONCAT(DISTINCT x.zone) AS zones, COALESCE(SUM(x.strokes), 0) AS strokes
FROM sessions s LEFT JOIN passes x ON x.session_uid = s.uid WHERE s.uid = ? GROUP BY s.uid
"""


def old_zone_rows(journal: Journal, uids: list[str]) -> dict[str, dict[str, summary.ZoneRow]]:
    out: dict[str, dict[str, summary.ZoneRow]] = {uid: {} for uid in uids}
    marks = ", ".join("?" * len(uids))
    for r in journal.store.query(OLD_ZONE_SQL.format(marks=marks), uids):
        zone = r["zone"] or "-"
        out[r["session_uid"]][zone] = summary._zone_row(zone, r)
    return out


def assert_same(new: object, old: object) -> None:
    if EXACT:
        assert new == old
    else:
        assert new == pytest.approx(old, rel=1e-12)


def assert_zone_rows_are_the_group_bys(journal: Journal) -> None:
    uids = [s.uid for s in journal.sessions()]
    new, old = zone_rows(journal, uids), old_zone_rows(journal, uids)
    assert {u: set(z) for u, z in new.items()} == {u: set(z) for u, z in old.items()}
    for uid in uids:
        for zone, row in old[uid].items():
            assert_same(new[uid][zone].as_dict(), row.as_dict())


def assert_derived_agree(journal: Journal) -> None:
    assert derived_problems(journal.store) == []
    assert_zone_rows_are_the_group_bys(journal)


# ------------------------------------------------------------------ a recorded session


def start_running(pen: Pen) -> None:
    pen.set_telemetry_rate(500)
    pen.set_speed(110)
    pen.arm()
    pen.run()


def press(pen: Pen, seconds: float) -> None:
    pen.sim(SimAction.PEDAL, 1)
    hold(pen, seconds)
    pen.sim(SimAction.PEDAL, 0)
    hold(pen, 0.1)


_names = itertools.count()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A session the real Recorder records from the simulated pen: four zones, a scar
    overlay, a flag and a note, a pass split by a zone change, a pulled cable."""
    path = tmp_path_factory.mktemp("derived") / "journal.sqlite3"
    name = f"derived{next(_names)}"
    try:
        with Journal.open(path) as journal, connect(f"sim://{name}") as pen:
            recorder = Recorder(journal, pen).start()
            journal.open_session("C-0700", 1, "AB", consent=True, simulated=True)
            journal.register_cartridge("3RL 0.25", "L-1", "2031-01-31")
            journal.register_pigment("dark", "1:2", "P-1")
            start_running(pen)
            for zone, scar in (("HL", None), ("FRN", None), ("CRN", "SCR_FUE"), ("HL", None)):
                journal.set_zone(zone, scar)
                press(pen, 0.25)
            recorder.sync()
            journal.flag_pass("check")
            pen.sim(SimAction.PEDAL, 1)
            hold(pen, 0.2)
            journal.set_zone("MID")  # mid-pass: splits it
            hold(pen, 0.2)
            pen.sim(SimAction.PEDAL, 0)
            hold(pen, 0.1)
            recorder.sync()
            journal.flag_pass(note="uneven")
            pen.sim(SimAction.PEDAL, 1)
            hold(pen, 0.2)
            sim.unplug(name)
            assert pen.wait_for_state(LinkState.LOST, 1.0)
            sim.plug(name)
            assert wait_until(lambda: pen.state is LinkState.CONNECTED, 3.0, pen)
            pen.sim(SimAction.PEDAL, 0)
            hold(pen, 0.1)
            recorder.sync()
            recorder.stop()
            journal.close_session()
    finally:
        if sim.BUS.get(name) is not None:
            sim.BUS.power_off(name)
    yield path


def test_a_recorded_sessions_zone_rows_are_the_group_by_over_its_passes(recorded: Path) -> None:
    with Journal.open(recorded, writer=False) as journal:
        (session,) = journal.sessions()
        assert_derived_agree(journal)
        rows = zone_rows(journal, [session.uid])[session.uid]
        assert set(rows) == {"HL", "FRN", "CRN", "MID"}
        assert rows["HL"].flags == ("check",) and rows["CRN"].scars == ("SCR_FUE",)
        assert rows["MID"].flagged == 1 and sum(r.interrupted for r in rows.values()) >= 1
        # the session line, the doses and the consumables: the same figures as before
        old = journal.store.query_one(OLD_SESSION_SQL, (session.uid,))
        assert old is not None
        assert (session.passes, session.interrupted, session.strokes) == (
            old["passes"],
            old["interrupted"],
            old["strokes"],
        )
        assert session.zones == tuple(sorted(old["zones"].split(",")))
        doses = doses_by_session(journal, [session.uid])[session.uid]
        for r in journal.store.query(OLD_DOSE_SQL.format(marks="?"), (session.uid,)):
            d = doses[r["zone"]]
            assert (d.passes, d.strokes) == (r["passes"], r["strokes"])
            assert d.in_skin_strokes == (r["in_skin_strokes"] if r["with_in_skin"] else None)
        used = {c.uid: c.passes for c in consumables(journal, session.uid)}
        assert set(used.values()) == {session.passes}
        counts, _events = session_events(journal, session.uid)
        kinds = journal.store.query(
            "SELECT kind, COUNT(*) AS n FROM events WHERE session_uid = ? GROUP BY kind",
            (session.uid,),
        )
        assert counts == {r["kind"]: r["n"] for r in kinds}
        assert journal.verify().ok


def test_each_zone_strip_is_the_one_drawn_from_its_passes_stored_traces(recorded: Path) -> None:
    with Journal.open(recorded, writer=False) as journal:
        (session,) = journal.sessions()
        rows = zone_rows(journal, [session.uid])[session.uid]
        strips = journal.store.rows(
            "SELECT zone, passes, last_number, codec, data FROM zone_strips WHERE session_uid = ?",
            (session.uid,),
        )
        assert {zone for zone, *_rest in strips} == set(rows)
        for zone, passes, last, codec, data in strips:
            stored = read_strip(data, codec)
            rebuilt = strip_of(journal.store.rows(STRIP_PASSES_SQL, (session.uid, zone, last)))
            assert rebuilt is not None and rebuilt.view() == stored
            assert stored.passes == passes == rows[zone].passes
            assert len(stored.speed) <= STRIP_POINTS


def test_derived_rows_are_not_records(recorded: Path) -> None:
    with Journal.open(recorded, writer=False) as journal:
        chained = journal.store.rows("SELECT DISTINCT record_table FROM ledger")
        records = sum(
            journal.store.rows(f"SELECT COUNT(*) FROM {table}")[0][0] for table in RECORD_TABLES
        )
        report = journal.verify()
    assert not {t for (t,) in chained} & set(DERIVED_TABLES)
    assert report.ok and report.records == records


# ------------------------------------------------------------------ every kind of write


def _trace(n: int, speed: float = 110.0) -> list[TracePoint]:
    return [TracePoint(i * 0.05, speed - (i % 5), speed) for i in range(n)]


def _pass(
    journal: Journal,
    *,
    t0: int,
    mean: float = 110.0,
    low: float = 104.0,
    outcome: Outcome = Outcome.COMPLETE,
    trace: list[TracePoint] | None = None,
) -> str:
    uid = journal.begin_pass(started_t_us=t0, wall=journal.now, pen_uid=None)
    journal.record_event(source=EventSource.PEN, kind="PEDAL_DOWN", wall=journal.now, pass_uid=uid)
    _end(journal, uid, t0=t0, mean=mean, low=low, outcome=outcome, trace=trace)
    return uid


def _end(
    journal: Journal,
    uid: str,
    *,
    t0: int,
    mean: float = 110.0,
    low: float = 104.0,
    outcome: Outcome = Outcome.COMPLETE,
    trace: list[TracePoint] | None = None,
) -> None:
    journal.end_pass(
        uid,
        outcome=outcome,
        detail=None,
        ended_t_us=t0 + 2_500_000,
        wall=journal.now,
        aggregates={
            "samples": 500,
            "speed_mean_hz": mean,
            "speed_min_hz": low,
            "speed_max_hz": mean + 3,
            "strokes": 275,
            "peak_current_a": 0.71,
            "max_temp_c": 31.5,
            "setpoint_hz": 110.0,
            "depth_mm": 1.1,
        },
        events=["PEDAL_DOWN", "PEDAL_UP"],
        trace=_trace(48) if trace is None else trace,
        in_skin_strokes=200,
    )


RUNNING = int(Status.PEDAL_DOWN | Status.ARMED | Status.RUN_ENABLED | Status.MOTOR_ON)


def _samples(n: int, t0: int) -> list[Telemetry]:
    return [
        Telemetry(
            t0 + i * 1000, i, 11000 + i % 7, 11000, 700, 12000, 2500, i, 1000, 255, RUNNING, 0
        )
        for i in range(n)
    ]


def _clock() -> Any:
    ticks = itertools.count()
    return lambda: 1_750_000_000.0 + 0.37 * next(ticks)


def test_flags_notes_rewrites_moves_and_deletions_keep_the_totals_right(
    journal_file: Path,
) -> None:
    with Journal.open(journal_file, wall=_clock()) as journal:
        journal.open_session("C-0701", 1, consent=True, simulated=True)
        journal.register_cartridge("12-pin", "L-2", "2031-01-31")
        journal.set_zone("OCC")
        first = _pass(journal, t0=0, mean=110.3)
        second = _pass(journal, t0=10_000_000, mean=104.1, low=80.0)
        journal.set_zone("NAP", "SCR_FUE")
        third = _pass(journal, t0=20_000_000, outcome=Outcome.INTERRUPTED_FAULT)
        assert_derived_agree(journal)
        # a stored trace rewritten: the zone's strip, drawn from it, goes with it
        (trace,) = journal.store.rows("SELECT uid FROM pass_traces WHERE pass_uid = ?", (first,))
        strips = "SELECT zone FROM zone_strips ORDER BY zone"
        assert journal.store.rows(strips) == [("NAP",), ("OCC",)]
        flat = encode_trace([TracePoint(i / 10, 90.0, 110.0) for i in range(48)])
        journal.store.write([Update("pass_traces", trace[0], {"data": flat})])
        assert journal.store.rows(strips) == [("NAP",)]
        assert_derived_agree(journal)
        journal.flag_pass("redo", pass_uid=first)
        journal.flag_pass(note="patchy", pass_uid=second)
        journal.flag_pass("redo", pass_uid=third)
        assert_derived_agree(journal)
        journal.flag_pass("check", pass_uid=first)  # a flag replaced
        assert_derived_agree(journal)
        # not what smpctl does, but the tables must follow any write: a figure rewritten,
        # a pass moved to another zone (both rebuild the zones concerned)
        journal.store.write([Update("passes", second, {"speed_min_hz": 99.0, "depth_mm": 0.9})])
        assert_derived_agree(journal)
        journal.store.write([Update("passes", third, {"zone": "OCC", "scar": None})])
        assert_derived_agree(journal)
        # a pass's cartridge, an event's kind, a stored trace rewritten
        journal.store.write([Update("passes", second, {"cartridge_uid": None})])
        assert_derived_agree(journal)
        (event,) = journal.store.rows("SELECT uid FROM events ORDER BY rowid LIMIT 1")
        journal.store.write([Update("events", event[0], {"kind": "FAULT_RAISED", "code": 4})])
        assert_derived_agree(journal)
        (session,) = journal.sessions()
        rows = zone_rows(journal, [session.uid])[session.uid]
        assert list(rows) == ["OCC"] and rows["OCC"].passes == 3
        assert rows["OCC"].flags == ("check", "redo") and rows["OCC"].flagged == 3
        assert rows["OCC"].min_hz == 99.0 and rows["OCC"].interrupted == 1
        events = journal.store.rows("SELECT uid FROM events ORDER BY rowid")
    with sqlite3.connect(journal_file) as conn:  # rows deleted by hand
        conn.execute("DELETE FROM passes WHERE uid = ?", (first,))
        conn.execute("DELETE FROM events WHERE uid = ?", (events[0][0],))
    with Journal.open(journal_file, writer=False) as journal:
        assert_derived_agree(journal)
        problems = journal.verify().problems
    assert problems and all("was deleted" in p for p in problems)  # the records say so


def test_a_pass_closed_by_crash_recovery_updates_the_totals_and_leaves_the_strip(
    journal_file: Path,
) -> None:
    with Journal.open(journal_file, wall=_clock()) as journal:
        journal.open_session("C-0702", 1, consent=True, simulated=True)
        journal.set_zone("TMP_L")
        _pass(journal, t0=0)
        uid = journal.begin_pass(started_t_us=10_000_000, wall=journal.now, pen_uid=None)
        journal.stage_samples(uid, _samples(300, t0=10_000_000), journal.now)
        journal.commit()  # then smpctl dies: the pass is never closed
        (session,) = journal.sessions()
        assert zone_rows(journal, [session.uid])[session.uid]["TMP_L"].open_passes == 1
        assert_derived_agree(journal)
    with Journal.open(journal_file) as journal:
        assert journal.recovered == (uid,)
        assert_derived_agree(journal)
        row = zone_rows(journal, [session.uid])[session.uid]["TMP_L"]
        assert (row.passes, row.open_passes, row.interrupted, row.samples) == (2, 0, 1, 800)
        # the zone's strip holds the pass that ended with its trace, not the recovered one:
        # a report draws the zone from the traces and telemetry instead
        (strip_passes,) = journal.store.rows("SELECT passes FROM zone_strips")[0]
        assert strip_passes == 1 < row.passes
        assert journal.verify().ok


def test_a_pass_that_ended_without_its_trace_leaves_its_zone_without_a_strip(
    journal_file: Path,
) -> None:
    with Journal.open(journal_file, wall=_clock()) as journal:
        journal.open_session("C-0703", 1, consent=True, simulated=True)
        journal.set_zone("HL")
        _pass(journal, t0=0)
        journal.set_zone("FRN")
        _pass(journal, t0=10_000_000)
        journal.set_zone("HL")
        _pass(journal, t0=20_000_000, trace=[])  # samples, but no trace given
        _pass(journal, t0=30_000_000)
        zones = {zone for (zone,) in journal.store.rows("SELECT zone FROM zone_strips")}
        assert zones == {"FRN"}
        assert journal.verify().ok


class FullDisk(sqlite3.Connection):
    full = False

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
        if FullDisk.full and sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)


def test_passes_that_end_while_the_disk_is_full_join_the_strip_in_order(
    journal_file: Path,
) -> None:
    def connect_full(path: Path) -> sqlite3.Connection:
        return sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, factory=FullDisk
        )

    FullDisk.full = False
    with Journal.open(journal_file, wall=_clock(), connect=connect_full) as journal:
        journal.open_session("C-0704", 1, consent=True, simulated=True)
        journal.set_zone("MID")
        _pass(journal, t0=0)
        FullDisk.full = True
        for n in (1, 2):  # each write fails and stays queued, in order
            uid = journal.store.new_uid()
            t0 = n * 10_000_000
            with pytest.raises(OSError):
                journal.begin_pass(started_t_us=t0, wall=journal.now, pen_uid=None, uid=uid)
            with pytest.raises(OSError):
                _end(journal, uid, t0=t0, mean=100.0 + n, trace=_trace(40 + n))
        assert journal.store.rows("SELECT passes FROM zone_strips") == [(1,)]
        FullDisk.full = False
        assert journal.store.retry()
        assert_derived_agree(journal)
        (passes,) = journal.store.rows("SELECT passes FROM zone_strips")[0]
        assert passes == 3
        assert journal.verify().ok


# ------------------------------------------------------------------ older journals


def test_a_v4_journal_gets_its_derived_tables_when_upgraded(recorded: Path, tmp_path: Path) -> None:
    """The recorded session's records copied into a journal of schema 4, as an older smpctl
    wrote it: the upgrade computes every derived table from them, to the same figures."""
    old = tmp_path / "v4.sqlite3"
    conn = sqlite3.connect(old, isolation_level=None)
    try:
        migrate(conn, 4)
        conn.execute("ATTACH DATABASE ? AS src", (str(recorded),))
        for table in (*RECORD_TABLES, "ledger", "meta"):
            conn.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")
        conn.execute("DETACH DATABASE src")
    finally:
        conn.close()
    with Journal.open(old) as journal:
        assert journal.store.schema_version == 5
        assert_derived_agree(journal)
        assert journal.verify().ok
        with Journal.open(recorded, writer=False) as original:
            tables = ("zone_totals", "zone_labels", "event_counts", "session_supplies")
            for table in tables:
                query = f"SELECT * FROM {table} ORDER BY 1, 2, 3"
                assert_same(journal.store.rows(query), original.store.rows(query))
        # strips are drawn from traces by the recording program: none yet for old sessions
        assert journal.store.rows("SELECT COUNT(*) FROM zone_strips") == [(0,)]


# ------------------------------------------------------------------ hand edits


@pytest.mark.parametrize(
    ("table", "edit"),
    [
        ("zone_totals", "UPDATE zone_totals SET strokes = strokes + 1 WHERE zone = 'HL'"),
        ("zone_totals", "UPDATE zone_totals SET needle_s = needle_s * 2 WHERE zone = 'FRN'"),
        ("zone_totals", "DELETE FROM zone_totals WHERE zone = 'CRN'"),
        ("zone_labels", "UPDATE zone_labels SET label = 'fine' WHERE kind = 'flag'"),
        ("event_counts", "UPDATE event_counts SET n = n - 1 WHERE kind = 'PEDAL_DOWN'"),
        ("session_supplies", "UPDATE session_supplies SET passes = 1"),
        ("zone_strips", "UPDATE zone_strips SET passes = passes + 1 WHERE zone = 'HL'"),
        ("zone_strips", "UPDATE zone_strips SET data = zeroblob(length(data)) WHERE zone = 'FRN'"),
        ("zone_strips", "UPDATE zone_strips SET data = ? WHERE zone = 'CRN'"),
    ],
)
def test_verify_notices_a_derived_table_edited_by_hand(
    recorded: Path, tmp_path: Path, table: str, edit: str
) -> None:
    copy = tmp_path / "edited.sqlite3"
    with sqlite3.connect(recorded) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
        params: tuple[object, ...] = ()
        if "?" in edit:  # a strip that reads well, one speed changed by 1 Hz
            (codec, data) = dst.execute(
                "SELECT codec, data FROM zone_strips WHERE zone = 'CRN'"
            ).fetchone()
            view = read_strip(data, codec)
            params = (view._replace(speed=[view.speed[0] + 100, *view.speed[1:]]).encode(),)
        assert dst.execute(edit, params).rowcount >= 1
    with Journal.open(copy, writer=False) as journal:
        problems = journal.verify().problems
    # named by table, session and zone; the records themselves verify
    assert problems and all(p.startswith(table) for p in problems), problems
    # each says how to mend it, and that mends it: the same derived rows as recorded
    assert all("smpctl logs verify --rebuild" in p for p in problems), problems
    assert main(["logs", "verify", "--rebuild", "--journal", str(copy)]) == 0
    with Journal.open(copy, writer=False) as journal:
        assert journal.verify().ok
    for derived in DERIVED_TABLES:
        query = f"SELECT * FROM {derived} ORDER BY 1, 2, 3"
        with sqlite3.connect(recorded) as a, sqlite3.connect(copy) as b:
            assert b.execute(query).fetchall() == a.execute(query).fetchall(), derived


# ------------------------------------------------------------------ the strip builder


def test_a_zone_strip_stays_bounded_however_many_passes() -> None:
    strip = ZoneStrip()
    trace = [11000 + i % 9 for i in range(96)]
    for number in range(1, 2001):
        strip.add(number, trace, [11000] * 96)
        view = strip.view()
        if number <= STRIP_SEGMENTS:
            assert view.counts == [1] * number and view.firsts == list(range(1, number + 1))
        else:
            assert STRIP_SEGMENTS / 2 <= len(view.firsts) <= STRIP_SEGMENTS
        assert view.passes == number and len(view.speed) <= STRIP_POINTS
        assert view.lasts[-1] == number and all(
            a + 1 == b for a, b in zip(view.lasts, view.firsts[1:], strict=False)
        )
    assert strip.width == 32
    assert sum(len(s.speed) for s in strip._segments) <= STRIP_SEGMENTS * MERGED_POINTS
    assert read_strip(view.encode()) == view
