"""Session journal: ingest rate, loss on close, and what a SIGKILL costs.

    python bench/journal.py [--samples N] [--kills K] [--seed S]

- ingest: the real ``Recorder`` follows a pen whose telemetry ring is filled with N
  pedal-down samples as fast as it will take them, then it is stopped and the journal
  closed at once; the time runs until the close returns (every sample on disk).
  ``lost_on_close`` counts samples missing from that pass after reopening.
  python-can's ``SqliteWriter`` records the same count of prebuilt messages; its rate runs
  until every row is written and ``stop()`` returns; its loss is measured on an immediate
  ``stop()`` in a second run.
- kill -9: a recorder process follows a simulated pen through passes and zone changes,
  printing each record once the journal reports it on disk; it is SIGKILLed at a random
  moment, the journal reopened (recovery runs) and checked, K times on one journal file.

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smpctl.client import HostEvent, Notice, PenIdentity, PenLimits, Ring
from smpctl.journal import Journal, Recorder
from smpctl.protocol import Capability, Status, Telemetry

PEDAL_ON = int(Status.PEDAL_DOWN | Status.ARMED | Status.RUN_ENABLED | Status.MOTOR_ON)


class RingPen:
    """Just what the recorder reads from a pen: a telemetry ring, notices, an identity."""

    def __init__(self, capacity: int) -> None:
        self.telemetry: Ring[Telemetry] = Ring(capacity)
        self.latest: Telemetry | None = None
        self._subscribers: list[Callable[[Notice], None]] = []
        self.identity = PenIdentity(
            model="BENCH",
            serial="BENCH0001",
            firmware="0",
            protocol_version="1.0",
            capabilities=Capability.SIMULATED,
            limits=PenLimits(150, 2, 4, 0, 2, 3, 41, 300, 1000, 400),
        )

    def subscribe(self, callback: Callable[[Notice], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def post(self, kind: str, message: str, **data: Any) -> HostEvent:
        event = HostEvent(kind, message, time.monotonic(), dict(data))
        for callback in list(self._subscribers):
            callback(event)
        return event

    def stop(self) -> None:
        pass


def make_samples(n: int, seed: int) -> list[Telemetry]:
    rnd = random.Random(seed)
    return [
        Telemetry(
            (1000 + i * 1000) & 0xFFFFFFFF,
            i,
            11000 + rnd.randint(-80, 80),
            11000,
            800 + rnd.randint(-60, 60),
            12000 + rnd.randint(-20, 20),
            3000 + i // 2000,
            (i * 11) // 100,
            1000,
            255,
            PEDAL_ON,
            0,
        )
        for i in range(n)
    ]


def bench_ingest(samples: list[Telemetry], workdir: Path) -> dict[str, float | int]:
    path = workdir / "ingest.sqlite3"
    journal = Journal.open(path)
    journal.open_session("BENCH-1", 1, consent=True, simulated=True)
    journal.set_zone("MID")
    pen = RingPen(len(samples) + 1)
    recorder = Recorder(journal, pen)  # type: ignore[arg-type]
    recorder.start()
    start = time.perf_counter()
    for i in range(0, len(samples), 500):
        batch = samples[i : i + 500]
        pen.telemetry.extend(batch)
        pen.latest = batch[-1]
    recorder.stop()
    journal.close()
    elapsed = time.perf_counter() - start
    with Journal.open(path, writer=False) as reopened:
        stored = sum(p.samples or 0 for p in reopened.passes())
        raw = sum(len(reopened.pass_samples(p.uid)) for p in reopened.passes())
    return {
        "ingest_samples_s": round(len(samples) / elapsed),
        "lost_on_close": len(samples) - min(stored, raw),
        "journal_bytes_per_sample": round(path.stat().st_size / len(samples), 1),
    }


def bench_python_can(n: int, workdir: Path) -> dict[str, float | int]:
    import can

    messages = [
        can.Message(timestamp=i / 1000, arbitration_id=0x120, data=bytes(8)) for i in range(n)
    ]
    path = workdir / "can.sqlite3"
    start = time.perf_counter()
    writer = can.SqliteWriter(str(path))
    for m in messages:
        writer.on_message_received(m)
    while writer.num_frames < n:  # let it write everything: its best rate
        time.sleep(0.005)
    writer.stop()
    elapsed = time.perf_counter() - start
    path2 = workdir / "can-stop.sqlite3"
    writer = can.SqliteWriter(str(path2))
    for m in messages:
        writer.on_message_received(m)
    writer.stop()
    with sqlite3.connect(path2) as conn:
        written = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    return {"python_can_rows_s": round(n / elapsed), "python_can_lost_on_close": n - written}


# ---------------------------------------------------------------------- kill -9


def worker(path: str, seed: int) -> None:
    """A recording process: pedal passes and zone changes on a simulated pen, forever."""
    import smpctl.sim  # noqa: F401  (registers sim://)
    from smpctl.client import connect
    from smpctl.protocol import SimAction

    rnd = random.Random(seed)
    journal = Journal.open(path)
    pen = connect(f"sim://kill{seed}?seed={seed}&baud=921600")
    pen.set_telemetry_rate(500)
    out_lock = threading.Lock()

    def said(record: Any) -> None:
        with out_lock:
            sys.stdout.write(f"{record.kind} {record.uid}\n")
            sys.stdout.flush()

    recorder = Recorder(journal, pen)
    recorder.subscribe(said)
    recorder.start()
    journal.open_session(f"K-{seed}", 1, "bench", consent=True, simulated=True)
    journal.register_cartridge("3RL 0.25", "LOT-B", "2031-01-01")
    zones = ["FRN", "MID", "CRN", "OCC"]
    journal.set_zone(rnd.choice(zones))
    pen.set_speed(110)
    pen.arm()
    pen.run()
    said(type("Ready", (), {"kind": "ready", "uid": "-"})())

    def hold(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pen.alive()
            time.sleep(0.01)

    while True:
        pen.sim(SimAction.PEDAL, 1)
        hold(rnd.uniform(0.1, 0.4))
        if rnd.random() < 0.3:
            journal.set_zone(rnd.choice(zones))
            hold(rnd.uniform(0.05, 0.2))
        pen.sim(SimAction.PEDAL, 0)
        hold(rnd.uniform(0.05, 0.25))


def bench_kills(kills: int, seed: int, workdir: Path) -> dict[str, Any]:
    rnd = random.Random(seed)
    path = workdir / "kill.sqlite3"
    lost_events = 0
    hits = 0
    recovered = 0
    gaps: list[float] = []
    for k in range(kills):
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(path), "--seed", str(seed * 1000 + k)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        lines: list[str] = []
        while not (line := proc.stdout.readline()).startswith("ready"):
            if not line:
                raise SystemExit("the recorder process failed to start")
            lines.append(line)
        reader = threading.Thread(target=lambda p=proc, out=lines: out.extend(p.stdout or []))
        reader.start()
        time.sleep(rnd.uniform(0.2, 1.5))
        proc.send_signal(signal.SIGKILL)
        killed_at = time.time()
        proc.wait()
        reader.join()
        acked_events = {ln.split()[1] for ln in lines if ln.startswith("event ")}
        open_passes: set[str] = set()
        for ln in lines:
            kind, _, uid = ln.strip().partition(" ")
            if kind == "pass_opened":
                open_passes.add(uid)
            elif kind == "pass_closed":
                open_passes.discard(uid)
        hits += bool(open_passes)
        with Journal.open(path) as journal:
            recovered += len(journal.recovered)
            present = {e["uid"] for e in journal.events()}
            lost_events += len(acked_events - present)
            for uid in journal.recovered:
                ended = journal.pass_record(uid).ended_wall or killed_at
                gaps.append((killed_at - ended) * 1000)
            ok = journal.verify().ok
        if not ok:
            raise SystemExit("hash chain broken after a kill")
    return {
        "kills": kills,
        "kills_hitting_a_pass": hits,
        "kill9_lost_events": lost_events,
        "kill9_telemetry_gap_ms": round(max(gaps), 1) if gaps else 0.0,
        "recovered_open_passes": recovered,
    }


def main() -> None:
    logging.getLogger("smpctl.journal").setLevel(logging.ERROR)  # recoveries are counted
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.seed)
        return
    with tempfile.TemporaryDirectory(prefix="smpctl-bench-") as tmp:
        workdir = Path(tmp)
        samples = make_samples(args.samples, args.seed)
        ours = bench_ingest(samples, workdir)
        print(
            f"journal:    {ours['ingest_samples_s']:>10,} samples/s, lost on close "
            f"{ours['lost_on_close']}, {ours['journal_bytes_per_sample']} B/sample on disk"
        )
        theirs = bench_python_can(args.samples, workdir)
        print(
            f"python-can: {theirs['python_can_rows_s']:>10,} rows/s, lost on immediate "
            f"stop {theirs['python_can_lost_on_close']}"
        )
        start = time.monotonic()
        kills = bench_kills(args.kills, args.seed, workdir)
        print(f"kill -9:    {kills} in {time.monotonic() - start:.0f} s")
    result = {
        "samples": args.samples,
        **ours,
        **theirs,
        "ingest_ratio": round(ours["ingest_samples_s"] / theirs["python_can_rows_s"], 2),
        **kills,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
