"""The recorder following the simulated pen: passes, zones, a pulled cable, a full disk,
and a crash."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from journal_support import hold, wait_until

import smpctl.sim as sim
from smpctl import errors
from smpctl.client import HostEvent, LinkState, Pen, connect
from smpctl.journal import Journal, Outcome, Recorded, Recorder
from smpctl.protocol import SimAction, Status

pytestmark = pytest.mark.slow


def start_running(pen: Pen) -> None:
    pen.set_telemetry_rate(500)
    pen.set_speed(110)
    pen.arm()
    pen.run()


def test_events_and_boundaries_are_on_disk_before_they_are_reported(
    journal_file: Path, sim_name: str
) -> None:
    seen: list[tuple[Recorded, bool]] = []

    def on_disk(record: Recorded) -> None:
        column = "kind" if record.kind == "event" else "outcome"
        table = "events" if record.kind == "event" else "passes"
        with sqlite3.connect(journal_file) as other:  # another process's view of the file
            row = other.execute(f"SELECT {column} FROM {table} WHERE uid = ?", (record.uid,))
            found = row.fetchone()
        closed = record.kind != "pass_closed" or (found is not None and found[0] is not None)
        seen.append((record, found is not None and closed))

    with Journal.open(journal_file) as journal, connect(f"sim://{sim_name}") as pen:
        recorder = Recorder(journal, pen).start()
        recorder.subscribe(on_disk)
        journal.set_zone("MID")
        start_running(pen)
        pen.sim(SimAction.PEDAL, 1)
        hold(pen, 0.2)
        pen.sim(SimAction.PEDAL, 0)
        hold(pen, 0.1)
        recorder.sync()
        recorder.stop()
    kinds = [r.kind for r, _ in seen]
    assert "pass_opened" in kinds and "pass_closed" in kinds and "event" in kinds
    assert all(ok for _, ok in seen)


def test_a_zone_change_during_a_pass_splits_it(journal_file: Path, sim_name: str) -> None:
    with Journal.open(journal_file) as journal, connect(f"sim://{sim_name}") as pen:
        recorder = Recorder(journal, pen).start()
        journal.open_session("C-1", 1, consent=True, simulated=True)
        journal.set_zone("CRN")
        start_running(pen)
        pen.sim(SimAction.PEDAL, 1)
        hold(pen, 0.3)
        journal.set_zone("OCC", "SCR_FUT")
        hold(pen, 0.3)
        pen.sim(SimAction.PEDAL, 0)
        hold(pen, 0.1)
        recorder.sync()
        recorder.stop()
        first, second = journal.passes()
        a, b = journal.pass_samples(first.uid), journal.pass_samples(second.uid)
    assert (first.zone, first.scar, first.outcome) == ("CRN", None, Outcome.ZONE_CHANGED)
    assert (second.zone, second.scar, second.outcome) == ("OCC", "SCR_FUT", Outcome.COMPLETE)
    assert second.continues_uid == first.uid
    assert a[-1].sample_seq + 1 == b[0].sample_seq  # not a sample lost or counted twice
    assert first.samples == len(a) > 50 and second.samples == len(b) > 50


def test_aggregates_match_the_pens_telemetry(journal_file: Path, sim_name: str) -> None:
    with Journal.open(journal_file) as journal, connect(f"sim://{sim_name}") as pen:
        recorder = Recorder(journal, pen).start()
        journal.set_zone("FRN")
        start_running(pen)
        cursor = pen.telemetry.cursor
        pen.sim(SimAction.PEDAL, 1)
        hold(pen, 0.6)
        pen.sim(SimAction.PEDAL, 0)
        hold(pen, 0.15)
        recorder.sync()
        sent = pen.telemetry.since(cursor).items
        with pen.link.port.pen_lock:  # type: ignore[union-attr]
            truth = pen.link.port.pen.truth()  # type: ignore[union-attr]
        recorder.stop()
        (record,) = journal.passes()
        stored = journal.pass_samples(record.uid)
    in_pass = [s for s in sent if s.pedal_down]
    assert stored == in_pass  # exactly the pedal-down samples, in order
    steady = [s.speed_hz for s in in_pass if s.motor_on and not s.status & Status.IN_RAMP]
    assert record.samples == len(in_pass)
    assert record.speed_mean_hz == pytest.approx(sum(steady) / len(steady))
    assert (record.speed_min_hz, record.speed_max_hz) == (min(steady), max(steady))
    assert record.peak_current_a == max(s.current_a for s in in_pass)
    assert record.max_temp_c == max(s.temp_c for s in in_pass)
    before = [s for s in sent if not s.pedal_down and s.sample_seq < in_pass[0].sample_seq]
    baseline = before[-1].strokes if before else in_pass[0].strokes
    assert record.strokes == in_pass[-1].strokes - baseline
    assert record.strokes <= truth.strokes
    assert 0.6 * 110 * 0.4 < record.strokes < 0.75 * 110
    assert record.outcome is Outcome.COMPLETE
    assert record.events[0] == "PEDAL_DOWN" and "PEDAL_UP" in record.events


def test_a_pulled_cable_interrupts_the_pass_and_the_next_one_links_back(
    journal_file: Path, sim_name: str
) -> None:
    with Journal.open(journal_file) as journal, connect(f"sim://{sim_name}") as pen:
        recorder = Recorder(journal, pen).start()
        journal.set_zone("PAR_L")
        start_running(pen)
        pen.sim(SimAction.PEDAL, 1)
        hold(pen, 0.3)
        sim.unplug(sim_name)
        assert pen.wait_for_state(LinkState.LOST, 1.0)
        hold(pen, 0.1)
        sim.plug(sim_name)
        assert wait_until(lambda: pen.state is LinkState.CONNECTED, 3.0, pen)
        hold(pen, 0.1)  # the foot is still on the pedal: the pass goes on, needle stopped
        pen.sim(SimAction.PEDAL, 0)
        hold(pen, 0.1)
        start_running(pen)
        pen.sim(SimAction.PEDAL, 1)
        hold(pen, 0.3)
        pen.sim(SimAction.PEDAL, 0)
        hold(pen, 0.1)
        recorder.sync()
        recorder.stop()
        lost, after, new = journal.passes()
        kinds = [e["kind"] for e in journal.events()]
    assert lost.outcome is Outcome.INTERRUPTED_LINK and "link_lost" in lost.events
    assert lost.samples and lost.samples > 50
    assert after.continues_uid == lost.uid and after.outcome is Outcome.COMPLETE
    assert after.strokes == 0  # reconnected stopped and disarmed
    assert new.continues_uid is None and new.strokes
    assert "link_lost" in kinds and "link_reconnected" in kinds


class FlakyDisk(sqlite3.Connection):
    full = False

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
        if FlakyDisk.full and sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)


def test_a_full_disk_stops_the_pen_says_what_to_do_and_writes_everything_later(
    journal_file: Path, sim_name: str
) -> None:
    FlakyDisk.full = False

    def connect_flaky(path: Path) -> sqlite3.Connection:
        return sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, factory=FlakyDisk
        )

    journal = Journal.open(journal_file, connect=connect_flaky)
    with connect(f"sim://{sim_name}") as pen:
        notices: list[object] = []
        pen.subscribe(notices.append)
        recorder = Recorder(journal, pen, retry_s=0.1).start()
        journal.set_zone("NAP")
        start_running(pen)
        pen.sim(SimAction.PEDAL, 1)
        hold(pen, 0.3)
        FlakyDisk.full = True
        assert wait_until(lambda: recorder.error is not None, 1.0, pen)
        assert wait_until(lambda: not pen.latest or not pen.latest.motor_on, 1.0, pen)
        told = [n for n in notices if isinstance(n, HostEvent) and n.kind == "journal_unwritable"]
        assert told and "disk is full" in told[0].message and "Free space" in told[0].message
        assert "pen has been stopped" in told[0].message
        assert isinstance(recorder.error, errors.JournalFullError)
        pen.sim(SimAction.PEDAL, 0)
        hold(pen, 0.2)
        assert journal.store.pending > 0
        FlakyDisk.full = False
        assert wait_until(lambda: recorder.error is None, 2.0, pen)
        recorder.sync()
        recorder.stop()
    (record,) = journal.passes()
    kinds = [e["kind"] for e in journal.events()]
    journal.close()
    assert record.outcome is Outcome.STOPPED and record.ended_wall is not None
    assert "PEDAL_UP" in kinds and "journal_unwritable" in kinds and "journal_writable" in kinds
    with Journal.open(journal_file, writer=False) as reader:
        assert reader.verify().ok


def test_a_killed_recorder_leaves_a_pass_closed_as_interrupted_at_its_last_sample(
    journal_file: Path,
) -> None:
    """The done-when session: zone changes, a pulled cable, then a crash with the pedal
    down (SIGKILL of the recording process)."""
    script = Path(__file__).with_name("scripted_session.py")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(journal_file)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line.split())
        if line.startswith("crash-point"):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(5)
    open_now = {uid for kind, uid, *_ in lines[:-1] if kind == "pass_opened"} - {
        uid for kind, uid, *_ in lines[:-1] if kind == "pass_closed"
    }
    assert len(open_now) == 1
    with Journal.open(journal_file) as journal:
        assert list(journal.recovered) == list(open_now)
        passes = journal.passes()
        crashed = journal.pass_record(journal.recovered[0])
        samples = journal.pass_samples(crashed.uid)
        acked = {uid for kind, uid, *_ in lines[:-1] if kind == "event"}
        assert acked <= {e["uid"] for e in journal.events()}
        assert journal.verify().ok
    zones = [(p.zone, p.outcome) for p in passes]
    assert zones == [
        ("HL", Outcome.ZONE_CHANGED),
        ("TMP_L", Outcome.COMPLETE),
        ("TMP_L", Outcome.INTERRUPTED_LINK),
        ("TMP_L", Outcome.INTERRUPTED_CRASH),
    ]
    assert passes[1].continues_uid == passes[0].uid
    assert passes[3].continues_uid == passes[2].uid
    assert crashed.ended_t_us == samples[-1].t_us and crashed.samples == len(samples) > 50
    assert all(p.session_uid == passes[0].session_uid for p in passes)
