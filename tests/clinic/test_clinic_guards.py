"""What the database enforces and what a chair is told: row-level security, append-only,
wrong password, unreachable server, schema versions, a chain that does not verify."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from clinic_support import Server, write_session

from smpctl.clinic import ChairState, pending_entries, server_label, sync, verify_server
from smpctl.clinic.server_schema import LATEST
from smpctl.errors import (
    ChainVerifyError,
    NotAChairError,
    ServerAuthError,
    ServerRefusedError,
    ServerSchemaOutdatedError,
    ServerSchemaTooNewError,
    ServerUnreachableError,
)


def _count(url: str, query: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def test_a_chair_reads_its_own_clinic_only(server: Server, tmp_path: Path) -> None:
    a, b, far = server.chair("a"), server.chair("b"), server.chair("far", clinic="south")
    write_session(tmp_path / "a.sqlite3", "C-1")
    write_session(tmp_path / "far.sqlite3", "C-1", passes=1)
    sync(tmp_path / "a.sqlite3", a)
    sync(tmp_path / "far.sqlite3", far)
    total = server.count("SELECT COUNT(*) FROM smpctl.records")
    south = _count(far, "SELECT COUNT(*) FROM smpctl.records")
    assert 0 < south < total
    assert _count(b, "SELECT COUNT(*) FROM smpctl.records") == total - south  # same clinic
    write_session(tmp_path / "b.sqlite3", "C-1", session_number=2, start_wall=1_705_000_000.5)
    sync(tmp_path / "b.sqlite3", b, pull=["C-1"])
    with ChairState.beside(tmp_path / "b.sqlite3") as state:
        chairs = {r.chair for r in state.pulled("sessions")}
    assert chairs == {f"{server.db}_a"}  # not the other clinic's


def test_a_chair_cannot_insert_as_another_chair(server: Server, tmp_path: Path) -> None:
    a, _b = server.chair("a"), server.chair("b")
    write_session(tmp_path / "b.sqlite3")
    b_id = server.count("SELECT id FROM smpctl.chairs WHERE name LIKE '%%_b'")
    with psycopg.connect(a) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("INSERT INTO smpctl.journals (id, chair_id) VALUES ('forged', %s)", (b_id,))


def test_a_chair_cannot_push_another_chairs_journal(server: Server, tmp_path: Path) -> None:
    a, b = server.chair("a"), server.chair("b")
    journal = tmp_path / "journal.sqlite3"
    write_session(journal)
    sync(journal, a)
    with pytest.raises(ServerRefusedError, match="syncs as chair"):
        sync(journal, b)


def test_synced_records_cannot_be_changed_even_by_the_owner(server: Server, tmp_path: Path) -> None:
    a = server.chair("a")
    write_session(tmp_path / "journal.sqlite3")
    sync(tmp_path / "journal.sqlite3", a)
    with psycopg.connect(a) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE smpctl.records SET body = '{}'")
    for statement in (
        "UPDATE smpctl.records SET body = '{}'",
        "DELETE FROM smpctl.ledger",
        "TRUNCATE smpctl.records CASCADE",
        "UPDATE smpctl.journals SET chair_id = chair_id",
    ):
        with server.admin() as owner, pytest.raises(psycopg.Error, match="append-only"):
            owner.execute(statement)
    assert verify_server(server.admin_url).ok


def test_wrong_password_is_refused_clearly(server: Server, tmp_path: Path) -> None:
    server.chair("a")
    write_session(tmp_path / "journal.sqlite3")
    bad = server.cluster.url(server.db, f"{server.db}_a", "not-the-password")
    with pytest.raises(ServerAuthError, match="wrong password") as info:
        sync(tmp_path / "journal.sqlite3", bad)
    assert "not-the-password" not in str(info.value)


def test_an_unreachable_server_is_reported_and_the_journal_kept(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    write_session(journal)
    url = f"postgresql://chair@/clinic?host={tmp_path / 'nowhere'}&connect_timeout=2"
    with pytest.raises(ServerUnreachableError, match="keeps recording"):
        sync(journal, url)
    with ChairState.beside(journal) as state:
        assert "cannot reach" in (state.server_state(server_label(url)).last_error or "")
    assert pending_entries(journal, url) > 0


def test_a_newer_server_schema_is_refused_before_anything_is_written(
    server: Server, tmp_path: Path
) -> None:
    a = server.chair("a")
    with server.admin() as owner:
        owner.execute("UPDATE smpctl.meta SET value = %s", (str(LATEST + 1),))
    write_session(tmp_path / "journal.sqlite3")
    with pytest.raises(ServerSchemaTooNewError, match="update smpctl on this chair"):
        sync(tmp_path / "journal.sqlite3", a)
    assert server.count("SELECT COUNT(*) FROM smpctl.ledger") == 0


def test_an_uninitialised_server_says_to_run_init(server: Server, tmp_path: Path) -> None:
    with server.admin() as owner:
        owner.execute("CREATE DATABASE empty_" + server.db)
    url = server.cluster.url("empty_" + server.db)
    write_session(tmp_path / "journal.sqlite3")
    with pytest.raises(ServerSchemaOutdatedError, match="smpctl server init"):
        sync(tmp_path / "journal.sqlite3", url)
    with server.admin() as owner:
        owner.execute("DROP DATABASE empty_" + server.db)


def test_the_administrator_is_not_a_chair(server: Server, tmp_path: Path) -> None:
    write_session(tmp_path / "journal.sqlite3")
    with pytest.raises(NotAChairError, match="add-chair"):
        sync(tmp_path / "journal.sqlite3", server.admin_url)


def test_a_journal_edited_at_the_chair_is_pushed_up_to_the_break(
    server: Server, tmp_path: Path
) -> None:
    a = server.chair("a")
    journal = tmp_path / "journal.sqlite3"
    write_session(journal, passes=3)
    with sqlite3.connect(journal) as raw:
        (uid,) = raw.execute("SELECT uid FROM passes ORDER BY rowid LIMIT 1 OFFSET 1").fetchone()
        (last,) = raw.execute("SELECT MAX(seq) FROM ledger WHERE record_uid = ?", (uid,)).fetchone()
        raw.execute("UPDATE passes SET strokes = 1 WHERE uid = ?", (uid,))
    with pytest.raises(ChainVerifyError, match=f"entry {last}: passes record {uid} was edited"):
        sync(journal, a, batch_entries=4)
    assert server.count("SELECT MAX(seq) FROM smpctl.ledger") == last - 1
    assert verify_server(server.admin_url).ok  # what the server took verifies


def test_server_verify_finds_records_changed_behind_the_triggers(
    server: Server, tmp_path: Path
) -> None:
    a = server.chair("a")
    write_session(tmp_path / "journal.sqlite3")
    sync(tmp_path / "journal.sqlite3", a)
    with server.admin() as owner:  # a superuser switching triggers off
        owner.execute("SET session_replication_role = replica")
        owner.execute(
            "UPDATE smpctl.records SET body = jsonb_set(body, '{strokes}', '1') "
            "WHERE record_table = 'passes'"
        )
        owner.execute("DELETE FROM smpctl.ledger WHERE seq = 5")
    report = verify_server(server.admin_url)
    assert not report.ok
    text = "\n".join(report.problems)
    assert "passes record" in text and "was edited on the server" in text
    assert "ledger entries 5..5 are missing" in text


def test_no_server_configured_says_how_to_name_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from smpctl.clinic import resolve_server_url
    from smpctl.errors import ServerNotConfiguredError

    with pytest.raises(ServerNotConfiguredError, match="SMPCTL_SERVER"):
        resolve_server_url(None, env={})
    assert resolve_server_url(None, env={"SMPCTL_SERVER": "postgresql://x@h/db"}).endswith("db")
