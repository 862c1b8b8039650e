"""The journal file: schema upgrades, chained records, compact telemetry, permissions,
privacy, and writing through a full disk."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from smpctl import errors
from smpctl.journal import EventSource, Journal, Outcome, resolve_journal_path
from smpctl.journal.aggregates import PassAggregates
from smpctl.journal.schema import LATEST, V1
from smpctl.journal.telemetry_codec import pack_samples, unpack_samples
from smpctl.protocol import Status, Telemetry
from smpctl.zones import ScarKind, ZoneCode

FIXTURE_V1 = Path(__file__).with_name("journal_v1.sql")
RUNNING = int(Status.PEDAL_DOWN | Status.ARMED | Status.RUN_ENABLED | Status.MOTOR_ON)


def samples(n: int, t0: int = 1000, seq0: int = 0) -> list[Telemetry]:
    return [
        Telemetry(
            (t0 + i * 1000) & 0xFFFFFFFF,
            seq0 + i,
            11000 + (i % 7) * 10,
            11000,
            700 + i % 50,
            12000,
            2500 + i % 30,
            (0xFFFFFFF0 + i) & 0xFFFFFFFF,  # the stroke counter wraps during the pass
            1000,
            255,
            RUNNING,
            0,
        )
        for i in range(n)
    ]


def a_pass(journal: Journal, n: int = 100) -> str:
    uid = journal.begin_pass(started_t_us=1000, wall=journal.now, pen_uid=None)
    batch = samples(n)
    agg = PassAggregates()
    agg.add(batch)
    journal.stage_samples(uid, batch, journal.now)
    journal.end_pass(
        uid,
        outcome=Outcome.COMPLETE,
        detail=None,
        ended_t_us=batch[-1].t_us,
        wall=journal.now,
        aggregates=agg.columns(),
        events=[],
    )
    return uid


def test_a_journal_written_by_the_first_version_is_upgraded_and_still_verifies(
    journal_file: Path,
) -> None:
    journal_file.parent.mkdir(mode=0o700)
    with sqlite3.connect(journal_file) as conn:
        conn.executescript(FIXTURE_V1.read_text())
    with Journal.open(journal_file) as journal:
        assert journal.store.schema_version == LATEST > 1
        assert journal.verify().ok
        (old,) = journal.passes()
        assert old.zone == "HL" and old.outcome is Outcome.COMPLETE and old.flag == "redo"
        assert old.samples == 50 and len(journal.pass_samples(old.uid)) == 50
        assert old.profile_hash is None
        journal.set_profile("sha256:abc", {"speed_hz": 110.0})
        journal.set_zone(ZoneCode.CRN)
        new = a_pass(journal)
        assert journal.pass_record(new).profile_hash == "sha256:abc"
        assert journal.verify().ok


def test_the_v1_fixture_is_what_the_v1_schema_creates() -> None:
    conn = sqlite3.connect(":memory:")
    conn.executescript(FIXTURE_V1.read_text())
    fixture_tables = {
        r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")
    }
    assert {" ".join(s.split()) for s in V1} <= {" ".join(s.split()) for s in fixture_tables}


def test_a_journal_from_a_newer_smpctl_is_refused_untouched(journal_file: Path) -> None:
    Journal.open(journal_file).close()
    with sqlite3.connect(journal_file) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(errors.JournalSchemaError, match="update smpctl"):
        Journal.open(journal_file)


def test_telemetry_is_stored_in_compact_chunks_and_read_back_exactly(journal_file: Path) -> None:
    batch = samples(3000)
    assert unpack_samples(pack_samples(batch), len(batch)) == batch
    with Journal.open(journal_file) as journal:
        uid = journal.begin_pass(started_t_us=1000, wall=1.0, pen_uid=None)
        sent = samples(10000)
        for i in range(0, 10000, 250):  # as the recorder stages it, batch by batch
            journal.stage_samples(uid, sent[i : i + 250], float(i))
        journal.commit()
        stored = journal.pass_samples(uid)
        chunks = journal.store.query("SELECT samples, length(data) AS size FROM telemetry_chunks")
    assert stored == sent
    assert len(chunks) < 10  # chunks, not rows per sample
    assert sum(c["size"] for c in chunks) < 10000 * 16  # a sample is 32 bytes on the wire


def test_aggregates_are_written_when_the_pass_closes(journal_file: Path) -> None:
    with Journal.open(journal_file) as journal:
        record = journal.pass_record(a_pass(journal, 100))
    batch = samples(100)
    assert record.samples == 100
    assert record.speed_min_hz == 110.0 and record.speed_max_hz == 110.6
    assert record.speed_mean_hz == pytest.approx(sum(s.speed_hz for s in batch) / 100)
    assert record.strokes == 99  # across the u32 wrap
    assert record.peak_current_a == 0.749 and record.max_temp_c == 25.29


def test_files_and_directory_are_readable_by_the_user_only(journal_file: Path) -> None:
    old = os.umask(0o022)
    try:
        with Journal.open(journal_file) as journal:
            a_pass(journal)
            files = [p for p in journal_file.parent.iterdir()]
            assert any(p.name.endswith("-wal") for p in files)
            for p in files:
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name
        assert stat.S_IMODE(journal_file.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(journal_file.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_the_path_comes_from_the_option_then_the_environment(tmp_path: Path) -> None:
    assert resolve_journal_path("x.db", env={"SMPCTL_JOURNAL": "y.db"}) == Path("x.db")
    assert resolve_journal_path(None, env={"SMPCTL_JOURNAL": "y.db"}) == Path("y.db")
    assert resolve_journal_path(None, env={}).name == "journal.sqlite3"


def test_a_second_recording_program_is_refused_while_readers_are_not(journal_file: Path) -> None:
    with Journal.open(journal_file) as journal:
        a_pass(journal)
        with pytest.raises(errors.JournalLockedError, match="Close the other program"):
            Journal.open(journal_file)
        with Journal.open(journal_file, writer=False) as reader:
            assert len(reader.passes()) == 1


def test_verify_reports_an_edited_a_deleted_and_a_smuggled_record(journal_file: Path) -> None:
    with Journal.open(journal_file) as journal:
        journal.open_session("C-7", 1, consent=True, simulated=True)
        edited = a_pass(journal)
        deleted = a_pass(journal)
        assert journal.verify().ok
    with sqlite3.connect(journal_file) as conn:
        conn.execute("UPDATE passes SET strokes = strokes + 1 WHERE uid = ?", (edited,))
        conn.execute("DELETE FROM passes WHERE uid = ?", (deleted,))
        conn.execute(
            "INSERT INTO events (uid, source, kind, wall) VALUES ('forged', 'pen', 'X', 1.0)"
        )
    with Journal.open(journal_file, writer=False) as journal:
        report = journal.verify()
    assert not report.ok
    text = "\n".join(report.problems)
    assert f"passes record {edited} was edited" in text
    assert f"passes record {deleted} was deleted" in text
    assert "events record forged is not in the chain" in text


def test_verify_reports_a_broken_chain(journal_file: Path) -> None:
    with Journal.open(journal_file) as journal:
        a_pass(journal)
        a_pass(journal)
    with sqlite3.connect(journal_file) as conn:
        conn.execute("DELETE FROM ledger WHERE seq = 2")
        conn.execute("DELETE FROM ledger WHERE seq = (SELECT MAX(seq) FROM ledger)")
    with Journal.open(journal_file, writer=False) as journal:
        text = "\n".join(journal.verify().problems)
    assert "ledger entries 2..2 were deleted" in text
    assert "entries at the end were deleted" in text


class FlakyDisk(sqlite3.Connection):
    """A connection on a disk that can be made full: writes fail as SQLite reports it."""

    full = False

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
        if FlakyDisk.full and sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)


def flaky_connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False, factory=FlakyDisk)


def test_a_full_disk_keeps_records_in_memory_and_writes_them_later(journal_file: Path) -> None:
    FlakyDisk.full = False
    with Journal.open(journal_file, connect=flaky_connect) as journal:
        journal.open_session("C-9", 2, consent=True, simulated=True)
        journal.set_zone("NAP", ScarKind.SCR_FUE)
        uid = journal.begin_pass(started_t_us=0, wall=1.0, pen_uid=None)
        FlakyDisk.full = True
        journal.stage_samples(uid, samples(500), 2.0)
        with pytest.raises(errors.JournalFullError) as info:
            journal.record_event(source=EventSource.PEN, kind="PEDAL_UP", wall=2.0, pass_uid=uid)
        message = str(info.value)
        assert "disk is full" in message and "Free space" in message
        assert "kept in memory" in message and "needle cannot run" in message
        assert isinstance(info.value, OSError)
        assert journal.store.pending == 2  # a telemetry chunk and the event
        FlakyDisk.full = False
        assert journal.store.retry()
        assert journal.store.pending == 0
        assert len(journal.pass_samples(uid)) == 500
        assert [e["kind"] for e in journal.events(pass_uid=uid)] == ["PEDAL_UP"]
        assert journal.pass_record(uid).scar == "SCR_FUE"
        assert journal.verify().ok


def test_no_client_data_in_errors_or_log_output(
    journal_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_name, secret_note = "Jane Q. Example", "allergic to nickel"
    FlakyDisk.full = False
    journal = Journal.open(journal_file, connect=flaky_connect)
    journal.open_session(
        "C-1", 1, consent=True, simulated=True, display_name=secret_name, notes=secret_note
    )
    journal.begin_pass(started_t_us=0, wall=1.0, pen_uid=None)
    FlakyDisk.full = True
    caught: list[BaseException] = []
    for pass_uid in (None, "no-such-pass"):
        try:
            journal.flag_pass("x", secret_note, pass_uid=pass_uid)
        except errors.JournalError as exc:
            caught.append(exc)
    try:
        journal.close_session(notes=secret_note)
    except errors.JournalWriteError as exc:
        caught.append(exc)
    FlakyDisk.full = False
    journal.close()
    with Journal.open(journal_file, writer=False) as reader:
        listed = repr(reader.sessions()) + repr(reader.passes()) + repr(reader.verify())
    texts = [str(e) + repr(e) for e in caught] + [caplog.text, listed]
    assert caught
    for text in texts:
        assert secret_name not in text and secret_note not in text
