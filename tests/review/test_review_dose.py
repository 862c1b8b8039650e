"""The micro-injury dose in `smpctl logs show|compare|report`: in-skin strokes, punctures
and punctures/cm² per zone over the area in force for each session, the session's kind,
microneedling end points, the cumulative dose and the days between sessions.

The journals are built with the Journal API (sessions with their areas, cartridges with
their kind, passes ended with their in-skin stroke count, end points and measured areas as
chained records), so every figure below can be worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable

from smpctl.cli import main
from smpctl.dose.punctures import NANO_NEEDLES
from smpctl.journal import Journal, Outcome
from smpctl.journal.doses import client_dose_history, client_uid_of
from smpctl.journal.store import Insert
from smpctl.review.dose import NANO_NOTE
from smpctl.tui.review import ReviewApp, SessionScreen

DAY = 86_400.0
START = dt.datetime(2026, 5, 4, 9, 0).timestamp()


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def _pass(journal: Journal, clock: Clock, zone: str, strokes: int, in_skin: int | None) -> None:
    journal.set_zone(zone)
    uid = journal.begin_pass(started_t_us=None, wall=clock.now, pen_uid=None)
    clock.now += 20
    journal.end_pass(
        uid,
        outcome=Outcome.COMPLETE,
        detail=None,
        ended_t_us=None,
        wall=clock.now,
        aggregates={"strokes": strokes, "samples": 0},
        events=[],
        in_skin_strokes=in_skin,
    )
    clock.now += 5


def _end_point(journal: Journal, session: str, zone: str, point: str, clock: Clock) -> None:
    journal.store.write(
        [
            Insert(
                "zone_endpoints",
                {
                    "uid": journal.store.new_uid(),
                    "session_uid": session,
                    "zone": zone,
                    "end_point": point,
                    "note": None,
                    "recorded_wall": clock.now,
                },
            )
        ]
    )
    clock.now += 1


@pytest.fixture(scope="module")
def dose_journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """C-0700, SMP with a 3RL (3 needles): session 1 with the hairline's area entered
    (25 cm²), session 2 four weeks later after MID was measured (70 cm²). C-0800,
    microneedling: a nano session (49 needles by convention) with end points, then a
    36-pin one twelve days later."""
    path = tmp_path_factory.mktemp("dose") / "journal.sqlite3"
    clock = Clock()
    with Journal.open(path, wall=clock) as journal:
        journal.open_session("C-0700", 1, "AB", consent=True, simulated=True, areas={"HL": 25.0})
        journal.register_cartridge("3RL 0.25", "CT-1", "2031-01-31", kind="3RL")
        _pass(journal, clock, "HL", 1200, 1000)
        _pass(journal, clock, "HL", 300, 200)
        _pass(journal, clock, "MID", 2500, 2000)
        journal.close_session()

        clock.now = START + 20 * DAY
        client = client_uid_of(journal, "C-0700")
        journal.store.write(
            [
                Insert(
                    "client_areas",
                    {
                        "uid": journal.store.new_uid(),
                        "client_uid": client,
                        "zone": "MID",
                        "area_cm2": 70.0,
                        "measured_day": "2026-05-24",
                        "method": "tape",
                        "recorded_wall": clock.now,
                    },
                )
            ]
        )
        clock.now = START + 28 * DAY
        journal.open_session("C-0700", 2, "AB", consent=True, simulated=True)
        journal.register_cartridge("3RL 0.25", "CT-2", "2031-01-31", kind="3RL")
        _pass(journal, clock, "HL", 1800, 1500)
        _pass(journal, clock, "MID", 1400, 1050)
        journal.close_session()

        clock.now = START + 2 * DAY
        first = journal.open_session(
            "C-0800", 1, "AB", consent=True, simulated=True, kind="microneedling"
        )
        journal.register_cartridge("nano chip", "NN-1", "2031-01-31", kind="nano")
        _pass(journal, clock, "CRN", 700, 600)
        _pass(journal, clock, "MID", 500, 400)
        _end_point(journal, first, "CRN", "none", clock)
        _end_point(journal, first, "CRN", "pinpoint_bleeding", clock)  # the newest wins
        journal.close_session()

        clock.now = START + 14 * DAY
        journal.open_session("C-0800", 2, "AB", consent=True, simulated=True, kind="microneedling")
        journal.register_cartridge("36-pin", "PN-1", "2031-01-31", kind="36-pin")
        _pass(journal, clock, "CRN", 100, 50)
        journal.close_session()

        # C-0900: a first session recorded before in-skin strokes were counted
        clock.now = START + 3 * DAY
        journal.open_session("C-0900", 1, "AB", consent=True, simulated=True)
        journal.register_cartridge("1RL 0.20", "CT-9", "2031-01-31", kind="1RL")
        _pass(journal, clock, "FRN", 900, None)
        journal.close_session()
        clock.now = START + 33 * DAY
        journal.open_session("C-0900", 2, "AB", consent=True, simulated=True)
        journal.register_cartridge("1RL 0.20", "CT-9", "2031-01-31", kind="1RL")
        _pass(journal, clock, "FRN", 700, 600)
        journal.close_session()
    yield path


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_show_gives_each_zones_punctures_per_cm2_over_the_area_in_force(
    dose_journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    j = ["--journal", str(dose_journal)]
    data = _json(capsys, "logs", "show", "C-0700#1", *j)
    dose = data["dose"]
    assert dose["kind"] == "smp" and data["session"]["kind"] == "smp"
    hl, mid = dose["zones"]["HL"], dose["zones"]["MID"]
    assert (hl["in_skin_strokes"], hl["punctures"]) == (1200, 3600)
    assert (hl["area_cm2"], hl["area_source"]) == (25.0, "entered")
    assert hl["per_cm2"] == pytest.approx(3600 / 25)
    assert (mid["punctures"], mid["area_cm2"], mid["area_source"]) == (6000, 80.0, "default")
    assert dose["punctures"] == 9600 and dose["nano_convention"] is None
    assert dose["end_points"] == {}  # an SMP session records none

    second = _json(capsys, "logs", "show", "C-0700#2", *j)["dose"]["zones"]
    assert (second["MID"]["area_cm2"], second["MID"]["area_source"]) == (70.0, "measured")
    assert second["MID"]["per_cm2"] == pytest.approx(1050 * 3 / 70)
    assert second["HL"]["area_source"] == "default"  # entered for session 1 only

    assert main(["logs", "show", "C-0700#1", *j]) == 0
    text = capsys.readouterr().out
    assert "client C-0700 #1  SMP" in text
    assert re.search(r"^HL +1,200 +3,600 +144\.0 +25 entered$", text, re.M)
    assert re.search(r"^MID +2,000 +6,000 +75\.0 +80 default$", text, re.M)
    assert re.search(r"^ALL +3,200 +9,600$", text, re.M)
    assert "end point" not in text and "nano" not in text


def test_show_of_a_microneedling_session_gives_end_points_and_the_nano_convention(
    dose_journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    j = ["--journal", str(dose_journal)]
    data = _json(capsys, "logs", "show", "C-0800#1", *j)
    dose = data["dose"]
    assert dose["kind"] == "microneedling"
    assert dose["zones"]["CRN"]["punctures"] == 600 * NANO_NEEDLES
    assert dose["end_points"]["CRN"]["end_point"] == "pinpoint_bleeding"
    assert "MID" not in dose["end_points"]
    assert dose["nano_convention"] == NANO_NOTE and str(NANO_NEEDLES) in NANO_NOTE
    kinds = {c["cartridge_kind"]: c["needles"] for c in data["consumables"] if c["needles"]}
    assert kinds == {"nano": NANO_NEEDLES}

    assert main(["logs", "show", "C-0800#1", *j]) == 0
    text = capsys.readouterr().out
    assert "client C-0800 #1  microneedling" in text
    assert re.search(r"^CRN .* pinpoint bleeding$", text, re.M)
    assert re.search(r"^MID .* not recorded$", text, re.M)
    assert f"as {NANO_NEEDLES} needles" in text and "convention" in text

    later = _json(capsys, "logs", "show", "C-0800#2", *j)["dose"]
    assert later["nano_convention"] is None  # a 36-pin session says nothing of nano
    assert later["zones"]["CRN"]["punctures"] == 50 * 36


def test_compare_gives_the_dose_per_session_the_cumulative_dose_and_the_days_between(
    dose_journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    j = ["--journal", str(dose_journal)]
    data = _json(capsys, "logs", "compare", "C-0700", *j)
    assert [s["days_since_previous"] for s in data["sessions"]] == [None, 28]
    assert [s["kind"] for s in data["sessions"]] == ["smp", "smp"]
    zones = {z["zone"]: z["dose"] for z in data["zones"]}
    hl = zones["HL"]
    per_session = [d["per_cm2"] for d in hl["per_session"]]
    assert per_session == pytest.approx([3600 / 25, 4500 / 30])
    assert hl["cumulative_per_cm2"] == pytest.approx(3600 / 25 + 4500 / 30)
    assert hl["days_between"] == [28] and hl["sessions_treated"] == 2
    # the same figure the dashboard's dose guard reads
    with Journal.open(dose_journal, writer=False) as journal:
        client = client_uid_of(journal, "C-0700")
        assert client is not None
        history = client_dose_history(journal, client)
    for zone in ("HL", "MID"):
        assert zones[zone]["cumulative_per_cm2"] == pytest.approx(history[zone].cumulative_per_cm2)

    assert main(["logs", "compare", "C-0700", *j]) == 0
    text = capsys.readouterr().out
    assert re.search(r"#2 +\w+ +2026-06-01 +SMP +28 days after #1", text)
    assert "punctures/cm²: #1 144.0, #2 150.0; cumulative 294.0 over 2 session(s); " in text
    assert "days between: 28" in text

    micro = _json(capsys, "logs", "compare", "C-0800", *j)
    crn = next(z for z in micro["zones"] if z["zone"] == "CRN")["dose"]
    assert [e and e["end_point"] for e in crn["end_points"]] == ["pinpoint_bleeding", None]
    assert crn["days_between"] == [12]
    assert main(["logs", "compare", "C-0800", *j]) == 0
    assert re.search(r"#1 [\d,.]+ \(pinpoint bleeding\), #2", capsys.readouterr().out)


def test_compare_says_a_cumulative_dose_with_an_unknown_session_is_a_floor(
    dose_journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    j = ["--journal", str(dose_journal)]
    frn = next(z for z in _json(capsys, "logs", "compare", "C-0900", *j)["zones"])["dose"]
    assert [d["per_cm2"] for d in frn["per_session"]] == [None, 10.0]
    assert frn["cumulative_per_cm2"] == 10.0 and frn["unknown_sessions"] == 1
    assert frn["days_between"] == [30]
    assert main(["logs", "compare", "C-0900", *j]) == 0
    text = capsys.readouterr().out
    assert "punctures/cm²: #1 -, #2 10.0; cumulative at least 10.0 over 2 session(s), " in text
    assert "1 of them of unknown dose; days between: 30" in text
    assert main(["logs", "show", "C-0900#2", *j]) == 0
    assert "(1RL, 1 needle)" in capsys.readouterr().out


def test_report_has_a_dose_column_and_shades_the_map_by_punctures_per_cm2(
    dose_journal: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dose.html"
    argv = ["logs", "report", "C-0700#1", "-o", str(out), "--journal", str(dose_journal)]
    assert main(argv) == 0
    html = out.read_text()
    assert "<th>punctures/cm²</th>" in html
    row = re.search(r"<tr id='zone-HL'>.*?</tr>", html)
    assert row is not None and "<td class='dose'>144.0</td>" in row.group(0)
    dose_row = re.search(r"<tr id='dose-MID'>.*?</tr>", html)
    assert dose_row is not None
    assert "<td>2,000</td><td>6,000</td><td>75.0</td><td>80</td>" in dose_row.group(0)
    assert "default" in dose_row.group(0)
    # the map: shaded by dose, the darkest zone the highest, the legend in the dose's units
    hl = re.search(r'<g class="zone" id="map-HL".*?</g>', html)
    mid = re.search(r'<g class="zone" id="map-MID".*?</g>', html)
    assert hl is not None and mid is not None
    assert "144.0 punctures/cm²" in hl.group(0) and "144/cm²" in hl.group(0)
    assert "#08306b" in hl.group(0)  # the session's highest dose: the darkest shade
    assert "75.0 punctures/cm²" in mid.group(0)
    legend = re.search(r'<svg class="legend".*?</svg>', html)
    assert legend is not None and "144 punctures/cm²" in legend.group(0)
    assert "not treated" in re.search(r'id="map-NAP".*?</g>', html).group(0)  # type: ignore[union-attr]
    assert "nano" not in html.lower()

    nano = tmp_path / "nano.html"
    argv = ["logs", "report", "C-0800#1", "-o", str(nano), "--journal", str(dose_journal)]
    assert main(argv) == 0
    html = nano.read_text()
    assert html.count(NANO_NOTE) >= 1 and "microneedling" in html
    crown = re.search(r"<tr id='dose-CRN'>.*?</tr>", html)
    assert crown is not None and "pinpoint bleeding" in crown.group(0)


def test_a_session_recorded_before_doses_says_so_and_shades_by_strokes(
    three_sessions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Passes without in-skin counts have no dose: shown as unknown, never as zero."""
    j = ["--journal", str(three_sessions)]
    data = _json(capsys, "logs", "show", "C-0301#1", *j)
    assert data["dose"]["punctures"] is None
    assert all(z["per_cm2"] is None for z in data["dose"]["zones"].values())
    assert main(["logs", "show", "C-0301#1", *j]) == 0
    assert "Dose: not recorded" in capsys.readouterr().out
    out = tmp_path / "old.html"
    assert main(["logs", "report", "C-0301#1", "-o", str(out), *j]) == 0
    html = out.read_text()
    assert "strokes/cm²" in html and "coverage, not a dose" in html
    assert "Not recorded: this session's passes have no in-skin stroke counts" in html


async def test_the_review_screen_gives_each_zones_dose_and_end_point(dose_journal: Path) -> None:
    """``smpctl review``: a session's zone table has the same in-skin strokes and
    punctures/cm² as ``logs show``, and a microneedling session's end points."""
    with Journal.open(dose_journal, writer=False) as journal:
        sessions = {(s.client, s.session_number): s for s in journal.sessions()}
        for key, expected in (
            (("C-0700", 1), {"HL": ("1,200", "144.0"), "MID": ("2,000", "75.0")}),
            (("C-0800", 1), {"CRN": ("600", f"{600 * NANO_NEEDLES / 60:,.1f}")}),
        ):
            app = ReviewApp(journal)
            async with app.run_test(size=(160, 40)) as pilot:
                await pilot.pause()
                screen = SessionScreen(journal, sessions[key])
                await app.push_screen(screen)
                await pilot.pause()
                title = str(screen.query_one(".review-title").render())
                table = screen.query_one("#zones", DataTable)
                labels = [str(c.label) for c in table.columns.values()]
                rows = {
                    str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(table.row_count)
                }
                for zone, (in_skin, per_cm2) in expected.items():
                    row = rows[zone]
                    assert row[labels.index("in-skin")] == in_skin
                    assert row[labels.index("/cm²")] == per_cm2
                if key[0] == "C-0800":
                    assert "microneedling" in title
                    assert rows["CRN"][labels.index("end point")] == "pinpoint bleeding"
                    assert rows["MID"][labels.index("end point")] == "not recorded"
                else:
                    assert "SMP" in title and "end point" not in labels
