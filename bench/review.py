"""Review commands against session length: ``show``, ``compare`` and ``report`` on a
1-hour and a 4-hour session, and the raw telemetry export rate.

    python bench/review.py [--repeat N] [--seed S] [--keep DIR]

How the sessions are built: ``smpctl.review.accelerated`` runs an in-process
``SimulatedPen`` on a ``VirtualClock`` stepped directly, decodes its real wire output
(telemetry at 200 samples/s, pen events), and writes it through the journal's recorder
API as ``Recorder`` does (``begin_pass``, telemetry staged and group-committed every
0.1 s of pen time, events with their pass, ``end_pass`` with ``PassAggregates``). Passes
of 4-30 s over all ten zones, a few seconds apart (the needle runs ~60 % of the time), an
occasional stall (interrupted pass), flags, a scar overlay; to keep hours of recording to
seconds, a pass of the same zone, speed and length is simulated once and its telemetry
reused at its new place on the pen's clock. Each journal holds one client with three
sessions: two of 30 minutes, then the 1-hour (or 4-hour) one, which is what ``show`` and
``report`` review and ``compare`` compares.

Timings are in-process (open the journal, query, render the text or HTML, write the
file), the median of ``--repeat`` runs (41) each, the 1-hour and 4-hour runs taken in
turn after one untimed run of each; ``*_cli_s`` run the real ``smpctl`` command in a
subprocess once, Python start-up included. The last line is one JSON object.

Reading the ratios: no summary touches raw telemetry, nor the session's pass rows. The
journal keeps derived tables as it records (schema 5: per-zone totals, event counts and
consumable use by SQLite triggers, each zone's strip of traces as its passes end), so
``show`` and ``compare`` read a row per zone and per event kind, and the report a strip
per zone (bounded: at most 120 segments and 360 points), the passes that need a look by
their index, and their traces. What still grows with the session is what the report
shows one by one: a card with its trace per pass that needs a look, the strips' segments
(one per pass up to 120 per zone) and the notable events. ``report_cards_*`` and
``report_segments_*`` count them; ``report_per_pass_ratio_4h_1h`` divides the passes out.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smpctl.journal import Journal
from smpctl.review import (
    compare_client,
    export,
    open_for_review,
    resolve_client,
    resolve_session,
    review_session,
)
from smpctl.review.accelerated import SESSION_START, SessionRecorder, plan_session
from smpctl.review.report import render_report
from smpctl.review.source import write_private
from smpctl.review.text import compare_text, show_text

DAY = 86_400.0
CLIENT = "C-BENCH"
SCARS = (("CRN", "SCR_FUE"),)


def build(path: Path, hours: float, recorder: SessionRecorder, seed: int) -> dict[str, Any]:
    start = time.perf_counter()
    with Journal.open(path, wall=recorder.wall) as journal:
        for number, length in ((1, 0.5), (2, 0.5), (3, hours)):
            plan = plan_session(
                CLIENT,
                number,
                hours=length,
                seed=seed,
                scars=SCARS,
                start_wall=SESSION_START + (number - 1) * 21 * DAY,
            )
            recorder.record(journal, plan)
        last = journal.sessions()[-1]
        passes = journal.passes(last.uid)
    return {
        "session": last.uid,
        "passes": len(passes),
        "samples": sum(p.samples or 0 for p in passes),
        "needle_h": round(
            sum((p.ended_wall or p.started_wall) - p.started_wall for p in passes) / 3600, 2
        ),
        "build_s": round(time.perf_counter() - start, 1),
        "journal_mb": round(path.stat().st_size / 1e6, 1),
    }


def median_times(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median of ``repeat`` runs of each, after one untimed run of each, the runs taken in
    turn (1 h, 4 h, 4 h, 1 h, …): both lengths are timed under the same conditions, and
    neither pays the process's first use of anything (imports, the OS's cached pages)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {label: [] for label in fns}
    order = list(fns)
    for i in range(repeat):
        for label in order if i % 2 == 0 else reversed(order):
            start = time.perf_counter()
            fns[label]()
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(t) for label, t in times.items()}


def show(path: Path, session: str) -> str:
    with open_for_review(path) as journal:
        found = resolve_session(journal, session)
        return show_text(review_session(journal, found, passes=False))


def compare(path: Path) -> str:
    with open_for_review(path) as journal:
        return compare_text(compare_client(journal, resolve_client(journal, CLIENT)))


def report(path: Path, session: str, out: Path) -> None:
    with open_for_review(path) as journal:
        html = render_report(journal, review_session(journal, resolve_session(journal, session)))
    write_private(out, html)


def cli_time(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "smpctl", *args], check=True, capture_output=True, timeout=300
    )
    return time.perf_counter() - start


def export_rate(path: Path, session: str, fmt: str, out: Path) -> tuple[int, float]:
    start = time.perf_counter()
    with open_for_review(path) as journal:
        result = export(journal, [session], fmt, out, telemetry=True)
    return result.samples, time.perf_counter() - start


def main() -> None:
    logging.getLogger("smpctl.journal").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=41)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", default=None, help="build the journals in DIR and keep them")
    args = parser.parse_args()
    shm = Path("/dev/shm")
    base = args.keep or tempfile.mkdtemp(prefix="smpctl-review-", dir=shm if shm.is_dir() else None)
    work = Path(base)
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o700)
    recorder = SessionRecorder(seed=args.seed, rate_hz=200)
    result: dict[str, Any] = {"rate_hz": 200}
    timings: dict[str, dict[str, float]] = {}
    built: dict[str, dict[str, Any]] = {}
    paths: dict[str, Path] = {}
    for label, hours in (("1h", 1.0), ("4h", 4.0)):
        path = paths[label] = work / f"review-{label}.sqlite3"
        if path.exists():
            for f in work.glob(f"review-{label}.sqlite3*"):
                f.unlink()
        built[label] = b = build(path, hours, recorder, args.seed)
        print(
            f"{label}: {b['passes']} passes, {b['samples']:,} samples, needle "
            f"{b['needle_h']} h, journal {b['journal_mb']} MB, built in {b['build_s']} s",
            flush=True,
        )
        result[f"passes_{label}"] = b["passes"]
        result[f"samples_{label}"] = b["samples"]
        timings[label] = {}
    labels = list(built)
    sessions = {label: built[label]["session"] for label in labels}
    outs = {label: work / f"report-{label}.html" for label in labels}
    commands: dict[str, Callable[[str], object]] = {
        "show": lambda label: show(paths[label], sessions[label]),
        "compare": lambda label: compare(paths[label]),
        "report": lambda label: report(paths[label], sessions[label], outs[label]),
    }
    for key, command in commands.items():
        runs: dict[str, Callable[[], object]] = {
            label: functools.partial(command, label) for label in labels
        }
        medians = median_times(runs, args.repeat)
        for label in labels:
            timings[label][f"{key}_s"] = medians[label]
    for label in labels:
        t = timings[label]
        path, session, out = paths[label], sessions[label], outs[label]
        t["show_cli_s"] = cli_time("logs", "show", session, "--journal", str(path))
        t["report_cli_s"] = cli_time(
            "logs", "report", session, "-o", str(out), "--journal", str(path)
        )
        t["report_kb"] = out.stat().st_size / 1000
        html = out.read_text()
        t["report_cards"] = html.count("<div class='pass bad'")
        t["report_segments"] = sum(int(n) for n in re.findall(r'data-segments="(\d+)"', html))
        print(
            f"{label}: show {t['show_s'] * 1000:.1f} ms, compare {t['compare_s'] * 1000:.1f} "
            f"ms, report {t['report_s'] * 1000:.1f} ms ({t['report_kb']:.0f} kB); CLI show "
            f"{t['show_cli_s']:.2f} s, report {t['report_cli_s']:.2f} s",
            flush=True,
        )
    samples, seconds = export_rate(paths["4h"], sessions["4h"], "csv", work / "export.csv")
    result["export_samples_s"] = round(samples / seconds)
    samples_j, seconds_j = export_rate(paths["4h"], sessions["4h"], "jsonl", work / "export.jsonl")
    result["export_jsonl_samples_s"] = round(samples_j / seconds_j)
    print(
        f"export --telemetry: csv {samples / seconds:,.0f} samples/s, jsonl "
        f"{samples_j / seconds_j:,.0f} samples/s ({samples:,} samples)",
        flush=True,
    )
    one, four = timings["1h"], timings["4h"]
    for key in ("show", "compare", "report"):
        result[f"{key}_1h_ms"] = round(one[f"{key}_s"] * 1000, 1)
        result[f"{key}_4h_ms"] = round(four[f"{key}_s"] * 1000, 1)
        result[f"{key}_ratio_4h_1h"] = round(four[f"{key}_s"] / one[f"{key}_s"], 2)
    result["report_kb_1h"] = round(one["report_kb"])
    result["report_kb_4h"] = round(four["report_kb"])
    for key in ("report_cards", "report_segments"):
        result[f"{key}_1h"] = int(one[key])
        result[f"{key}_4h"] = int(four[key])
    for key in ("show_cli", "report_cli"):
        result[f"{key}_ratio_4h_1h"] = round(four[f"{key}_s"] / one[f"{key}_s"], 2)
    result["report_per_pass_ratio_4h_1h"] = round(
        (four["report_s"] / result["passes_4h"]) / (one["report_s"] / result["passes_1h"]), 2
    )
    result["simulated_passes"] = recorder.simulated_passes
    result["reused_passes"] = recorder.reused_passes
    result["python"] = sys.version.split()[0]
    result["cpus"] = os.cpu_count()
    if args.keep is None:
        for f in work.iterdir():
            f.unlink()
        work.rmdir()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
