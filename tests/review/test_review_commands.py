"""`smpctl logs show|compare|pass|export|report` on journals recorded against the simulator."""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest

from smpctl.cli import main
from smpctl.journal import Journal
from smpctl.journal.schema import LATEST
from smpctl.journal.strip_codec import STRIP_PASSES_SQL, strip_of
from smpctl.review import EVENT_COLUMNS, PASS_COLUMNS, SAMPLE_COLUMNS, filter_sessions, summary
from smpctl.review.accelerated import PlannedPass, SessionPlan, SessionRecorder
from smpctl.review.replay import Replay
from smpctl.zones import ZoneCode

ROOT = Path(__file__).resolve().parents[2]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def sessions_of(path: Path, client: str) -> list[str]:
    with Journal.open(path, writer=False) as journal:
        return [s.uid for s in journal.sessions() if s.client == client]


# ------------------------------------------------------------------ show


def test_show_tables_each_zone_from_the_dashboards_recording(
    dashboard_journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (uid,) = sessions_of(dashboard_journal, "C-0142")
    data = run_json(capsys, "logs", "show", uid[:6], "--journal", str(dashboard_journal))
    with Journal.open(dashboard_journal, writer=False) as journal:
        passes = journal.passes(uid)
    zones = {z["zone"]: z for z in data["zones"]}
    assert set(zones) == {"HL", "FRN", "CRN"}
    for zone, row in zones.items():
        mine = [p for p in passes if p.zone == zone]
        assert row["passes"] == len(mine)
        assert row["strokes"] == sum(p.strokes or 0 for p in mine) > 0
        assert row["min_hz"] == min(p.speed_min_hz or 1e9 for p in mine)
        assert 0.2 < row["needle_s"] < 1.0
    assert zones["CRN"]["scars"] == ["SCR_FUE"] and zones["CRN"]["flagged"] == 1
    assert data["totals"]["passes"] == len(passes)
    kinds = {c["kind"]: c for c in data["consumables"]}
    assert kinds["cartridge"]["lot"] == "LOT-991" and kinds["cartridge"]["passes"] == len(passes)
    assert kinds["pigment"]["lot"] == "PG-77"
    assert data["event_counts"]["PEDAL_DOWN"] == 3

    assert main(["logs", "show", uid, "--passes", "--journal", str(dashboard_journal)]) == 0
    text = capsys.readouterr().out
    assert "client C-0142 #1" in text and "SIMULATED" in text
    for zone in ("HL", "FRN", "CRN"):
        assert re.search(rf"^{zone} +1 ", text, re.M)
    assert "LOT-991" in text and "PG-77" in text
    assert all(p.uid[:8] in text for p in passes)


def test_show_lists_faults_as_events_and_counts_the_routine_ones(
    three_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = run_json(capsys, "logs", "show", "C-0301#2", "--journal", str(three_sessions))
    kinds = [e["kind"] for e in data["events"]]
    assert "FAULT_RAISED" in kinds and "PEDAL_DOWN" not in kinds
    assert data["event_counts"]["PEDAL_DOWN"] == data["totals"]["passes"] == 10
    hl = next(z for z in data["zones"] if z["zone"] == "HL")
    assert hl["interrupted"] == 1 and hl["flags"] == ["check"]


def test_show_groups_an_event_that_recurs_and_json_keeps_every_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five stalls: the text shows each kind once with its count, its passes and the first
    three; the JSON lists all fifteen events (a stall raises, stops and disarms), in time
    order however many reads it takes to fetch them."""
    monkeypatch.setattr(summary, "_KINDS_PER_QUERY", 1)
    path = tmp_path / "stalls.sqlite3"
    recorder = SessionRecorder(seed=5)
    plan = [PlannedPass("MID", 0.6, 0.5)] + [
        PlannedPass("MID", 0.6, 0.5, stall=True) for _ in range(5)
    ]
    with Journal.open(path, wall=recorder.wall) as journal:
        recorder.record(journal, SessionPlan("C-0500", 1, plan))
    data = run_json(capsys, "logs", "show", "C-0500#1", "--passes", "--journal", str(path))
    kinds = [e["kind"] for e in data["events"]]
    assert kinds.count("FAULT_RAISED") == kinds.count("DISARMED") == 5 and len(kinds) == 15
    walls = [e["wall"] for e in data["events"]]
    assert walls == sorted(walls)
    groups = {g["kind"]: g for g in data["event_groups"]}
    assert groups["FAULT_RAISED"]["count"] == 5
    assert groups["FAULT_RAISED"]["pass_numbers"] == [2, 3, 4, 5, 6]
    assert data["event_counts"]["PEDAL_DOWN"] == 6
    stalled = [p for p in data["passes"] if p["outcome"] == "interrupted_fault"]
    assert len(stalled) == 5 and all("interrupted fault" in p["attention"] for p in stalled)

    assert main(["logs", "show", "C-0500#1", "--journal", str(path)]) == 0
    text = capsys.readouterr().out
    assert re.search(r"FAULT_RAISED +fault: STALL x5, in passes #2, #3, #4, #5, #6:", text)
    assert text.count("pass #") == 3 * 3  # the first three of each of the three kinds
    assert text.count("2 more: `smpctl logs show") == 3


# ------------------------------------------------------------------ compare


def test_compare_three_sessions_says_what_changed_and_what_is_due(
    three_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = run_json(capsys, "logs", "compare", "C-0301", "--journal", str(three_sessions))
    assert [s["number"] for s in data["sessions"]] == [1, 2, 3]
    zones = {z["zone"]: z for z in data["zones"]}
    assert set(zones) == {z.value for z in ZoneCode}
    assert zones["MID"]["sessions_treated"] == 3
    assert any("speed" in c and "#1->#2" in c for c in zones["MID"]["changes"])
    # the crown carries a scar: two sessions while its neighbours had three
    assert zones["CRN"]["skipped"] and zones["CRN"]["needs_session"]
    assert any("scar" in r for r in zones["CRN"]["reasons"])
    assert zones["NAP"]["skipped"] and zones["NAP"]["sessions_treated"] == 1
    assert data["skipped"] == ["CRN", "NAP"]
    assert set(data["needs_session"]) == {"CRN", "NAP"}
    assert zones["FRN"]["status"] == "ok"

    assert main(["logs", "compare", "c-0301", "--journal", str(three_sessions)]) == 0
    text = capsys.readouterr().out
    assert "Client C-0301: 3 session(s)" in text
    assert "Need another session: CRN, NAP" in text
    assert re.search(r"^CRN .* skipped, needs session \+SCR_FUE", text, re.M)


# ------------------------------------------------------------------ pass


def test_pass_shows_setpoints_against_measured_with_its_trace_and_events(
    three_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Journal.open(three_sessions, writer=False) as journal:
        first = journal.passes(sessions_of(three_sessions, "C-0301")[0])[0]
        samples = journal.pass_samples(first.uid)
    data = run_json(capsys, "logs", "pass", first.uid[:8], "--journal", str(three_sessions))
    assert data["pass"]["uid"] == first.uid and data["pass"]["zone"] == "HL"
    assert data["setpoints"]["speed_hz"] == 100.0
    trace = data["trace"]
    assert trace["samples"] == len(samples) and 2.9 < trace["duration_s"] < 3.1
    assert trace["within_5pct"] > 0.8 and 95 < trace["median_hz"] < 105
    assert 20 <= len(trace["trace"]) <= 70
    assert [e["kind"] for e in data["events"]][:1] == ["PEDAL_DOWN"]

    assert main(["logs", "pass", first.uid, "--journal", str(three_sessions)]) == 0
    text = capsys.readouterr().out
    assert "setpoints: speed_hz 100" in text and "within 5 % of setpoint" in text
    assert re.search("speed: +[▁-█]{20,}", text)


def test_a_stalled_pass_says_how_little_of_it_ran_steadily(
    three_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Session 2's hairline pass stalled part way: its speed held while it ran, but the
    summary must not read as a pass that ran well throughout."""
    with Journal.open(three_sessions, writer=False) as journal:
        passes = journal.passes(sessions_of(three_sessions, "C-0301")[1])
    stalled = next(p for p in passes if p.outcome is not None and p.outcome.value.startswith("i"))
    data = run_json(capsys, "logs", "pass", stalled.uid, "--journal", str(three_sessions))
    trace = data["trace"]
    steady_pct = trace["steady_samples"] / trace["samples"] * 100
    assert steady_pct < 90
    assert main(["logs", "pass", stalled.uid, "--journal", str(three_sessions)]) == 0
    text = capsys.readouterr().out
    assert f"steady running {steady_pct:.1f} % of the pass, " in text
    assert " % of it within 5 % of setpoint and " in text


# ------------------------------------------------------------------ export


STABLE_PASS_COLUMNS = [
    "pass_uid",
    "session_uid",
    "client",
    "session_number",
    "pass_number",
    "zone",
    "scar",
    "started_utc",
    "ended_utc",
    "needle_s",
    "outcome",
    "outcome_detail",
    "continues_uid",
    "setpoint_hz",
    "speed_mean_hz",
    "speed_min_hz",
    "speed_max_hz",
    "depth_mm",
    "strokes",
    "samples",
    "peak_current_a",
    "max_temp_c",
    "needle",
    "cartridge_lot",
    "cartridge_expiry",
    "pigment_shade",
    "pigment_dilution",
    "pigment_lot",
    "profile_hash",
    "flag",
    "note",
    "simulated",
]
STABLE_EVENT_COLUMNS = [
    "event_uid",
    "session_uid",
    "pass_uid",
    "wall_utc",
    "source",
    "kind",
    "code",
    "value",
    "t_us",
    "message",
    "data",
]
STABLE_SAMPLE_COLUMNS = [
    "pass_uid",
    "t_us",
    "sample_seq",
    "speed_chz",
    "setpoint_chz",
    "current_ma",
    "voltage_mv",
    "temp_cdegc",
    "strokes",
    "depth_um",
    "battery_pct",
    "status",
    "faults",
]


def test_export_columns_are_the_published_ones() -> None:
    """Exported columns are a format others parse: changing one must be deliberate (append
    only, bump EXPORT_FORMAT_VERSION, update docs/export.md and this list)."""
    assert list(PASS_COLUMNS) == STABLE_PASS_COLUMNS
    assert list(EVENT_COLUMNS) == STABLE_EVENT_COLUMNS
    assert list(SAMPLE_COLUMNS) == STABLE_SAMPLE_COLUMNS
    doc = (ROOT / "docs" / "export.md").read_text()
    for column in {*PASS_COLUMNS, *EVENT_COLUMNS, *SAMPLE_COLUMNS}:
        assert f"`{column}`" in doc, column


def test_export_csv_writes_every_table_with_the_stable_headers(
    three_sessions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "c0301.csv"
    argv = ["logs", "export", "--client", "C-0301", "--format", "csv", "-o", str(out)]
    assert main([*argv, "--telemetry", "--journal", str(three_sessions)]) == 0
    tables = {}
    for table in ("passes", "events", "samples"):
        path = tmp_path / f"c0301.{table}.csv"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # health data
        with path.open() as f:
            tables[table] = list(csv.reader(f))
    assert tables["passes"][0] == STABLE_PASS_COLUMNS
    assert tables["events"][0] == STABLE_EVENT_COLUMNS
    assert tables["samples"][0] == STABLE_SAMPLE_COLUMNS
    with Journal.open(three_sessions, writer=False) as journal:
        uids = sessions_of(three_sessions, "C-0301")
        passes = [p for u in uids for p in journal.passes(u)]
    assert len(tables["passes"]) - 1 == len(passes)
    assert len(tables["samples"]) - 1 == sum(p.samples or 0 for p in passes)
    assert {row[2] for row in tables["passes"][1:]} == {"C-0301"}
    assert "samples" in capsys.readouterr().err


def test_export_jsonl_has_a_header_then_records_in_column_order(
    three_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["logs", "export", "C-0301#1", "--format", "jsonl", "--telemetry"]
    assert main([*argv, "--journal", str(three_sessions)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    head = lines[0]
    assert head["record"] == "header" and head["format_version"] == 1
    assert head["columns"]["pass"] == STABLE_PASS_COLUMNS
    kinds = [line["record"] for line in lines[1:]]
    assert kinds == sorted(kinds, key=["pass", "event", "sample"].index)
    first_pass = next(line for line in lines if line["record"] == "pass")
    assert list(first_pass)[1:] == STABLE_PASS_COLUMNS
    sample = next(line for line in lines if line["record"] == "sample")
    assert list(sample)[1:] == STABLE_SAMPLE_COLUMNS


def test_export_all_without_telemetry_has_no_samples(
    three_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["logs", "export", "--all", "--format", "jsonl", "--journal", str(three_sessions)])
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {line["record"] for line in lines} == {"header", "pass", "event"}
    assert {line["client"] for line in lines if line["record"] == "pass"} == {"C-0301", "C-0302"}


# ------------------------------------------------------------------ report


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def test_report_is_self_contained_and_shows_every_zone(
    three_sessions: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    argv = ["logs", "report", "C-0301#1", "-o", str(out), "--journal", str(three_sessions)]
    assert main(argv) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    html, parsed = parse_report(out)
    # nothing external: no scripts, links, images, frames, fonts or imports
    for tag, attrs in parsed.tags:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
        for name in ("src", "href", "xlink:href", "srcset", "data", "action"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
        style = attrs.get("style") or ""
        assert "url(" not in style
    css = "".join(parsed.styles)
    assert "@import" not in css and "@font-face" not in css
    assert not re.search(r"url\((?!#)", css + html.replace("url(#cov)", ""))
    assert "@media print" in css
    # every zone on the scalp map, in the table and with its strip of passes
    ids = {attrs.get("id") for _tag, attrs in parsed.tags}
    for zone in ZoneCode:
        assert f"map-{zone.value}" in ids
        assert f"zone-{zone.value}" in ids  # all ten were treated in session 1
        assert f"passes-{zone.value}" in ids and f"strip-{zone.value}" in ids
    with Journal.open(three_sessions, writer=False) as journal:
        passes = journal.passes(sessions_of(three_sessions, "C-0301")[0])
    drawn = strips(parsed)
    assert set(drawn) == {z.value for z in ZoneCode}
    for name, (count, segments) in drawn.items():
        assert count == sum(1 for p in passes if p.zone == name) == segments, name
    assert "SCR_FUE" in html and "CT-2291" in html and "PG-118" in html


def strips(parsed: _Collector) -> dict[str, tuple[int, int]]:
    """Per zone strip: the passes it says it holds, and the segments its speed line draws."""
    out: dict[str, tuple[int, int]] = {}
    zone = None
    for tag, attrs in parsed.tags:
        if tag == "svg" and attrs.get("class") == "strip":
            zone = str(attrs["id"]).removeprefix("strip-")
            out[zone] = (int(str(attrs["data-passes"])), 0)
        elif tag == "path" and attrs.get("class") == "speed-line" and zone is not None:
            out[zone] = (out[zone][0], str(attrs["d"]).count("M"))
            zone = None
    return out


def parse_report(path: Path) -> tuple[str, _Collector]:
    html = path.read_text()
    parsed = _Collector()
    parsed.feed(html)
    return html, parsed


def test_report_cards_only_the_passes_that_need_a_look(
    three_sessions: Path, tmp_path: Path
) -> None:
    """Session 2's stalled, flagged hairline pass gets a card with its own trace and id;
    the passes that ran as asked are counted in their zone's strip, not carded."""
    out = tmp_path / "second.html"
    argv = ["logs", "report", "C-0301#2", "-o", str(out), "--journal", str(three_sessions)]
    assert main(argv) == 0
    html, parsed = parse_report(out)
    with Journal.open(three_sessions, writer=False) as journal:
        passes = journal.passes(sessions_of(three_sessions, "C-0301")[1])
    stalled = next(p for p in passes if p.outcome is not None and p.outcome.value.startswith("i"))
    cards = [a["id"] for t, a in parsed.tags if t == "div" and a.get("class") == "pass bad"]
    assert cards == [f"pass-{stalled.uid[:8]}"]
    card = re.search(rf"<div class='pass bad' id='pass-{stalled.uid[:8]}'>.*?</div>", html)
    assert card is not None
    assert "interrupted fault" in card.group(0) and "flag: check" in card.group(0)
    assert 'class="speed-line"' in card.group(0)
    assert re.search(r"HL — hairline \(2 passes, 1 to look at\)", html)
    assert "1 other pass ran as asked" in html
    assert sum(count for count, _segments in strips(parsed).values()) == len(passes)
    assert "smpctl logs pass PASS_ID" in html
    # the fault, the stop and the disarm it caused, each in the events table
    for kind in ("FAULT_RAISED", "MOTOR_STOPPED", "DISARMED"):
        assert f"<td class=text>{kind}</td>" in html


@pytest.mark.parametrize(
    ("codec", "data"),
    [("trace-v99", None), ("trace-u32ms-u16chz-v1", b"not zlib"), (None, b"\x01\x02\x03")],
    ids=["unknown codec", "corrupt compressed", "not whole points"],
)
def test_a_stored_trace_this_release_cannot_read_is_drawn_from_telemetry(
    three_sessions: Path, tmp_path: Path, codec: str | None, data: bytes | None
) -> None:
    """A damaged or newer pass_traces row is not an error for the report: the stalled
    pass's card draws its trace from the pass's telemetry, as before traces were kept."""
    copy = tmp_path / "damaged.sqlite3"
    with Journal.open(three_sessions, writer=False) as journal:
        passes = journal.passes(sessions_of(three_sessions, "C-0301")[1])
    stalled = next(p for p in passes if p.outcome is not None and p.outcome.value.startswith("i"))
    with sqlite3.connect(three_sessions) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
        sets = ", ".join(
            f"{column} = ?" for column, value in (("codec", codec), ("data", data)) if value
        )
        values = [value for value in (codec, data) if value]
        changed = dst.execute(
            f"UPDATE pass_traces SET {sets} WHERE pass_uid = ?", (*values, stalled.uid)
        )
        assert changed.rowcount == 1
    reports = {}
    for name, path in (("stored", three_sessions), ("damaged", copy)):
        out = tmp_path / f"{name}.html"
        assert main(["logs", "report", "C-0301#2", "-o", str(out), "--journal", str(path)]) == 0
        reports[name] = out.read_text()
    card = re.search(
        rf"<div class='pass bad' id='pass-{stalled.uid[:8]}'>.*?</div>", reports["damaged"]
    )
    assert card is not None and 'class="speed-line"' in card.group(0)
    assert "no telemetry" not in card.group(0)
    assert len(re.findall(r"\d+,\d+", card.group(0))) >= 20  # a trace, not a stub


def test_a_zone_strip_that_does_not_hold_all_the_zones_passes_is_drawn_again(
    three_sessions: Path, tmp_path: Path
) -> None:
    """A stored strip is used only when it holds every pass of its zone (one left behind
    by a pass still open, or edited): otherwise the strip is drawn from the traces."""
    copy = tmp_path / "stale.sqlite3"
    session = sessions_of(three_sessions, "C-0301")[1]
    with sqlite3.connect(three_sessions) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
        # the strip as it stood before the zone's last pass
        (last,) = dst.execute(
            "SELECT last_number FROM zone_strips WHERE session_uid = ? AND zone = 'HL'",
            (session,),
        ).fetchone()
        before = strip_of(dst.execute(STRIP_PASSES_SQL, (session, "HL", last - 1)).fetchall())
        assert before is not None and before.passes >= 1
        stale = dst.execute(
            "UPDATE zone_strips SET passes = ?, data = ? WHERE session_uid = ? AND zone = 'HL'",
            (before.passes, before.view().encode(), session),
        )
        assert stale.rowcount == 1
    out = tmp_path / "stale.html"
    assert main(["logs", "report", "C-0301#2", "-o", str(out), "--journal", str(copy)]) == 0
    with Journal.open(copy, writer=False) as journal:
        passes = journal.passes(session)
    drawn = strips(parse_report(out)[1])
    hl = sum(1 for p in passes if p.zone == "HL")
    assert drawn["HL"] == (hl, hl)


def test_a_report_on_a_journal_without_stored_traces_reads_them_from_telemetry(
    three_sessions: Path, tmp_path: Path
) -> None:
    """Journals from before traces were kept have no pass_traces rows (nor zone strips):
    the report draws every pass's trace from its telemetry instead."""
    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(three_sessions) as src, sqlite3.connect(old) as dst:
        src.backup(dst)
        assert dst.execute("DELETE FROM pass_traces").rowcount > 0
        # the zone strips were drawn from them: they go too (a journal trigger)
        assert dst.execute("SELECT COUNT(*) FROM zone_strips").fetchone() == (0,)
    reports = {}
    for name, path in (("stored", three_sessions), ("telemetry", old)):
        out = tmp_path / f"{name}.html"
        assert main(["logs", "report", "C-0301#2", "-o", str(out), "--journal", str(path)]) == 0
        reports[name] = parse_report(out)
    with Journal.open(old, writer=False) as journal:
        passes = journal.passes(sessions_of(old, "C-0301")[1])
    for _html, parsed in reports.values():
        drawn = strips(parsed)
        assert sum(count for count, _segments in drawn.values()) == len(passes)
        assert all(count == segments for count, segments in drawn.values())
    html = reports["telemetry"][0]
    assert "no telemetry" not in html
    card = re.search(r"<div class='pass bad'.*?</div>", html)
    assert card is not None and 'class="speed-line"' in card.group(0)


def test_report_marks_untreated_zones_on_the_map(three_sessions: Path, tmp_path: Path) -> None:
    out = tmp_path / "third.html"
    argv = ["logs", "report", "C-0301#3", "-o", str(out), "--journal", str(three_sessions)]
    assert main(argv) == 0
    html = out.read_text()
    for zone in ("CRN", "NAP"):
        group = re.search(rf'<g class="zone" id="map-{zone}".*?</g>', html)
        assert group is not None and "not treated" in group.group(0)
    assert "id='zone-CRN'" not in html


# ------------------------------------------------------------------ bad input


def test_unknown_ids_name_the_closest_matches(
    three_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    j = ["--journal", str(three_sessions)]
    assert main(["logs", "compare", "C-0310", *j]) == 1
    err = capsys.readouterr().err
    assert "no client 'C-0310'" in err and "Closest matches:" in err and "C-0301" in err
    uid = sessions_of(three_sessions, "C-0301")[1]
    typo = uid[:7] + ("0" if uid[7] != "0" else "1")
    assert main(["logs", "show", typo, *j]) == 1
    err = capsys.readouterr().err
    assert f"no session '{typo}'" in err and uid[:8] in err and "C-0301 #2" in err
    assert main(["logs", "pass", "zzzz", *j]) == 1
    assert "no pass 'zzzz'" in capsys.readouterr().err
    assert main(["logs", "show", "C-0301#9", *j]) == 1
    assert "Closest matches" in capsys.readouterr().err


def test_a_prefix_of_several_ids_asks_for_more(
    three_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["logs", "compare", "C-030", "--journal", str(three_sessions)]) == 1
    assert "starts more than one client" in capsys.readouterr().err


def test_a_journal_from_a_newer_smpctl_says_what_to_install_and_is_left_alone(
    three_sessions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "newer.sqlite3"
    with sqlite3.connect(three_sessions) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
        dst.execute(f"PRAGMA user_version = {LATEST + 1}")
    before = path.read_bytes()
    for argv in (
        ["logs", "show", "C-0301#1"],
        ["logs", "compare", "C-0301"],
        ["logs", "report", "C-0301#1", "-o", str(tmp_path / "r.html")],
    ):
        assert main([*argv, "--journal", str(path)]) == 1
        err = capsys.readouterr().err
        assert f"journal schema {LATEST + 1}" in err and f"up to {LATEST}" in err
        assert "Install a release of smpctl newer than" in err and "pip install --upgrade" in err
    assert path.read_bytes() == before
    assert not (tmp_path / "r.html").exists()


def test_an_unwritable_output_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing_journal = tmp_path / "no-journal.sqlite3"
    j = ["--journal", str(missing_journal)]
    assert main(["logs", "report", "x", "-o", str(tmp_path / "nodir" / "r.html"), *j]) == 1
    err = capsys.readouterr().err
    assert "the directory" in err and "does not exist" in err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert (
        main(["logs", "export", "--all", "--format", "csv", "-o", str(blocker / "x.csv"), *j]) == 1
    )
    assert "is a file, not a directory" in capsys.readouterr().err
    assert main(["logs", "report", "x", "-o", str(tmp_path), *j]) == 1
    assert "it is a directory" in capsys.readouterr().err
    assert main(["logs", "export", "--all", "--format", "csv", *j]) == 1
    assert "give -o FILE.csv" in capsys.readouterr().err
    assert not missing_journal.exists()  # the journal was never opened (nor created)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any directory")
def test_a_read_only_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    argv = ["logs", "report", "x", "-o", str(locked / "r.html"), "--journal", str(tmp_path / "j")]
    assert main(argv) == 1
    assert "is not writable" in capsys.readouterr().err


def test_a_missing_journal_is_reported_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nowhere" / "journal.sqlite3"
    assert main(["logs", "show", "x", "--journal", str(path)]) == 1
    assert "no session journal at" in capsys.readouterr().err
    assert not path.parent.exists()


# ------------------------------------------------------------------ pieces


def test_list_filters_by_client_date_zone_and_kind(three_sessions: Path) -> None:
    import datetime as dt

    with Journal.open(three_sessions, writer=False) as journal:
        everything = journal.sessions()
    assert len(filter_sessions(everything, client="C-0301")) == 3
    assert [s.session_number for s in filter_sessions(everything, zone="NAP")] == [1]
    later = dt.date.fromtimestamp(everything[1].started_wall)
    assert len(filter_sessions(everything, since=later)) == 3
    assert filter_sessions(everything, simulated=False) == []


def test_replay_at_10x_runs_ten_times_faster(three_sessions: Path) -> None:
    with Journal.open(three_sessions, writer=False) as journal:
        first = journal.passes(sessions_of(three_sessions, "C-0301")[0])[0]
        samples = journal.pass_samples(first.uid)
    slow, fast = Replay(samples), Replay(samples, speed=10.0)
    slow.play()
    fast.play()
    assert len(fast.advance(0.2)) > 8 * len(slow.advance(0.2)) > 0
    assert fast.advance(1.0) and fast.finished and not fast.playing


def test_every_command_works_on_the_dashboards_recording(
    dashboard_journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    j = ["--journal", str(dashboard_journal)]
    compared = run_json(capsys, "logs", "compare", "C-0142", *j)
    assert [z["zone"] for z in compared["zones"]] == ["HL", "FRN", "CRN"]
    crn = compared["zones"][2]
    assert crn["scars"] == ["SCR_FUE"] and compared["needs_session"] == []  # no neighbour yet
    with Journal.open(dashboard_journal, writer=False) as journal:
        passes = journal.passes()
    crown = next(p for p in passes if p.zone == "CRN")
    detail = run_json(capsys, "logs", "pass", crown.uid[:8], *j)
    assert detail["pass"]["scar"] == "SCR_FUE" and detail["pass"]["flag"] == "flagged"
    assert detail["trace"]["samples"] == crown.samples and detail["trace"]["median_hz"] > 90
    out = tmp_path / "dash.jsonl"
    assert (
        main(["logs", "export", "C-0142#1", "--format", "jsonl", "-o", str(out), "--telemetry", *j])
        == 0
    )
    records = [json.loads(line)["record"] for line in out.read_text().splitlines()]
    assert records.count("pass") == len(passes)
    assert records.count("sample") == sum(p.samples or 0 for p in passes)
    report = tmp_path / "dash.html"
    assert main(["logs", "report", "C-0142#1", "-o", str(report), *j]) == 0
    html, parsed = parse_report(report)
    assert "LOT-991" in html
    drawn = strips(parsed)
    assert set(drawn) == {"HL", "FRN", "CRN"}
    assert all(count == segments == 1 for count, segments in drawn.values())
    crown_card = re.search(rf"<div class='pass bad' id='pass-{crown.uid[:8]}'>.*?</div>", html)
    assert crown_card is not None and "flag: flagged" in crown_card.group(0)


def test_logs_list_filters_by_client_zone_and_kind(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cli_main = main
    journal_path = tmp_path / "filters.sqlite3"
    with Journal.open(journal_path) as journal:
        for client, simulated in (("C-1", True), ("C-2", False)):
            journal.open_session(client, 1, "AB", consent=True, simulated=simulated)
            journal.close_session()
    assert cli_main(["logs", "list", "--journal", str(journal_path), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["sessions"]) == 2
    assert cli_main(["logs", "list", "--journal", str(journal_path), "--client", "C-2"]) == 0
    out = capsys.readouterr().out
    assert "C-2" in out and "C-1" not in out
    assert cli_main(["logs", "list", "--journal", str(journal_path), "--real", "--json"]) == 0
    sessions = json.loads(capsys.readouterr().out)["sessions"]
    assert [s["client"] for s in sessions] == ["C-2"]
    assert cli_main(["logs", "list", "--journal", str(journal_path), "--zone", "XX"]) == 1
    assert "unknown zone 'XX'" in capsys.readouterr().err
