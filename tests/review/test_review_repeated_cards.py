"""A report with many passes interrupted the same way: the first two get a card with
their trace, the rest are listed by number and id; a pass the practitioner flagged keeps
its own card whatever else is wrong with it."""

from __future__ import annotations

import re
from pathlib import Path

from smpctl.cli import main
from smpctl.journal import Journal, Outcome
from smpctl.journal.trace_codec import TracePoint

TRACE = [TracePoint(i * 0.1, 100.0, 100.0) for i in range(40)]


def _journal(path: Path) -> list[str]:
    uids = []
    with Journal.open(path) as journal:
        journal.open_session("C-0900", 1, consent=True, simulated=True)
        journal.register_cartridge("1RL 0.20", "L-1", "2031-01-01")
        journal.set_zone("CRN")
        for i in range(7):
            uid = journal.begin_pass(started_t_us=0, wall=journal.now, pen_uid=None)
            journal.end_pass(
                uid,
                outcome=Outcome.COMPLETE if i == 6 else Outcome.INTERRUPTED_FAULT,
                detail=None,
                ended_t_us=4_000_000,
                wall=journal.now + 4,
                aggregates={"strokes": 400, "setpoint_hz": 100.0, "speed_mean_hz": 100.0},
                events=[],
                trace=TRACE,
            )
            uids.append(uid)
        journal.flag_pass("check", pass_uid=uids[5])
        journal.close_session()
    return uids


def test_repeated_reasons_get_two_cards_and_a_list_flagged_passes_their_own(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite3"
    uids = _journal(path)
    out = tmp_path / "r.html"
    assert main(["logs", "report", "C-0900#1", "-o", str(out), "--journal", str(path)]) == 0
    html = out.read_text()
    cards = re.findall(r"<div class='pass bad' id='pass-([0-9a-f]{8})'>", html)
    # passes 1 and 2 (the first two interrupted), and pass 6 (flagged by the practitioner)
    assert cards == [uids[0][:8], uids[1][:8], uids[5][:8]]
    more = re.search(r"<p class='more-passes'>(.*?)</p>", html, re.S)
    assert more is not None
    text = more.group(1)
    assert text.startswith("3 more passes for the same reason")
    assert "interrupted fault" in text
    for number, uid in ((3, uids[2]), (4, uids[3]), (5, uids[4])):
        assert f"#{number} <code>{uid[:8]}</code>" in text
    assert "CRN — crown (7 passes, 6 to look at)" in html
