"""Push, pull, idempotence, concurrency and resumption against a real PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from clinic_support import Server, ledger_size, wait_for, write_session

from smpctl.cli import main
from smpctl.clinic import remote_history, remote_passes, sync, verify_server
from smpctl.journal import Journal

SAMPLES_SQL = (
    "SELECT SUM((body->>'samples')::int) FROM smpctl.records "
    "WHERE record_table = 'telemetry_chunks'"
)


def assert_complete(server: Server, journals: list[Path], samples: int) -> None:
    """Every ledger entry once, every record's current version there, every sample once."""
    assert server.count("SELECT COUNT(*) FROM smpctl.ledger") == sum(map(ledger_size, journals))
    assert server.count(SAMPLES_SQL) == samples
    for path in journals:
        with Journal.open(path, writer=False) as journal:
            uids = {
                r["uid"]
                for table in ("sessions", "passes", "events", "telemetry_chunks", "clients")
                for r in journal.store.query(f"SELECT uid FROM {table}")
            }
        on_server = server.count(
            "SELECT COUNT(DISTINCT record_uid) FROM smpctl.records WHERE record_uid = ANY(%s)",
            list(uids),
        )
        assert on_server == len(uids)
    report = verify_server(server.admin_url)
    assert report.ok, report.problems
    assert all(j.awaiting == 0 for j in report.journals)


def test_push_puts_every_record_on_the_server_once(server: Server, tmp_path: Path) -> None:
    url = server.chair("a")
    journal = tmp_path / "a" / "journal.sqlite3"
    samples = write_session(journal, passes=3, samples=40)
    report = sync(journal, url)
    assert report.push.entries == ledger_size(journal)
    assert report.push.samples == samples
    assert report.push.pending == 0
    again = sync(journal, url)
    assert (again.push.entries, again.push.records, again.push.samples) == (0, 0, 0)
    assert_complete(server, [journal], samples)


def test_a_change_after_a_sync_arrives_as_a_new_version(server: Server, tmp_path: Path) -> None:
    url = server.chair("a")
    journal = tmp_path / "journal.sqlite3"
    samples = write_session(journal, passes=2)
    sync(journal, url)
    with Journal.open(journal) as j:
        pass_uid = j.passes()[0].uid
        j.flag_pass("flagged", "redo next session", pass_uid=pass_uid)
    report = sync(journal, url)
    assert (report.push.entries, report.push.records) == (1, 1)
    assert server.count("SELECT COUNT(*) FROM smpctl.records WHERE record_uid = %s", pass_uid) == 2
    assert_complete(server, [journal], samples)


def test_pull_brings_a_returning_clients_sessions_from_another_chair(
    server: Server, tmp_path: Path
) -> None:
    a, b = server.chair("a"), server.chair("b")
    ja, jb = tmp_path / "a" / "journal.sqlite3", tmp_path / "b" / "journal.sqlite3"
    write_session(ja, "C-0042", session_number=1, passes=3)
    write_session(ja, "C-0099", session_number=1, passes=1, start_wall=1_700_100_000.5)
    write_session(jb, "C-0042", session_number=2, passes=2, start_wall=1_702_000_000.5)
    sync(ja, a)
    report = sync(jb, b, pull=["C-0042"])
    assert report.pulled_clients == ("C-0042",)
    history = remote_history("C-0042", jb)
    assert [(s.session_number, s.passes, s.practitioner) for s in history] == [(1, 3, "Dr A")]
    assert history[0].zones == ("CRN", "FRN", "HL")
    passes = remote_passes(history[0].uid, jb)
    assert [p.number for p in passes] == [1, 2, 3]
    assert passes[0].events == ("PEDAL_DOWN", "PEDAL_UP")
    assert remote_history("C-0099", jb) == []  # not asked for
    assert sync(jb, b, pull=["C-0042"]).pulled_records == 0  # nothing new: nothing rewritten


def test_three_chairs_sync_at_once(server: Server, tmp_path: Path) -> None:
    chairs = []
    samples = 0
    for name in ("a", "b", "c"):
        path = tmp_path / name / "journal.sqlite3"
        samples += write_session(path, f"C-{name}", passes=4, samples=60)
        chairs.append((path, server.chair(name)))
    failures: list[BaseException] = []

    def run(path: Path, url: str) -> None:
        try:
            sync(path, url, batch_entries=7)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=c) for c in chairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not failures
    assert_complete(server, [c[0] for c in chairs], samples)


def test_one_journal_synced_twice_at_once_lands_once(server: Server, tmp_path: Path) -> None:
    url = server.chair("a")
    journal = tmp_path / "journal.sqlite3"
    samples = write_session(journal, passes=5, samples=60)
    reports = []

    def run() -> None:
        reports.append(sync(journal, url, batch_entries=5))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(reports) == 2
    assert sum(r.push.entries for r in reports) == ledger_size(journal)
    assert_complete(server, [journal], samples)


def _sync_process(journal: Path, url: str, batch: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smpctl",
            "sync",
            "--server",
            url,
            "--journal",
            str(journal),
            "--batch",
            str(batch),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SMPCTL_CLINIC": ""},
    )


def test_sync_killed_mid_transaction_resumes_with_nothing_lost_or_twice(
    server: Server, tmp_path: Path
) -> None:
    url = server.chair("a")
    role = f"{server.db}_a"
    journal = tmp_path / "journal.sqlite3"
    samples = write_session(journal, passes=4, samples=80)
    with server.admin() as admin, server.admin() as watcher:
        # hold the records table so the sync's first batch stops inside its transaction,
        # after its ledger entries went in
        admin.execute("BEGIN")
        admin.execute("LOCK TABLE smpctl.records IN SHARE MODE")
        proc = _sync_process(journal, url, batch=10)

        def waiting() -> bool:  # asked outside the open transaction (stats are per snapshot)
            row = watcher.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE usename = %s "
                "AND wait_event_type = 'Lock'",
                (role,),
            ).fetchone()
            return bool(row and row[0])

        assert wait_for(waiting, 20), proc.communicate(timeout=5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        admin.execute("COMMIT")
    assert wait_for(
        lambda: server.count("SELECT COUNT(*) FROM pg_stat_activity WHERE usename = %s", role) == 0
    )
    assert server.count("SELECT COUNT(*) FROM smpctl.ledger") == 0  # rolled back whole
    # killed at random points too, then run to the end
    for delay in (0.4, 0.7, 1.0):
        proc = _sync_process(journal, url, batch=3)
        try:
            proc.wait(delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
    done = _sync_process(journal, url, batch=50)
    out, err = done.communicate(timeout=60)
    assert done.returncode == 0, err
    assert json.loads(out)["push"]["pending"] == 0
    assert_complete(server, [journal], samples)


def test_cli_runs_init_add_chair_sync_and_verify(
    server: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMPCTL_CHAIR_PASSWORD", "s3cret")
    monkeypatch.setenv("SMPCTL_CLINIC", "")
    role = f"{server.db}_cli"
    assert main(["server", "init", server.admin_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["found"] == 1
    assert main(["server", "add-chair", server.admin_url, role, "--clinic", "north"]) == 0
    assert "s3cret" not in capsys.readouterr().out
    journal = tmp_path / "journal.sqlite3"
    write_session(journal)
    monkeypatch.setenv("SMPCTL_SERVER", server.cluster.url(server.db, role, "s3cret"))
    assert main(["sync", "--journal", str(journal), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["chair"] == role and out["push"]["pending"] == 0
    assert main(["server", "verify", server.admin_url]) == 0
    assert "chain intact" in capsys.readouterr().out
    assert main(["server", "chairs", server.admin_url, "--json"]) == 0
    assert [c["name"] for c in json.loads(capsys.readouterr().out)] == [role]


def test_rows_keep_their_exact_types_through_the_server(server: Server) -> None:
    from smpctl.clinic.row_codec import decode_row, encode_row
    from smpctl.journal.chain import row_digest

    row = {
        "uid": "u-1",
        "a": 1e16,
        "b": -0.0,
        "c": 0.1,
        "d": 1e-7,
        "e": 2**62,
        "f": "ünïcode ✓",
        "g": None,
        "h": b"\x00\x01raw",
        "i": 1712345678.123456,
        "j": float("inf"),
        "k": 3.0,
    }
    body, blob = encode_row(row)
    with psycopg.connect(server.admin_url) as conn:
        back = conn.execute("SELECT %s::jsonb::text, %s::bytea", (body, blob)).fetchone()
    assert back is not None
    assert row_digest(decode_row(back[0], back[1])) == row_digest(row)


def test_clinic_wide_sessions_for_the_review_commands(server: Server, tmp_path: Path) -> None:
    from smpctl.clinic import server_passes, server_sessions

    a, b = server.chair("a"), server.chair("b")
    write_session(tmp_path / "a.sqlite3", "C-1", passes=2)
    write_session(tmp_path / "b.sqlite3", "C-1", session_number=2, start_wall=1_705_000_000.5)
    write_session(tmp_path / "c.sqlite3", "C-2", passes=1, start_wall=1_706_000_000.5)
    sync(tmp_path / "a.sqlite3", a)
    sync(tmp_path / "b.sqlite3", b)
    found = server_sessions(b, "C-1")
    assert [(s.session_number, s.passes) for s in found] == [(1, 2), (2, 3)]
    assert len(server_passes(server.admin_url, found[0].uid)) == 2
    assert [s.client for s in server_sessions(server.admin_url)] == ["C-1", "C-1"]


def test_logs_list_and_verify_work_on_the_clinic_wide_records(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = server.chair("a"), server.chair("b")
    write_session(tmp_path / "a.sqlite3", "C-1", passes=2)
    write_session(tmp_path / "b.sqlite3", "C-2", session_number=2, start_wall=1_705_000_000.5)
    sync(tmp_path / "a.sqlite3", a)
    sync(tmp_path / "b.sqlite3", b)
    assert main(["logs", "list", "--server", b, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(s["client"] for s in listed["sessions"]) == ["C-1", "C-2"]
    assert main(["logs", "list", "--server", b, "--client", "C-2"]) == 0
    out = capsys.readouterr().out
    assert "C-2" in out and "C-1" not in out
    assert main(["logs", "verify", "--server", server.admin_url]) == 0
    assert "chain intact" in capsys.readouterr().out
