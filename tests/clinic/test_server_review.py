"""`smpctl logs show|compare|pass|export|report --server URL`: the review commands on the
clinic-wide records of a real PostgreSQL, from a chair that recorded none of them."""

from __future__ import annotations

import json
import re
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from clinic_support import Server, write_session

from smpctl.cli import main
from smpctl.clinic import ServerReview, sync
from smpctl.journal import Journal
from smpctl.review.accelerated import SESSION_START, PlannedPass, SessionPlan, SessionRecorder
from smpctl.zones import ZoneCode

ALL_ZONES = [z.value for z in ZoneCode]
DAY = 86_400.0
B_SESSION_START = SESSION_START + 21 * DAY


@pytest.fixture(scope="module")
def journals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Chair a: client C-0301's first session in every zone (recorded as the recorder
    does, with pass traces) and C-0302's one; chair b: C-0301's second session, written
    as an older journal without pass traces (the report falls back to telemetry)."""
    root = tmp_path_factory.mktemp("chairs")
    a, b = root / "a" / "journal.sqlite3", root / "b" / "journal.sqlite3"
    recorder = SessionRecorder(seed=5)
    first = [PlannedPass(z, 0.6, 0.5) for z in ALL_ZONES]
    first.append(PlannedPass("CRN", 0.6, 0.5, scar="SCR_FUE"))
    with Journal.open(a, wall=recorder.wall) as journal:
        recorder.record(journal, SessionPlan("C-0301", 1, first, start_wall=SESSION_START))
        recorder.record(
            journal,
            SessionPlan("C-0302", 1, [PlannedPass("FRN", 0.5)], start_wall=SESSION_START + 2 * DAY),
        )
    write_session(
        b, "C-0301", session_number=2, passes=4, samples=400, chunk=20, start_wall=B_SESSION_START
    )
    return a, b


@dataclass
class Clinic:
    server: Server
    a: Path
    b: Path
    reader: str
    """The sign-in URL of chair c, which recorded nothing."""
    empty: Path
    """Chair c's own (empty) journal."""

    def chair(self, name: str) -> str:
        return f"{self.server.db}_{name}"


@pytest.fixture
def clinic(
    server: Server,
    journals: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Clinic:
    a, b = journals
    sync(a, server.chair("a"))
    sync(b, server.chair("b"))
    reader = server.chair("c")
    empty = tmp_path / "c" / "journal.sqlite3"
    Journal.open(empty).close()
    snapshots = tmp_path / "tmp"
    snapshots.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(snapshots))
    return Clinic(server, a, b, reader, empty)


def run(clinic: Clinic, *argv: str) -> int:
    return main([*argv, "--server", clinic.reader, "--journal", str(clinic.empty)])


def run_json(clinic: Clinic, capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    assert run(clinic, *argv, "--json") == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def local_json(capsys: pytest.CaptureFixture[str], journal: Path, *argv: str) -> dict:  # type: ignore[type-arg]
    assert main([*argv, "--journal", str(journal), "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def session_uids(path: Path, client: str) -> list[str]:
    with Journal.open(path, writer=False) as journal:
        return [s.uid for s in journal.sessions() if s.client == client]


def assert_left_nothing_behind(clinic: Clinic) -> None:
    """The snapshot journal is gone, and chair c's own journal was not touched."""
    assert list(Path(str(tempfile.tempdir)).iterdir()) == []
    with Journal.open(clinic.empty, writer=False) as journal:
        assert journal.sessions() == []


# ------------------------------------------------------------------ show, compare, pass


def test_show_reviews_a_session_another_chair_recorded(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    uid = session_uids(clinic.b, "C-0301")[0]
    assert run(clinic, "logs", "show", uid[:6]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("records from clinic server ") and lines[0].endswith("(2 chairs)")
    assert lines[1].startswith(f"Session {uid[:8]}") and lines[1].endswith(
        f"at chair {clinic.chair('b')}"
    )
    for zone in ("HL", "FRN", "CRN"):
        assert re.search(rf"^{zone} +1 ", out, re.M)
    assert "LOT-7" in out and "P-3" in out
    # the same review as on the chair that recorded it, plus where it came from
    remote = run_json(clinic, capsys, "logs", "show", "C-0301#2", "--passes")
    local = local_json(capsys, clinic.b, "logs", "show", "C-0301#2", "--passes")
    assert remote.pop("chairs") == 2 and remote.pop("server").endswith(clinic.server.db)
    assert remote["session"].pop("chair") == clinic.chair("b")
    assert remote == local
    assert_left_nothing_behind(clinic)


def test_compare_sees_the_sessions_of_every_chair(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = session_uids(clinic.a, "C-0301")[0], session_uids(clinic.b, "C-0301")[0]
    assert run(clinic, "logs", "compare", "c-0301") == 0
    out = capsys.readouterr().out
    assert "Client C-0301: 2 session(s)" in out
    assert re.search(rf"#1 +{first[:8]} .*at chair {clinic.chair('a')}$", out, re.M)
    assert re.search(rf"#2 +{second[:8]} .*at chair {clinic.chair('b')}$", out, re.M)
    assert "Skipped in the latest session: " in out
    data = run_json(clinic, capsys, "logs", "compare", "C-0301")
    assert [(s["number"], s["uid"], s["chair"]) for s in data["sessions"]] == [
        (1, first, clinic.chair("a")),
        (2, second, clinic.chair("b")),
    ]
    zones = {z["zone"]: z for z in data["zones"]}
    assert set(zones) == set(ALL_ZONES)
    assert zones["HL"]["sessions_treated"] == 2 and zones["NAP"]["skipped"]
    assert zones["CRN"]["scars"] == ["SCR_FUE"]
    assert_left_nothing_behind(clinic)


def test_pass_brings_its_telemetry_and_events_from_the_server(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    with Journal.open(clinic.b, writer=False) as journal:
        second = journal.passes()[1]
    data = run_json(clinic, capsys, "logs", "pass", second.uid[:7])
    assert data["pass"]["uid"] == second.uid and data["chair"] == clinic.chair("b")
    assert data["client"] == "C-0301" and data["session_number"] == 2
    assert data["trace"]["samples"] == 400  # every raw sample of the pass, nothing more
    assert data["cartridge"] == "1RL 0.20 lot LOT-7"
    with Journal.open(clinic.a, writer=False) as journal:
        crown = next(p for p in journal.passes() if p.scar == "SCR_FUE")
        samples = len(journal.pass_samples(crown.uid))
    local = local_json(capsys, clinic.a, "logs", "pass", crown.uid)
    remote = run_json(clinic, capsys, "logs", "pass", crown.uid)
    assert remote.pop("chair") == clinic.chair("a") and remote.pop("chairs") == 2
    remote.pop("server")
    assert remote == local and remote["trace"]["samples"] == samples > 0
    assert run(clinic, "logs", "pass", crown.uid[:8]) == 0
    first = capsys.readouterr().out.splitlines()[1]
    assert first.startswith(f"Pass {crown.uid[:8]}") and first.endswith(clinic.chair("a"))
    assert_left_nothing_behind(clinic)


def test_a_review_fetches_only_what_the_command_shows(clinic: Clinic) -> None:
    def count(review: ServerReview, table: str) -> int:
        row = review.journal.store.query_one(f"SELECT COUNT(*) AS n FROM {table}")
        assert row is not None
        return int(row["n"])

    with Journal.open(clinic.b, writer=False) as journal:
        b_passes = journal.passes()
        chunks = [
            len(
                journal.store.query("SELECT uid FROM telemetry_chunks WHERE pass_uid = ?", (p.uid,))
            )
            for p in b_passes
        ]
    with ServerReview.open(clinic.reader) as review:
        snapshot = review.journal.path
        assert stat.S_IMODE(snapshot.parent.stat().st_mode) == 0o700
        review.session("C-0301#1")
        assert count(review, "sessions") == 3  # every session, to resolve ids against
        assert count(review, "passes") == 11  # C-0302's and #2's are not fetched
        assert count(review, "pass_traces") == 11 and count(review, "session_areas") > 0
        assert count(review, "telemetry_chunks") == 0
        review.session("C-0301#2", "trace")  # no stored traces: a few chunks per pass
        assert chunks == [20] * 4
        assert count(review, "telemetry_chunks") == 4 * 16
    assert not snapshot.parent.exists()
    with ServerReview.open(clinic.reader) as review:
        record = review.pass_record(b_passes[2].uid[:9])
        assert record.uid == b_passes[2].uid
        assert count(review, "passes") == 1 and count(review, "telemetry_chunks") == chunks[2]
        assert review.chair(record.uid) == clinic.chair("b")


# ------------------------------------------------------------------ export, report


def _jsonl(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines() if line]


def test_export_all_holds_the_union_of_every_chairs_records(
    clinic: Clinic, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    local: Counter[str] = Counter()
    local_passes: set[str] = set()
    for journal in (clinic.a, clinic.b):
        argv = ["logs", "export", "--all", "--format", "jsonl", "--telemetry"]
        assert main([*argv, "--journal", str(journal)]) == 0
        lines = _jsonl(capsys.readouterr().out)
        local.update(line["record"] for line in lines if line["record"] != "header")
        local_passes |= {line["pass_uid"] for line in lines if line["record"] == "pass"}
    out = tmp_path / "clinic.jsonl"
    argv = ["logs", "export", "--all", "--format", "jsonl", "--telemetry", "-o", str(out)]
    assert run(clinic, *argv) == 0
    err = capsys.readouterr().err
    assert "records from clinic server" in err and "3 session(s)" in err
    lines = _jsonl(out.read_text())
    assert lines[0]["record"] == "header"
    remote = Counter(line["record"] for line in lines[1:])
    assert remote == local and remote["sample"] > 0
    assert {line["pass_uid"] for line in lines if line["record"] == "pass"} == local_passes
    # to standard output: only the records there, where they came from on stderr
    assert run(clinic, "logs", "export", "--client", "C-0301", "--format", "jsonl") == 0
    captured = capsys.readouterr()
    records = Counter(line["record"] for line in _jsonl(captured.out))
    assert records["pass"] == 11 + 4 and records["sample"] == 0
    assert captured.err.startswith("records from clinic server")
    assert_left_nothing_behind(clinic)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


SERVER_LINE = re.compile(r"<p class='muted'>Records from clinic server [^<]*</p>")


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parsed = _Collector()
    parsed.feed(html)
    for tag, attrs in parsed.tags:  # self-contained still
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
        for name in ("src", "href", "xlink:href", "srcset", "data", "action"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    return parsed.tags


def _report(argv: list[str], out: Path) -> str:
    assert main(["logs", "report", *argv, "-o", str(out)]) == 0
    return out.read_text()


def test_report_from_the_server_is_the_chairs_own_with_where_it_came_from(
    clinic: Clinic, tmp_path: Path
) -> None:
    server = ["--server", clinic.reader, "--journal", str(clinic.empty)]
    remote = _report(["C-0301#1", *server], tmp_path / "remote.html")
    local = _report(["C-0301#1", "--journal", str(clinic.a)], tmp_path / "local.html")
    line = SERVER_LINE.findall(remote)
    assert len(line) == 1 and line[0].endswith(
        f"(2 chairs); this session was recorded at chair {clinic.chair('a')}.</p>"
    )
    tags = _tags(SERVER_LINE.sub("", remote))
    ids = {attrs.get("id") for _tag, attrs in tags}
    for zone in ALL_ZONES:
        assert f"map-{zone}" in ids and f"zone-{zone}" in ids  # all ten treated in #1
    assert tags == _tags(local)  # every chart and speed trace drawn from the same records
    # chair b's journal kept no pass traces: they are drawn from a few telemetry chunks,
    # as the chair's own report draws them
    uid = session_uids(clinic.b, "C-0301")[0]
    remote = _report([uid[:8], *server], tmp_path / "remote-b.html")
    local = _report([uid, "--journal", str(clinic.b)], tmp_path / "local-b.html")
    assert f"recorded at chair {clinic.chair('b')}" in remote
    tags = _tags(SERVER_LINE.sub("", remote))
    assert all(f"map-{zone}" in {a.get("id") for _t, a in tags} for zone in ALL_ZONES)
    assert any(a.get("class") == "speed-line" for _t, a in tags)
    assert tags == _tags(local)
    assert_left_nothing_behind(clinic)


# ------------------------------------------------------------------ bad input, faults


def test_unknown_ids_name_the_closest_matches_on_the_server(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    uid = session_uids(clinic.b, "C-0301")[0]
    typo = uid[:7] + ("0" if uid[7] != "0" else "1")
    assert run(clinic, "logs", "show", typo) == 1
    err = capsys.readouterr().err
    assert f"no session '{typo}' on the clinic server" in err
    assert "Closest matches:" in err and f"{uid[:8]} (C-0301 #2" in err
    assert "Traceback" not in err
    assert run(clinic, "logs", "compare", "C-0310") == 1
    err = capsys.readouterr().err
    assert "no client 'C-0310' on the clinic server" in err and "C-0301" in err
    assert run(clinic, "logs", "compare", "C-030") == 1
    assert "starts more than one client" in capsys.readouterr().err
    with Journal.open(clinic.a, writer=False) as journal:
        pass_uid = journal.passes()[3].uid
    wrong = pass_uid[:7] + ("0" if pass_uid[7] != "0" else "1")
    assert run(clinic, "logs", "pass", wrong) == 1
    err = capsys.readouterr().err
    assert f"no pass '{wrong}' on the clinic server" in err and pass_uid[:8] in err
    assert run(clinic, "logs", "report", "C-0301#9", "-o", str(clinic.empty.parent / "r.html")) == 1
    assert "Closest matches" in capsys.readouterr().err
    assert_left_nothing_behind(clinic)


def test_a_wrong_password_or_no_server_is_a_clear_error(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    role = clinic.chair("c")
    wrong = clinic.server.cluster.url(clinic.server.db, role, "not-the-password")
    assert main(["logs", "compare", "C-0301", "--server", wrong]) == 1
    err = capsys.readouterr().err
    assert err.startswith("smpctl: error: the clinic server") and "refused the sign-in" in err
    assert "not-the-password" not in err and "Traceback" not in err
    nowhere = f"postgresql://{role}:pw@/{clinic.server.db}?host=/nonexistent-smpctl-socket"
    assert main(["logs", "show", "C-0301#1", "--server", nowhere]) == 1
    assert "cannot reach the clinic server" in capsys.readouterr().err
    assert_left_nothing_behind(clinic)


def test_a_server_never_initialised_says_who_must_run_init(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = clinic.server.cluster.url("postgres")  # the cluster's own database: no schema
    assert main(["logs", "pass", "abc", "--server", bare]) == 1
    err = capsys.readouterr().err
    assert "is not initialised" in err and "smpctl server init" in err
