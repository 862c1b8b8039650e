"""The review reads the journal's derived tables: a report draws each zone from its stored
strip (the same picture as from the passes' traces) and cards the passes that need a look
by index; neither ``show`` nor ``report`` reads the session's pass list."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from smpctl import hard_limits
from smpctl.journal import Journal
from smpctl.journal.schema import LOOK_MEAN_DRIFT, LOOK_SPEED_FLOOR
from smpctl.review import report, review_session, summary
from smpctl.review.report import render_report
from smpctl.review.summary import attention, pass_lines, passes_to_look
from smpctl.review.trace import DRIFT_OK

FOOTER = re.compile(r"<footer>.*?</footer>", re.S)


def _sessions(path: Path) -> list[str]:
    with Journal.open(path, writer=False) as journal:
        return [s.uid for s in journal.sessions()]


def _report(path: Path, uid: str) -> str:
    with Journal.open(path, writer=False) as journal:
        session = journal.session(uid)
        assert session is not None
        return FOOTER.sub("", render_report(journal, review_session(journal, session)))


def test_a_report_from_the_stored_strips_is_the_one_drawn_from_the_traces(
    three_sessions: Path, tmp_path: Path
) -> None:
    """Deleting the strips (a journal from before them) makes the report draw every zone
    from the passes' stored traces: to the byte, the same report."""
    without = tmp_path / "without.sqlite3"
    with sqlite3.connect(three_sessions) as src, sqlite3.connect(without) as dst:
        src.backup(dst)
        assert dst.execute("DELETE FROM zone_strips").rowcount > 0
    for uid in _sessions(three_sessions):
        stored = _report(three_sessions, uid)
        assert 'class="strip"' in stored
        assert stored == _report(without, uid)


def test_show_and_report_read_no_pass_list_when_the_strips_are_whole(
    three_sessions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("read every pass of the session")

    monkeypatch.setattr(summary, "pass_lines", refused)
    monkeypatch.setattr(report, "pass_lines", refused)
    monkeypatch.setattr(report, "session_traces", refused)
    for uid in _sessions(three_sessions):
        with Journal.open(three_sessions, writer=False) as journal:
            session = journal.session(uid)
            assert session is not None
            review = review_session(journal, session)
            html = render_report(journal, review)
            assert html.count('class="strip"') == len(review.zones)
            with pytest.raises(AssertionError, match="every pass"):  # --json lists them
                _ = review.passes


def test_the_passes_to_look_at_are_read_by_their_index_and_are_every_one(
    three_sessions: Path,
) -> None:
    # the index holds every pass the review's thresholds single out
    assert DRIFT_OK > LOOK_MEAN_DRIFT and hard_limits.UNDERSPEED_WARN_FRACTION < LOOK_SPEED_FLOOR
    with Journal.open(three_sessions, writer=False) as journal:
        plan = journal.store.rows("EXPLAIN QUERY PLAN " + summary._TO_LOOK_SQL, ("x",))
        assert any("passes_to_look" in str(step) for step in plan)
        for uid in _sessions(three_sessions):
            every = [(p, attention(p)) for p in pass_lines(journal, uid)]
            assert passes_to_look(journal, uid) == [(p, why) for p, why in every if why]
