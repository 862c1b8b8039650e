"""Speed traces for the review: stored traces read back as columns, every trace of a
session in one query, and a zone's strip of passes that stays the same size however long
the session ran."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smpctl.journal import Journal
from smpctl.journal.trace_codec import TRACE_CODEC, TracePoint, decode_trace, encode_trace
from smpctl.review import charts
from smpctl.review.trace import TraceColumns, decode_columns, session_traces


def _trace(points: int, *, dip: bool = False) -> list[TracePoint]:
    return [
        TracePoint(i * 0.25, 0.0 if dip and i == points // 2 else 100.0 + i % 3, 100.0)
        for i in range(points)
    ]


def test_stored_traces_read_as_columns_match_the_codec() -> None:
    """The review reads the codec's bytes as arrays (no per-point unpacking); it must read
    exactly what ``decode_trace`` reads."""
    points = _trace(75, dip=True)
    data = encode_trace(points)
    columns = decode_columns(data, TRACE_CODEC)
    assert columns.points() == decode_trace(data)
    assert list(columns.speed_chz)[:3] == [10000, 10100, 10200]
    with pytest.raises(ValueError, match="unknown trace codec"):
        decode_columns(data, "trace-v0")


def test_a_reduced_trace_keeps_the_mean_of_each_share() -> None:
    columns = TraceColumns.of_points(_trace(48))
    reduced = columns.reduced(4)
    assert len(reduced.speed_chz) == 4
    assert reduced.t_ms[0] == 0 and reduced.t_ms[1] == pytest.approx(12 * 250)
    assert reduced.speed_chz[0] == pytest.approx(sum(columns.speed_chz[:12]) / 12)
    assert columns.reduced(100) is columns


def test_a_sessions_traces_are_read_in_one_query(
    three_sessions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Journal.open(three_sessions, writer=False) as journal:
        session = next(s for s in journal.sessions() if s.client == "C-0301")
        uids = [p.uid for p in journal.passes(session.uid)]
        queries: list[str] = []
        query, rows = journal.store.query, journal.store.rows

        def counted(sql: str, params: object = ()) -> list[dict[str, object]]:
            queries.append(sql)
            return query(sql, params)  # type: ignore[arg-type]

        def counted_rows(sql: str, params: object = ()) -> list[tuple[object, ...]]:
            queries.append(sql)
            return rows(sql, params)  # type: ignore[arg-type]

        monkeypatch.setattr(journal.store, "query", counted)
        monkeypatch.setattr(journal.store, "rows", counted_rows)
        traces = session_traces(journal, session.uid, uids)
    assert len(queries) == 1 and "pass_traces" in queries[0]
    assert set(traces) == set(uids)
    assert all(len(t.speed_chz) >= 10 for t in traces.values())


def _strip(passes: int) -> str:
    trace = TraceColumns.of_points(_trace(90))
    return charts.pass_strip(
        "MID", [charts.StripPass(n, trace, n % 25 == 0) for n in range(1, passes + 1)]
    )


def test_a_zone_strip_stays_the_same_size_however_many_passes() -> None:
    sizes = {}
    for passes in (12, 60, 240, 2000):
        svg = _strip(passes)
        speed = re.search(r'd="([^"]*)" class="speed-line"', svg)
        assert speed is not None
        segments = speed.group(1).count("M")
        points = len(speed.group(1).split())
        assert f'data-passes="{passes}"' in svg
        if passes <= charts.STRIP_SEGMENTS:
            assert segments == passes
        else:  # neighbours merge pairwise as the zone's passes grow
            assert charts.STRIP_SEGMENTS / 2 <= segments <= charts.STRIP_SEGMENTS
        assert points <= charts.STRIP_POINTS + segments
        labels = svg.count("<text")
        assert 1 <= labels <= charts.STRIP_WIDTH / charts.LABEL_EVERY + 1
        sizes[passes] = len(svg)
    assert sizes[2000] < 1.5 * sizes[60]
    # passes that share a segment are named by their range
    assert re.search(r">#1–\d+</text>", _strip(2000))


def test_a_strip_draws_a_setpoint_change_as_a_step() -> None:
    steady = TraceColumns.of_points(_trace(48))
    changed = TraceColumns.of_points(
        [p._replace(setpoint_hz=110.0) if i >= 24 else p for i, p in enumerate(_trace(48))]
    )
    svg = charts.pass_strip(
        "FRN", [charts.StripPass(1, steady, False), charts.StripPass(2, changed, True)]
    )
    setpoint = re.search(r'd="([^"]*)" class="setp-line"', svg)
    assert setpoint is not None
    first, second = setpoint.group(1).split("M")[1:]
    assert len(first.split()) == 2  # constant: one line
    assert len(second.split()) == 4  # the step: across, up, across
    assert svg.count('class="attention"') == 1
