"""Helpers shared by the tests in tests/clinic.

A module of its own: every conftest module is named ``conftest``, so importing from one
is ambiguous when several test folders run together.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from smpctl.clinic import add_chair
from smpctl.clinic.scratch_cluster import ScratchCluster
from smpctl.journal import Journal, Outcome
from smpctl.protocol import Status, Telemetry

RUNNING = int(Status.PEDAL_DOWN | Status.ARMED | Status.RUN_ENABLED | Status.MOTOR_ON)


@dataclass
class Server:
    cluster: ScratchCluster
    db: str
    admin_url: str
    passwords: dict[str, str] = field(default_factory=dict)

    def chair(self, name: str, clinic: str = "north") -> str:
        """Add a chair (role ``<db>_<name>``) and return its sign-in URL."""
        role = f"{self.db}_{name}"
        password = f"pw-{name}-{os.getpid()}"
        add_chair(self.admin_url, role, password, clinic=clinic)
        self.passwords[role] = password
        return self.cluster.url(self.db, role, password)

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.admin_url, autocommit=True)

    def count(self, query: str, *params: object) -> int:
        with self.admin() as conn:
            row = conn.execute(query, params).fetchone()
        assert row is not None
        return int(row[0] or 0)  # type: ignore[call-overload]


def write_session(
    path: Path,
    client: str = "C-0042",
    *,
    session_number: int = 1,
    passes: int = 3,
    samples: int = 40,
    chunk: int = 20,
    start_wall: float = 1_700_000_000.25,
) -> int:
    """A closed session of ``passes`` passes written as the recorder writes them; returns the
    telemetry samples recorded."""
    clock = [start_wall]

    def wall() -> float:
        clock[0] += 0.5
        return clock[0]

    total = 0
    with Journal.open(path, wall=wall) as journal:
        journal.open_session(client, session_number, "Dr A", consent=True, simulated=True)
        journal.register_cartridge("1RL 0.20", "LOT-7", "2031-01-31")
        journal.register_pigment("dark", "1:1", "P-3")
        for n in range(passes):
            journal.set_zone(("HL", "FRN", "CRN", "OCC")[n % 4])
            t0 = n * 10_000_000
            uid = journal.begin_pass(started_t_us=t0, wall=wall(), pen_uid=None)
            for start in range(0, samples, chunk):
                batch = [
                    Telemetry(
                        t0 + i * 5000,
                        n * samples + i,
                        11000 + i % 7,
                        11000,
                        600,
                        12000,
                        3100,
                        i * 2,
                        1000,
                        255,
                        RUNNING,
                        0,
                    )
                    for i in range(start, min(samples, start + chunk))
                ]
                journal.stage_samples(uid, batch, wall())
                journal.commit()
                total += len(batch)
            journal.end_pass(
                uid,
                outcome=Outcome.COMPLETE,
                detail=None,
                ended_t_us=t0 + samples * 5000,
                wall=wall(),
                aggregates={"samples": samples, "strokes": samples * 2, "speed_mean_hz": 110.03},
                events=["PEDAL_DOWN", "PEDAL_UP"],
            )
        journal.close_session("well tolerated")
    return total


def ledger_size(path: Path) -> int:
    with Journal.open(path, writer=False) as journal:
        row = journal.store.query_one("SELECT COUNT(*) AS n FROM ledger")
    assert row is not None
    return int(row["n"])


def wait_for(predicate: object, timeout: float = 10.0) -> bool:
    assert callable(predicate)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())
