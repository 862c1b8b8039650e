"""Clinic sync: three chairs, one PostgreSQL, syncs killed and rerun.

    python bench/sync.py [--hours 4] [--rate 200] [--chairs 3] [--kills 10] [--seed 1]

- build: each chair's journal holds one session of ``--hours`` at ``--rate`` telemetry
  samples/s, written with the journal's own API as the recorder writes it (a pass per
  pedal-down, telemetry group-committed every ``--commit-s`` of pen time, pass aggregates
  and pedal events), from synthetic telemetry (speed around its setpoint with a ramp,
  current up while the needle is in skin, a slowly warming handpiece), in pen time, not
  real time. Journals are built in parallel processes on tmpfs when there is one.
- push: a throwaway PostgreSQL cluster (real server, fsync on, Unix socket); all chairs
  run ``smpctl sync`` at once, as separate processes; ``records_s`` is record versions
  pushed per second over the whole run, ``samples_s`` telemetry samples per second.
- kills: the same journals into a second database; every chair's sync is started at once
  and SIGKILLed at random moments (at least ``--kills`` kills in all), then rerun until
  each finishes. ``lost`` and ``duplicated`` compare the server with the journals: ledger
  entries, each record's current version, telemetry samples.
- ``resync_noop_s``: one more sync of a chair with nothing new (in-process, the slowest of
  the chairs).

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from smpctl.clinic import add_chair, init_server, sync, verify_server
from smpctl.clinic.scratch_cluster import ScratchCluster
from smpctl.journal import EventSource, Journal, Outcome
from smpctl.journal.aggregates import PassAggregates
from smpctl.protocol import Status, Telemetry

RUNNING = int(Status.PEDAL_DOWN | Status.ARMED | Status.RUN_ENABLED | Status.MOTOR_ON)
RAMPING = RUNNING | int(Status.IN_RAMP)
ZONES = ("HL", "TMP_L", "TMP_R", "FRN", "MID", "CRN", "PAR_L", "PAR_R", "OCC", "NAP")
U32 = 0xFFFFFFFF


def build_journal(path: str, seed: int, hours: float, rate: int, commit_s: float) -> int:
    """One chair's session; returns the samples recorded."""
    rng = random.Random(seed)
    period_us = 1_000_000 // rate
    per_commit = max(1, round(rate * commit_s))
    clock = [1_760_000_000.0 + seed * 1000.0]

    def wall() -> float:
        return clock[0]

    total_samples = round(hours * 3600 * rate)
    recorded = 0
    t_us = rng.randrange(U32)
    seq = 0
    strokes = rng.randrange(1 << 20)
    temp = 2600.0
    with Journal.open(path, wall=wall) as journal:
        journal.open_session(
            f"C-{1000 + seed % 3}",
            1 + seed // 3,
            f"practitioner {seed}",
            consent=True,
            simulated=True,
        )
        journal.register_cartridge("1RL 0.20", f"LOT-{seed}", "2031-01-31")
        journal.register_pigment("dark", "1:1", f"P-{seed}")
        number = 0
        while recorded < total_samples:
            number += 1
            journal.set_zone(ZONES[(number // 40) % len(ZONES)])
            n = min(total_samples - recorded, rng.randint(8 * rate, 30 * rate))
            setpoint = rng.choice((10000, 10500, 11000, 11500))
            depth = rng.choice((800, 900, 1000))
            uid = journal.begin_pass(started_t_us=t_us, wall=wall(), pen_uid=None)
            journal.record_event(
                source=EventSource.PEN, kind="PEDAL_DOWN", wall=wall(), pass_uid=uid, t_us=t_us
            )
            aggregates = PassAggregates()
            batch: list[Telemetry] = []
            for i in range(n):
                ramp = i < rate // 5
                speed = setpoint * min(1.0, (i + 1) / (rate / 5)) + rng.gauss(0, 40)
                in_skin = (i // 6) % 3 == 0 and not ramp
                current = 420 + (260 if in_skin else 0) + rng.gauss(0, 15)
                temp = min(4000.0, temp + 0.0004 * (1 if in_skin else 0.3))
                strokes = (strokes + (1 if rng.random() < speed / 100 / rate else 0)) & U32
                batch.append(
                    Telemetry(
                        t_us,
                        seq,
                        max(0, int(speed)),
                        setpoint,
                        max(0, int(current)),
                        12000 + rng.randrange(-40, 40),
                        int(temp),
                        strokes,
                        depth,
                        255,
                        RAMPING if ramp else RUNNING,
                        0,
                    )
                )
                t_us = (t_us + period_us) & U32
                seq = (seq + 1) & U32
                if len(batch) >= per_commit:
                    clock[0] += len(batch) / rate
                    aggregates.add(batch)
                    journal.stage_samples(uid, batch, wall())
                    journal.commit()
                    batch = []
            if batch:
                clock[0] += len(batch) / rate
                aggregates.add(batch)
                journal.stage_samples(uid, batch, wall())
            journal.record_event(
                source=EventSource.PEN, kind="PEDAL_UP", wall=wall(), pass_uid=uid, t_us=t_us
            )
            journal.end_pass(
                uid,
                outcome=Outcome.COMPLETE,
                detail=None,
                ended_t_us=t_us,
                wall=wall(),
                aggregates=aggregates.columns(),
                events=["PEDAL_DOWN", "PEDAL_UP"],
            )
            recorded += n
            clock[0] += rng.uniform(1.0, 6.0)  # moving to the next spot
            t_us = (t_us + 3_000_000) & U32
        journal.close_session("bench session")
    return recorded


def _build(job: tuple[str, int, float, int, float]) -> int:
    return build_journal(*job)


def expected(path: Path) -> dict[str, Any]:
    """What the server must hold of a journal."""
    with Journal.open(path, writer=False) as journal:
        store = journal.store
        first = store.query_one("SELECT hash FROM ledger WHERE seq = 1")
        assert first is not None
        head = store.query_one("SELECT MAX(seq) AS n FROM ledger")
        assert head is not None
        latest: dict[str, str] = {}
        for entry in store.iterate("SELECT record_uid, digest FROM ledger ORDER BY seq"):
            latest[str(entry["record_uid"])] = str(entry["digest"])
        samples = store.query_one("SELECT SUM(samples) AS n FROM telemetry_chunks")
        assert samples is not None
    return {
        "journal_id": str(first["hash"]),
        "entries": int(head["n"]),
        "latest": latest,
        "samples": int(samples["n"]),
    }


def compare(url: str, want: dict[str, Any]) -> tuple[int, int]:
    """(lost, duplicated) for one journal."""
    jid = want["journal_id"]
    with psycopg.connect(url) as conn:
        rows, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT seq) FROM smpctl.ledger WHERE journal_id = %s",
            (jid,),
        ).fetchone() or (0, 0)
        versions = {
            (str(u), str(d))
            for u, d in conn.execute(
                "SELECT record_uid, digest FROM smpctl.records WHERE journal_id = %s", (jid,)
            )
        }
        version_rows = conn.execute(
            "SELECT COUNT(*) FROM smpctl.records WHERE journal_id = %s", (jid,)
        ).fetchone()
        samples = conn.execute(
            "SELECT COALESCE(SUM((body->>'samples')::bigint), 0) FROM smpctl.records "
            "WHERE journal_id = %s AND record_table = 'telemetry_chunks'",
            (jid,),
        ).fetchone()
    assert version_rows is not None and samples is not None
    missing_records = sum(1 for pair in want["latest"].items() if pair not in versions)
    lost = max(0, want["entries"] - int(distinct)) + missing_records
    lost += max(0, want["samples"] - int(samples[0]))
    duplicated = (int(rows) - int(distinct)) + (int(version_rows[0]) - len(versions))
    duplicated += max(0, int(samples[0]) - want["samples"])
    return lost, duplicated


def sync_process(url: str, journal: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smpctl",
            "sync",
            "--server",
            url,
            "--journal",
            str(journal),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SMPCTL_CLINIC": ""},
    )


def server_database(cluster: ScratchCluster, name: str, chairs: int) -> tuple[str, list[str]]:
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin = cluster.url(name)
    init_server(admin)
    urls = []
    for i in range(chairs):
        role = f"{name}_chair{i + 1}"
        add_chair(admin, role, f"pw{i}", clinic="bench clinic")
        urls.append(cluster.url(name, role, f"pw{i}"))
    return admin, urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--chairs", type=int, default=3)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--commit-s", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    work = Path(tempfile.mkdtemp(prefix="smpctl-sync-bench-", dir=base))
    result: dict[str, Any] = {"chairs": args.chairs, "hours": args.hours, "rate": args.rate}
    try:
        journals = [work / f"chair{i + 1}" / "journal.sqlite3" for i in range(args.chairs)]
        t0 = time.monotonic()
        jobs = [
            (str(p), args.seed * 10 + i, args.hours, args.rate, args.commit_s)
            for i, p in enumerate(journals)
        ]
        with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
            samples = sum(pool.map(_build, jobs))
        wants = [expected(p) for p in journals]
        entries = sum(w["entries"] for w in wants)
        result["build_s"] = round(time.monotonic() - t0, 1)
        result["ledger_entries"] = entries
        result["samples"] = samples
        print(f"built {args.chairs} journals: {entries} entries, {samples} samples", flush=True)

        with ScratchCluster() as cluster:
            # all chairs at once, uninterrupted: the push rate
            _admin, urls = server_database(cluster, "rate", args.chairs)
            t0 = time.monotonic()
            procs = [sync_process(u, j) for u, j in zip(urls, journals, strict=True)]
            reports = []
            for proc in procs:
                out, err = proc.communicate(timeout=600)
                if proc.returncode != 0:
                    raise SystemExit(f"sync failed: {err}")
                reports.append(json.loads(out))
            push_s = time.monotonic() - t0
            records = sum(r["push"]["records"] for r in reports)
            pushed_samples = sum(r["push"]["samples"] for r in reports)
            result["push_s"] = round(push_s, 2)
            result["records"] = records
            result["records_s"] = round(records / push_s)
            result["entries_s"] = round(entries / push_s)
            result["samples_s"] = round(pushed_samples / push_s)
            print(f"pushed at once in {push_s:.1f} s", flush=True)

            # killed at random points, rerun until every chair is through
            admin, urls = server_database(cluster, "kills", args.chairs)
            per_chair = math.ceil(args.kills / args.chairs) + 1  # a chair may finish early
            kills_left = [per_chair] * args.chairs
            running: dict[int, subprocess.Popen[str]] = {}
            deadline: dict[int, float] = {}
            done: set[int] = set()
            kills = runs = 0
            t0 = time.monotonic()
            while len(done) < args.chairs:
                for i in range(args.chairs):
                    if i not in done and i not in running:
                        running[i] = sync_process(urls[i], journals[i])
                        runs += 1
                        # random points within what a whole push took in the first phase
                        delay = rng.uniform(0.6, max(1.0, 0.5 * push_s))
                        deadline[i] = time.monotonic() + delay if kills_left[i] else math.inf
                time.sleep(0.02)
                for i, proc in list(running.items()):
                    if proc.poll() is not None:
                        out, err = proc.communicate()
                        if proc.returncode != 0:
                            raise SystemExit(f"sync of chair {i + 1} failed: {err}")
                        del running[i]
                        if kills_left[i] == 0 or json.loads(out)["push"]["pending"] == 0:
                            done.add(i)
                    elif time.monotonic() >= deadline[i]:
                        proc.send_signal(signal.SIGKILL)
                        proc.communicate()
                        del running[i]
                        kills += 1
                        kills_left[i] -= 1
            result["kills"] = kills
            result["runs"] = runs
            result["kill_phase_s"] = round(time.monotonic() - t0, 1)
            lost = duplicated = 0
            for want in wants:
                a, b = compare(admin, want)
                lost += a
                duplicated += b
            result["lost"] = lost
            result["duplicated"] = duplicated
            report = verify_server(admin)
            result["verify_ok"] = report.ok and all(j.awaiting == 0 for j in report.journals)

            noop = []
            for url, journal in zip(urls, journals, strict=True):
                t = time.monotonic()
                again = sync(journal, url)
                noop.append(time.monotonic() - t)
                assert again.push.entries == 0
            result["resync_noop_s"] = round(max(noop), 3)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
