"""`smpctl outcomes CLIENT`: per zone, the cumulative dose session by session and the hair
measured, as text with a plot that needs no terminal, as JSON, and as a self-contained
HTML file."""

from __future__ import annotations

import json
import re
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest
from outcomes_support import TODAY, Clock, day, record_session, run_cli

from smpctl.journal import Journal
from smpctl.outcomes import (
    client_for_reading,
    client_for_record,
    client_timeline,
    record_outcome,
    start_adjunct,
)
from smpctl.outcomes.terminal_plot import zone_plot

# CRN (default 60 cm²): 6000 in-skin strokes x 3 needles = 300/cm²; a 12-pin session of
# 1000 in-skin strokes = 200/cm². HL (30 cm²): 1500 x 1 = 50/cm² in session 1 only.
MEASURED = [  # (day offset, terminal, vellus)
    (0, 40.0, 20.0),  # session 1's day: before its needle
    (21, 42.0, 19.0),  # session 2's day
    (42, 45.0, 18.0),  # session 3's day
    (91, 50.0, 15.0),
]


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite3"
    clock = Clock()
    with Journal.open(path, wall=clock) as journal:
        record_session(journal, clock, "C-0401", 1, 0, {"CRN": (6000, 3), "HL": (1500, 1)})
        record_session(journal, clock, "C-0401", 2, 21, {"CRN": (1000, 12)}, kind="microneedling")
        record_session(journal, clock, "C-0401", 3, 42, {"CRN": (6000, 3)})  # kind NULL: smp
        client = client_for_record(journal, "C-0401")
        start_adjunct(journal, client, "minoxidil", started=day(10), today=TODAY)
        for offset, terminal, vellus in MEASURED:
            record_outcome(
                journal,
                client,
                zone="CRN",
                day=day(offset),
                today=TODAY,
                terminal_per_cm2=terminal,
                vellus_per_cm2=vellus,
            )
    return path


def test_cumulative_dose_and_density_per_zone_in_json(
    journal_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "outcomes", "C-0401", "--json", "--journal", str(journal_path))
    assert code == 0, err
    data = json.loads(out)
    assert [(s["number"], s["kind"]) for s in data["sessions"]] == [
        (1, "smp"),
        (2, "microneedling"),
        (3, "smp"),
    ]
    assert list(data["zones"]) == ["HL", "CRN"]
    crn = data["zones"]["CRN"]
    assert [s["per_cm2"] for s in crn["sessions"]] == pytest.approx([300.0, 200.0, 300.0])
    assert [s["cumulative_per_cm2"] for s in crn["sessions"]] == pytest.approx([300, 500, 800])
    measured = crn["measurements"]
    assert [m["day"] for m in measured] == [day(o).isoformat() for o, _, _ in MEASURED]
    assert [m["cumulative_per_cm2"] for m in measured] == pytest.approx([0, 300, 500, 800])
    assert [m["sessions_before"] for m in measured] == [0, 1, 2, 3]
    assert [m["terminal_per_cm2"] for m in measured] == [40, 42, 45, 50]
    assert [m["vellus_per_cm2"] for m in measured] == [20, 19, 18, 15]
    assert [m["adjuncts_active"] for m in measured] == [
        [],
        ["minoxidil"],
        ["minoxidil"],
        ["minoxidil"],
    ]
    hl = data["zones"]["HL"]
    assert [s["cumulative_per_cm2"] for s in hl["sessions"]] == pytest.approx([50.0])
    assert hl["measurements"] == []


def test_the_text_lists_sessions_and_measurements_by_day_and_draws_each_zone(
    journal_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "outcomes", "C-0401", "--journal", str(journal_path))
    assert code == 0, err
    assert "Sessions: #1 2026-03-02 smp · #2 2026-03-23 microneedling · #3 2026-04-13 smp" in out
    crn = out[out.index("CRN crown") :]
    rows = [re.split(r"\s{2,}", line.strip()) for line in crn.splitlines()[2:9]]
    assert rows == [
        ["2026-03-02", "measurement (trichoscope)", "0.0", "40.0", "20.0", "-", "-", "-"],
        ["2026-03-02", "session #1 smp", "300.0", "300.0"],
        ["2026-03-23", "measurement (trichoscope)", "300.0", "42.0", "19.0", "-", "-", "minoxidil"],
        ["2026-03-23", "session #2 microneedling", "200.0", "500.0"],
        ["2026-04-13", "measurement (trichoscope)", "500.0", "45.0", "18.0", "-", "-", "minoxidil"],
        ["2026-04-13", "session #3 smp", "300.0", "800.0"],
        ["2026-06-01", "measurement (trichoscope)", "800.0", "50.0", "15.0", "-", "-", "minoxidil"],
    ]
    assert out.count("days since first session") == 2  # one plot per zone, HL and CRN
    assert "\x1b[" not in out


def test_the_plot_renders_to_a_string_with_no_terminal(journal_path: Path) -> None:
    with Journal.open(journal_path, writer=False) as journal:
        timeline = client_timeline(journal, client_for_reading(journal, "C-0401"))
    plot = zone_plot(timeline.zones["CRN"], day(0), width=72, height=18)
    lines = plot.splitlines()
    assert len(lines) > 18 and max(len(line) for line in lines) <= 72  # plot, then its key
    assert "CRN crown" in lines[0] and "\x1b[" not in plot
    # both axes from 0 to 110 % of the top figure: dose 800/cm², terminal 50/cm²
    assert "880.0┤" in plot and "├55.0" in plot and "  0.0┤" in plot and "├0.0" in plot
    key = " ".join(line.strip() for line in lines[18:])
    for legend in ("cumulative punctures/cm²", "M: microneedling session", "T: terminal hairs"):
        assert legend in key


class _Resources(HTMLParser):
    """What a page would fetch: script, link, img, iframe, src=, remote href=, url()."""

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("script", "link", "img", "iframe", "object", "embed"):
            self.fetches.append(tag)
        for name, value in attrs:
            if name in ("src", "srcset") or (
                name in ("href", "xlink:href") and not (value or "").startswith("#")
            ):
                self.fetches.append(f"{name}={value}")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "url(" in data or "@import" in data:
            self.fetches.append(data.strip()[:40])


def test_the_html_report_is_self_contained(
    journal_path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "out" / "C-0401.html"
    code, _, err = run_cli(
        capsys, "outcomes", "C-0401", "-o", str(target), "--journal", str(journal_path)
    )
    assert code == 1 and "does not exist" in err  # the output is checked before any work
    target.parent.mkdir()
    code, out, err = run_cli(
        capsys, "outcomes", "C-0401", "-o", str(target), "--journal", str(journal_path)
    )
    assert code == 0, err
    assert out == "" and "outcomes report written to" in err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    page = _Resources()
    page.feed(target.read_text(encoding="utf-8"))
    page.close()
    assert page.fetches == []
    assert page.tags.count("svg") == 2 and "table" in page.tags
    text = " ".join(page.text)
    assert "association in these records" in text
    assert "800.0" in text and "50.0" in text and "minoxidil" in text
    assert "@media print" in text


def test_an_unknown_client_gets_the_closest_pseudonyms(
    journal_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "outcomes", "C-0410", "--journal", str(journal_path))
    assert code == 1 and out == ""
    assert "no client 'C-0410' in the journal. Closest matches: C-0401" in err
