"""The dashboard's background sync: state visible, never in the caller's way."""

from __future__ import annotations

import time
from pathlib import Path

from clinic_support import Server, wait_for, write_session

from smpctl.clinic import BackgroundSync, remote_history


def test_background_sync_pushes_pulls_and_shows_its_state(server: Server, tmp_path: Path) -> None:
    a, b = server.chair("a"), server.chair("b")
    write_session(tmp_path / "a.sqlite3", "C-5")
    write_session(tmp_path / "b.sqlite3", "C-5", session_number=2, start_wall=1_705_000_000.5)
    syncer_a = BackgroundSync(tmp_path / "a.sqlite3", a, interval_s=30).start()
    assert syncer_a.wait_idle(20)
    syncer_a.stop()
    syncer = BackgroundSync(tmp_path / "b.sqlite3", b, interval_s=30)
    assert syncer.state().last_sync_wall is None
    started = time.monotonic()
    syncer.start()
    syncer.request_pull("C-5")
    assert time.monotonic() - started < 0.5  # never blocks the caller
    assert wait_for(
        lambda: [s.session_number for s in remote_history("C-5", tmp_path / "b.sqlite3")] == [1], 20
    )
    state = syncer.state()
    assert wait_for(lambda: syncer.state().pending == 0)
    assert state.last_error is None and state.syncs >= 1
    syncer.stop()


def test_background_sync_reports_an_unreachable_server_and_the_pending_count(
    tmp_path: Path,
) -> None:
    write_session(tmp_path / "journal.sqlite3")
    url = f"postgresql://chair@/clinic?host={tmp_path / 'nowhere'}&connect_timeout=2"
    syncer = BackgroundSync(tmp_path / "journal.sqlite3", url, interval_s=30).start()
    assert syncer.wait_idle(20)
    syncer.stop()
    state = syncer.state()
    assert state.last_sync_wall is None
    assert state.last_error is not None and "cannot reach" in state.last_error
    assert state.pending is not None and state.pending > 0
    assert state.failures >= 1 and not state.running


async def test_the_dashboard_shows_a_client_treated_at_another_chair_and_its_sync_state(
    server: Server, tmp_path: Path
) -> None:
    from smpctl.client import Pen
    from smpctl.journal import Journal
    from smpctl.tui.app import Dashboard

    a, b = server.chair("a"), server.chair("b")
    write_session(tmp_path / "a.sqlite3", "C-7")
    pusher = BackgroundSync(tmp_path / "a.sqlite3", a, interval_s=30).start()
    assert pusher.wait_idle(20)
    pusher.stop()

    def no_pen() -> Pen:
        raise AssertionError("not needed")

    with Journal.open(tmp_path / "b.sqlite3") as journal:
        syncer = BackgroundSync(journal.path, b, interval_s=30).start()
        app = Dashboard(no_pen, journal=journal, simulated=True, sync=syncer)
        app._history("C-7")  # asks the background sync to pull this client
        assert wait_for(lambda: "#1" in app._history("C-7"), 20)
        assert "Last session (#1) per zone" in app._history("C-7")
        assert wait_for(lambda: "synced" in app.sync_text(), 20)
        assert "pending" in app.sync_text()
        syncer.stop()
        app.stopper.close()
