"""The micro-injury dose as the journal records it: in-skin strokes and punctures per pass
from the simulated pen's telemetry (checked against its ground truth), session kinds, the
zone areas kept with each session, cartridges with their needle count, bad input refused
whole, and journals from before doses were kept."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from journal_support import hold, measure_area, wait_until

import smpctl.sim as sim
from smpctl import errors
from smpctl.client import LinkState, Pen, connect
from smpctl.dose import DEFAULT_AREAS_CM2, ContactDetector
from smpctl.journal import Journal, Outcome, Recorder
from smpctl.journal.records import PassRecord
from smpctl.journal.schema import RECORD_TABLES, migrate
from smpctl.protocol import SimAction, Telemetry
from smpctl.zones import ZoneCode

pytestmark = pytest.mark.slow

FIXTURE_V1 = Path(__file__).with_name("journal_v1.sql")
_names = itertools.count()


def _pen(hand: str) -> tuple[str, Pen]:
    name = f"dose{next(_names)}"
    pen = connect(f"sim://{name}?seed=5&baud=921600&hand={hand}")
    pen.set_telemetry_rate(500)
    pen.set_speed(110)
    pen.arm()
    pen.run()
    return name, pen


def _skin_strokes(pen: Pen) -> tuple[int, int]:
    with pen.link.port.pen_lock:  # type: ignore[union-attr]
        truth = pen.link.port.pen.truth()  # type: ignore[union-attr]
    return truth.strokes, truth.skin_strokes


def _rows(journal: Journal) -> dict[str, int]:
    """Rows of every record table and of the hash chain."""
    return {
        table: journal.store.query_one(f"SELECT COUNT(*) AS n FROM {table}")["n"]  # type: ignore[index]
        for table in (*RECORD_TABLES, "ledger")
    }


@dataclass
class TappedSession:
    """Two passes with the hand tapping dots: one to warm up, one to measure."""

    path: Path
    passes: list[PassRecord]
    true_skin: list[int]
    live: list[tuple[str | None, int, int]]
    live_after: tuple[str | None, int, int]
    telemetry: list[Telemetry]
    recorder_in_skin: int


@pytest.fixture(scope="module")
def tapped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TappedSession]:
    path = tmp_path_factory.mktemp("dose") / "journal.sqlite3"
    name, pen = _pen("auto")
    true_skin: list[int] = []
    live: list[tuple[str | None, int, int]] = []
    try:
        with Journal.open(path) as journal:
            cursor = pen.telemetry.cursor
            recorder = Recorder(journal, pen).start()
            journal.open_session("D-1", 1, consent=True, simulated=True)
            journal.register_cartridge("3RL 0.25", "LOT-3", "2031-01-31")
            journal.set_zone("CRN")
            for ticks in (15, 30):  # 1.5 s to warm up, 3 s to measure
                _, before = _skin_strokes(pen)
                pen.sim(SimAction.PEDAL, 1)
                for _ in range(ticks):
                    hold(pen, 0.1)  # the dashboard polls at 10 Hz
                    live.append(recorder.live_dose())
                pen.sim(SimAction.PEDAL, 0)
                hold(pen, 0.3)
                true_skin.append(_skin_strokes(pen)[1] - before)
            assert recorder.sync()
            live_after = recorder.live_dose()
            recorder.stop()
            telemetry = pen.telemetry.since(cursor).items
            passes = journal.passes()
    finally:
        pen.close()
        sim.BUS.power_off(name)
    yield TappedSession(
        path, passes, true_skin, live, live_after, telemetry, recorder.detector.in_skin_strokes
    )


def test_a_tapping_pass_counts_the_true_skin_strokes_and_their_punctures(
    tapped: TappedSession,
) -> None:
    assert len(tapped.passes) == 2
    for number, (record, truth) in enumerate(zip(tapped.passes, tapped.true_skin, strict=True)):
        assert record.in_skin_strokes is not None and record.strokes is not None
        assert truth > 30  # the hand's random taps: ~25 skin strokes a second
        assert record.in_skin_strokes < record.strokes  # the hand lifts between dots
        assert record.needles == 3
        assert record.punctures == record.in_skin_strokes * 3
        if number == 0:
            # the warm-up: with no calibration the detector learns the free-running current
            # as it goes, and calls what it sees before that air (a hand already on the skin
            # at pedal down goes uncounted for a moment), never more than there was
            assert 0.75 * truth <= record.in_skin_strokes <= truth + 4
            continue
        # 5 %, and a few strokes on a short pass (strokes in flight at pedal up, the truth
        # read a moment after)
        assert abs(record.in_skin_strokes - truth) <= max(4, 0.05 * truth)


def test_one_detector_follows_every_sample_across_passes(tapped: TappedSession) -> None:
    # a fresh detector fed the pen's whole telemetry (between passes too) counts the same
    alone = ContactDetector().feed_all(tapped.telemetry)
    assert alone.in_skin_strokes == tapped.recorder_in_skin
    assert sum(p.in_skin_strokes or 0 for p in tapped.passes) == tapped.recorder_in_skin
    # and one sample at a time files every interval as the batches did
    one_by_one = ContactDetector()
    for sample in tapped.telemetry:
        one_by_one.feed(sample)
    assert one_by_one.counts == alone


def test_the_live_dose_grows_during_a_pass_and_clears_once_it_is_recorded(
    tapped: TappedSession,
) -> None:
    measured = tapped.passes[1]
    during = [d for d in tapped.live if d[0] == measured.uid]
    assert len(during) >= 20
    strokes = [d[1] for d in during]
    in_skin = [d[2] for d in during]
    assert strokes == sorted(strokes) and in_skin == sorted(in_skin)
    assert 0 < in_skin[-1] <= (measured.in_skin_strokes or 0)
    assert all(i <= s for _, s, i in during)
    assert tapped.live_after == (None, 0, 0)


def test_zone_changes_and_a_pulled_cable_split_the_dose_like_the_strokes(
    journal_file: Path,
) -> None:
    name, pen = _pen("auto")
    try:
        with Journal.open(journal_file) as journal:
            cursor = pen.telemetry.cursor
            recorder = Recorder(journal, pen).start()
            journal.open_session("D-4", 1, consent=True, simulated=True)
            journal.register_cartridge("1RL 0.20", "LOT-1", "2031-01-31")
            journal.set_zone("HL")
            _, before = _skin_strokes(pen)
            pen.sim(SimAction.PEDAL, 1)
            hold(pen, 0.8)
            journal.set_zone("TMP_L")
            hold(pen, 0.8)
            pen.sim(SimAction.PEDAL, 0)
            hold(pen, 0.2)
            true_split = _skin_strokes(pen)[1] - before
            pen.sim(SimAction.PEDAL, 1)
            hold(pen, 0.5)
            sim.unplug(name)
            assert pen.wait_for_state(LinkState.LOST, 1.0)
            sim.plug(name)
            assert wait_until(lambda: pen.state is LinkState.CONNECTED, 3.0, pen)
            hold(pen, 0.1)
            pen.sim(SimAction.PEDAL, 0)
            hold(pen, 0.1)
            assert recorder.sync()
            recorder.stop()
            telemetry = pen.telemetry.since(cursor).items
            hl, tmp, lost, after = journal.passes()
    finally:
        pen.close()
        sim.BUS.power_off(name)
    assert (hl.zone, tmp.zone, tmp.continues_uid) == ("HL", "TMP_L", hl.uid)
    assert hl.in_skin_strokes and tmp.in_skin_strokes
    # the truth is read around the pedal events, the count at them: a few strokes apart
    # on a loaded machine
    assert abs(hl.in_skin_strokes + tmp.in_skin_strokes - true_split) <= max(8, 0.05 * true_split)
    assert after.continues_uid == lost.uid and after.in_skin_strokes == 0
    for record in (hl, tmp, lost, after):
        assert record.in_skin_strokes is not None and record.strokes is not None
        assert record.in_skin_strokes <= record.strokes
        assert record.punctures == record.in_skin_strokes  # 1RL
    # the detector went on across the lost link: it missed no sample the pen sent
    total = sum(r.in_skin_strokes or 0 for r in (hl, tmp, lost, after))
    assert ContactDetector().feed_all(telemetry).in_skin_strokes == total


def test_a_pass_in_air_makes_almost_no_punctures(journal_file: Path) -> None:
    name, pen = _pen("air")
    try:
        with Journal.open(journal_file) as journal:
            recorder = Recorder(journal, pen).start()
            journal.open_session("D-2", 1, consent=True, simulated=True)
            journal.register_cartridge("1RL 0.20", "LOT-1", "2031-01-31")
            journal.set_zone("NAP")
            pen.sim(SimAction.PEDAL, 1)
            hold(pen, 1.5)
            pen.sim(SimAction.PEDAL, 0)
            hold(pen, 0.2)
            assert recorder.sync()
            recorder.stop()
            (record,) = journal.passes()
        assert _skin_strokes(pen)[1] == 0
    finally:
        pen.close()
        sim.BUS.power_off(name)
    assert record.strokes is not None and record.strokes > 100
    assert record.in_skin_strokes is not None
    assert record.in_skin_strokes <= 0.01 * record.strokes
    assert record.punctures == record.in_skin_strokes


def test_a_pass_a_crash_left_open_gets_its_dose_from_its_telemetry(
    tapped: TappedSession, journal_file: Path
) -> None:
    measured = tapped.passes[1]
    with Journal.open(tapped.path, writer=False) as recorded:
        samples = recorded.pass_samples(measured.uid)
    with Journal.open(journal_file) as journal:
        journal.open_session("D-3", 1, consent=True, simulated=True)
        journal.register_cartridge("12-pin", "LOT-12", "2031-01-31")
        journal.set_zone("MID")
        uid = journal.begin_pass(started_t_us=samples[0].t_us, wall=journal.now, pen_uid=None)
        journal.stage_samples(uid, samples, journal.now)
        journal.commit()  # then smpctl dies: the pass is never closed
    with Journal.open(journal_file) as journal:
        assert journal.recovered == (uid,)
        record = journal.pass_record(uid)
        assert journal.verify().ok
    assert record.in_skin_strokes is not None and record.strokes is not None
    # a fresh detector learns from this pass alone: near the recorder's count
    assert abs(record.in_skin_strokes - (measured.in_skin_strokes or 0)) <= 0.1 * record.strokes
    assert (record.needles, record.punctures) == (12, record.in_skin_strokes * 12)


def _areas(journal: Journal, session_uid: str) -> dict[str, tuple[float, str]]:
    rows = journal.store.query(
        "SELECT zone, area_cm2, source FROM session_areas WHERE session_uid = ?", (session_uid,)
    )
    assert len(rows) == len(ZoneCode)
    return {r["zone"]: (r["area_cm2"], r["source"]) for r in rows}


def test_a_session_keeps_every_zone_area_measured_entered_or_default(
    journal_file: Path,
) -> None:
    with Journal.open(journal_file) as journal:
        client = journal.client("C-7")
        measure_area(journal, client, "HL", 24.0, "2026-03-01")
        measure_area(journal, client, "HL", 26.5, "2026-05-01")  # the newest is in force
        measure_area(journal, client, "CRN", 70.0, "2026-05-01")
        first = journal.open_session("C-7", 1, consent=True, simulated=True)
        journal.close_session()
        second = journal.open_session(
            "C-7", 2, consent=True, simulated=True, kind="microneedling", areas={"crn": 64.0}
        )
        journal.close_session()
        a, b = _areas(journal, first), _areas(journal, second)
        kinds = {s.uid: s.kind for s in journal.sessions()}
        assert journal.verify().ok
    assert a["HL"] == (26.5, "measured") and a["CRN"] == (70.0, "measured")
    assert a["MID"] == (DEFAULT_AREAS_CM2[ZoneCode.MID], "default")
    assert b["HL"] == (26.5, "measured") and b["CRN"] == (64.0, "entered")
    assert kinds == {first: "smp", second: "microneedling"}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"areas": {"HL": 0.0}}, errors.ZoneAreaError),
        ({"areas": {"MID": 50.0, "HL": -3.0}}, errors.ZoneAreaError),
        ({"areas": {"OCC": 650.0}}, errors.ZoneAreaError),
        ({"areas": {"EAR": 10.0}}, errors.UnknownZoneError),
        ({"kind": "tattoo"}, errors.UnknownSessionKindError),
    ],
)
def test_a_session_with_bad_input_is_refused_and_nothing_is_written(
    journal_file: Path, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with Journal.open(journal_file) as journal:
        before = _rows(journal)
        with pytest.raises(error):
            journal.open_session(
                "C-new",
                1,
                "P. Smith",
                consent=True,
                simulated=True,
                **kwargs,  # type: ignore[arg-type]
            )
        assert _rows(journal) == before
        assert journal.session_uid is None


def test_a_stored_impossible_area_stops_the_session_before_anything_is_written(
    journal_file: Path,
) -> None:
    with Journal.open(journal_file) as journal:
        measure_area(journal, journal.client("C-8"), "NAP", 0.0, "2026-05-01")
        before = _rows(journal)
        with pytest.raises(errors.ZoneAreaError, match="NAP"):
            journal.open_session("C-8", 1, consent=True, simulated=True)
        assert _rows(journal) == before
        # an area entered now replaces the bad measurement
        uid = journal.open_session("C-8", 1, consent=True, simulated=True, areas={"NAP": 41.0})
        assert _areas(journal, uid)["NAP"] == (41.0, "entered")


def test_a_cartridge_records_its_kind_and_needles(journal_file: Path) -> None:
    with Journal.open(journal_file) as journal:
        journal.open_session("C-9", 1, consent=True, simulated=True)
        uids = [
            journal.register_cartridge("1RL 0.20", "L-1", "2031-01-31"),
            journal.register_cartridge("36-pin", "L-2", "2031-01-31", needles=36),
            journal.register_cartridge("Nano chip", "L-3", "2031-01-31", kind="nano"),
            journal.register_cartridge("0.25 3rl", "L-4", "2031-01-31", kind="3RL", needles=3),
        ]
        rows = [
            journal.store.query_one("SELECT kind, needles FROM cartridges WHERE uid = ?", (u,))
            for u in uids
        ]
    assert rows == [
        {"kind": "1RL", "needles": 1},
        {"kind": "36-pin", "needles": 36},
        {"kind": "nano", "needles": 49},
        {"kind": "3RL", "needles": 3},
    ]


@pytest.mark.parametrize(
    ("needle", "kwargs", "error", "says"),
    [
        ("3RL 0.25", {"needles": 5}, errors.NeedleCountMismatchError, "3 needle"),
        ("Derma", {"kind": "12-pin", "needles": 36}, errors.NeedleCountMismatchError, "12 needle"),
        ("RL 0.25", {}, errors.UnknownCartridgeKindError, "1RL, 3RL, 9-pin"),
        ("1RL 0.20", {"kind": "17-pin"}, errors.UnknownCartridgeKindError, "1RL, 3RL, 9-pin"),
    ],
)
def test_a_cartridge_that_does_not_add_up_is_refused_and_nothing_is_written(
    journal_file: Path,
    needle: str,
    kwargs: dict[str, object],
    error: type[Exception],
    says: str,
) -> None:
    with Journal.open(journal_file) as journal:
        journal.open_session("C-10", 1, consent=True, simulated=True)
        before = _rows(journal)
        with pytest.raises(error, match=says):
            journal.register_cartridge(needle, "L-9", "2031-01-31", **kwargs)  # type: ignore[arg-type]
        assert _rows(journal) == before
        assert journal.cartridge_uid is None


def test_a_v3_journal_is_upgraded_and_its_passes_have_no_dose(journal_file: Path) -> None:
    journal_file.parent.mkdir(mode=0o700)
    with sqlite3.connect(journal_file) as conn:
        conn.executescript(FIXTURE_V1.read_text())
    conn = sqlite3.connect(journal_file, isolation_level=None)
    try:
        assert migrate(conn, 3) == 1
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    finally:
        conn.close()
    with Journal.open(journal_file) as journal:
        (old,) = journal.passes()
        (session,) = journal.sessions()
        assert journal.verify().ok
        # a pass recorded now, in the upgraded journal, has one
        journal.open_session("C-0001", 2, consent=True, simulated=True)
        journal.register_cartridge("3RL 0.25", "L-5", "2031-01-31")
        journal.set_zone("HL")
        uid = journal.begin_pass(started_t_us=0, wall=journal.now, pen_uid=None)
        journal.end_pass(
            uid,
            outcome=Outcome.COMPLETE,
            detail=None,
            ended_t_us=1000,
            wall=journal.now,
            aggregates={"strokes": 120},
            events=[],
            in_skin_strokes=80,
        )
        new = journal.pass_record(uid)
        assert journal.verify().ok
    assert old.strokes and (old.in_skin_strokes, old.needles, old.punctures) == (None, None, None)
    assert session.kind == "smp"
    assert (new.in_skin_strokes, new.needles, new.punctures) == (80, 3, 240)
