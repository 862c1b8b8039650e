"""Simulated sessions recorded faster than real time, for the review tests and bench.

A ``SimulatedPen`` runs on a ``VirtualClock`` stepped directly (no threads, no sleeping);
its telemetry and events are decoded from its real wire output and written through the
journal's recorder API exactly as ``Recorder`` writes them: ``begin_pass``, telemetry
staged and group-committed every 0.1 s of pen time, pen events with their pass, and
``end_pass`` with ``PassAggregates`` built batch by batch. A long session can reuse the
telemetry of passes already simulated (shifted to their new place on the pen's clock), so
hours of recording take seconds; ``SessionPlan.fresh`` forces every pass to be simulated.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from smpctl.journal import EventSource, Journal, Outcome
from smpctl.journal.aggregates import PassAggregates
from smpctl.protocol import (
    Arm,
    EventKind,
    Heartbeat,
    Hello,
    HostMessage,
    Run,
    SetDepth,
    SetSpeed,
    SetTelemetryRate,
    SimFault,
    StreamDecoder,
    Telemetry,
    encode,
)
from smpctl.protocol import (
    Event as PenEvent,
)
from smpctl.sim import PenOptions, SimulatedPen, VirtualClock
from smpctl.zones import ZoneCode

COMMIT_EVERY_S = 0.1
"""The recorder's group-commit interval: it sets how telemetry is chunked on disk."""
HEARTBEAT_EVERY_S = 0.1
STEP_S = 0.05
SESSION_START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC).timestamp()

ZONE_SPEED_HZ: dict[str, float] = {
    "HL": 100.0,
    "TMP_L": 100.0,
    "TMP_R": 100.0,
    "NAP": 100.0,
    "FRN": 110.0,
    "MID": 110.0,
    "CRN": 110.0,
    "PAR_L": 110.0,
    "PAR_R": 110.0,
    "OCC": 110.0,
}
"""Starting speeds per zone (shared/domain.md, default profile values)."""


@dataclass(frozen=True)
class PlannedPass:
    zone: str
    seconds: float
    gap_s: float = 1.0
    scar: str | None = None
    speed_hz: float | None = None
    depth_mm: float | None = None
    stall: bool = False
    """Stall the needle half way: the pen stops it (an interrupted pass)."""
    flag: str | None = None


@dataclass
class SessionPlan:
    client: str
    session_number: int
    passes: list[PlannedPass]
    practitioner: str = "P-1"
    start_wall: float = SESSION_START
    fresh: bool = False
    """Simulate every pass (else reuse a simulated pass of the same zone, speed and length)."""
    needle: str = "3RL 0.25"
    cartridge_lot: str = "CT-2291"
    pigment_lot: str = "PG-118"


@dataclass
class _Simulated:
    samples: list[Telemetry]
    events: list[PenEvent]
    start_t_us: int
    end_t_us: int


@dataclass
class AcceleratedPen:
    """A simulated pen and the host side of its wire, on virtual time."""

    seed: int = 1
    rate_hz: int = 200
    clock: VirtualClock = field(default_factory=VirtualClock)
    pen: SimulatedPen = field(init=False)
    _decoder: StreamDecoder = field(default_factory=StreamDecoder)
    _seq: int = 0
    _beat: int = 0
    _next_beat: float = 0.0
    _samples: list[Telemetry] = field(default_factory=list)
    _events: list[PenEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pen = SimulatedPen(PenOptions(seed=self.seed, baud=921600), self.clock)
        self.send(Hello(1, 0))
        self.run(0.02)
        self.send(SetTelemetryRate(self.rate_hz))
        self.arm()

    def send(self, message: HostMessage) -> None:
        self.pen.receive(encode(message, self._seq))
        self._seq = (self._seq + 1) & 0xFF

    def arm(self) -> None:
        self.send(Arm())
        self.run(0.01)
        self.send(Run())
        self.run(0.01)

    def run(self, seconds: float) -> None:
        end = self.clock.now() + seconds
        while self.clock.now() < end - 1e-9:
            if self.clock.now() >= self._next_beat:
                self._next_beat = self.clock.now() + HEARTBEAT_EVERY_S
                self._beat = (self._beat + 1) & 0xFFFF
                self.send(Heartbeat(self._beat))
            self.pen.step(min(STEP_S, end - self.clock.now()))
            for _seq, message in self._decoder.feed(self.pen.take_output()):
                if isinstance(message, Telemetry):
                    self._samples.append(message)
                elif isinstance(message, PenEvent):
                    self._events.append(message)

    def take(self) -> tuple[list[Telemetry], list[PenEvent]]:
        samples, events = self._samples, self._events
        self._samples, self._events = [], []
        return samples, events

    def simulate_pass(self, planned: PlannedPass) -> _Simulated:
        speed = planned.speed_hz or ZONE_SPEED_HZ.get(planned.zone, 110.0)
        depth = planned.depth_mm or (0.8 if speed <= 100 else 1.0)
        if planned.scar:
            depth -= 0.2
        self.send(SetSpeed(round(speed * 100)))
        self.send(SetDepth(round(depth * 1000)))
        self.run(0.3)  # the depth adjuster moves
        self.take()
        self.pen.set_pedal(True)
        if planned.stall:
            self.run(planned.seconds / 2)
            self.pen.inject_fault(SimFault.STALL)
            self.run(planned.seconds / 2)
        else:
            self.run(planned.seconds)
        self.pen.set_pedal(False)
        self.run(0.15)
        samples, events = self.take()
        down = next((e for e in events if e.kind == EventKind.PEDAL_DOWN), None)
        up = next((e for e in events if e.kind == EventKind.PEDAL_UP), None)
        start = down.t_us if down is not None else samples[0].t_us
        end = up.t_us if up is not None else samples[-1].t_us
        inside = [s for s in samples if start <= s.t_us <= end]
        if planned.stall:
            self.pen.clear_faults()
            self.run(0.05)
            self.arm()
        return _Simulated(inside, events, start, end)


def _shift(sim: _Simulated, dt_us: int, dseq: int, dstrokes: int) -> _Simulated:
    mask = 0xFFFFFFFF
    samples = [
        s._replace(
            t_us=(s.t_us + dt_us) & mask,
            sample_seq=(s.sample_seq + dseq) & mask,
            strokes=(s.strokes + dstrokes) & mask,
        )
        for s in sim.samples
    ]
    events = [e._replace(t_us=(e.t_us + dt_us) & mask) for e in sim.events]
    return _Simulated(
        samples, events, (sim.start_t_us + dt_us) & mask, (sim.end_t_us + dt_us) & mask
    )


class SessionRecorder:
    """Records planned sessions into ``journal``; the journal's wall clock must be
    ``self.wall`` (open it with ``Journal.open(path, wall=recorder.wall)``)."""

    def __init__(self, *, seed: int = 1, rate_hz: int = 200) -> None:
        self.pen = AcceleratedPen(seed=seed, rate_hz=rate_hz)
        self._wall0 = SESSION_START
        self._pen0 = 0.0
        self._cursor_us = 0
        self._seq = 0
        self._strokes = 0
        self._pool: dict[tuple[str, float, float, bool], _Simulated] = {}
        self.simulated_passes = 0
        self.reused_passes = 0

    def wall(self) -> float:
        return self._wall0 + self._cursor_us / 1e6

    def record(self, journal: Journal, plan: SessionPlan) -> str:
        self._wall0 = plan.start_wall
        self._cursor_us = 0
        uid = journal.open_session(
            plan.client, plan.session_number, plan.practitioner, consent=True, simulated=True
        )
        journal.register_cartridge(plan.needle, plan.cartridge_lot, "2031-12-31")
        journal.register_pigment("SMP Dark 2", "1:3", plan.pigment_lot)
        for planned in plan.passes:
            self._cursor_us += round(planned.gap_s * 1e6)
            journal.set_zone(planned.zone, planned.scar)
            sim = self._simulated(planned, plan.fresh)
            self._write_pass(journal, sim, planned)
        self._cursor_us += 60_000_000
        journal.close_session()
        return uid

    def _simulated(self, planned: PlannedPass, fresh: bool) -> _Simulated:
        speed = planned.speed_hz or ZONE_SPEED_HZ.get(planned.zone, 110.0)
        key = (planned.zone + (planned.scar or ""), speed, round(planned.seconds, 1), planned.stall)
        sim = None if fresh else self._pool.get(key)
        if sim is None:
            sim = self.pen.simulate_pass(planned)
            self._pool[key] = sim
            self.simulated_passes += 1
        else:
            self.reused_passes += 1
        # place it after everything recorded so far, on one continuous pen time line
        first = sim.samples[0] if sim.samples else None
        dseq = self._seq - first.sample_seq if first else 0
        dstrokes = self._strokes - first.strokes if first else 0
        shifted = _shift(sim, self._cursor_us - sim.start_t_us, dseq, dstrokes)
        if shifted.samples:
            self._seq = shifted.samples[-1].sample_seq + 1
            self._strokes = shifted.samples[-1].strokes
        self._cursor_us += (sim.end_t_us - sim.start_t_us) & 0xFFFFFFFF
        return shifted

    def _write_pass(self, journal: Journal, sim: _Simulated, planned: PlannedPass) -> None:
        """As ``Recorder`` does: open, stage and group-commit, events, close."""
        base_wall = self.wall() - ((sim.end_t_us - sim.start_t_us) & 0xFFFFFFFF) / 1e6
        t0 = sim.start_t_us

        def wall_at(t_us: int) -> float:
            return base_wall + ((t_us - t0) & 0xFFFFFFFF) / 1e6

        uid = journal.begin_pass(started_t_us=t0, wall=base_wall, pen_uid=None)
        aggregates = PassAggregates()
        names: list[str] = []
        outcome = Outcome.COMPLETE
        per_commit = max(1, round(self.pen.rate_hz * COMMIT_EVERY_S))
        samples = sim.samples
        for i in range(0, len(samples), per_commit):
            batch = samples[i : i + per_commit]
            aggregates.add(batch)
            journal.stage_samples(uid, batch, wall_at(batch[-1].t_us))
            journal.commit()
        for e in sim.events:
            kind = EventKind(e.kind)
            if (
                kind in (EventKind.MOTOR_STOPPED, EventKind.FAULT_RAISED)
                and e.code
                and planned.stall
            ):
                outcome = Outcome.INTERRUPTED_FAULT
            names.append(kind.name)
            journal.record_event(
                source=EventSource.PEN,
                kind=kind.name,
                wall=wall_at(e.t_us),
                pass_uid=uid,
                code=e.code,
                value=e.value,
                t_us=e.t_us,
            )
        journal.end_pass(
            uid,
            outcome=outcome,
            detail="the needle stalled" if outcome is not Outcome.COMPLETE else None,
            ended_t_us=sim.end_t_us,
            wall=self.wall(),
            aggregates=aggregates.columns(),
            events=names,
            trace=aggregates.trace_points(),
        )
        if planned.flag:
            journal.flag_pass(planned.flag, pass_uid=uid)


def plan_session(
    client: str,
    session_number: int,
    *,
    hours: float,
    seed: int = 1,
    zones: Sequence[str] | None = None,
    scars: Iterable[tuple[str, str]] = (),
    start_wall: float = SESSION_START,
) -> SessionPlan:
    """A realistic session of ``hours``: zones in treatment order, passes of 4-30 s with
    a few seconds between them (the needle runs about half the time), a stall now and then.
    ``scars`` pairs (zone, scar kind) get a shallower, slower extra pass or two."""
    rnd = random.Random(f"{seed}/{client}/{session_number}")
    order = list(zones or [z.value for z in ZoneCode])
    scar_of = dict(scars)
    budget = hours * 3600.0
    share = budget / len(order)
    passes: list[PlannedPass] = []
    for zone in order:
        spent = 0.0
        while spent < share:
            seconds = float(rnd.choice((4, 6, 8, 10, 12, 15, 20, 25, 30)))
            gap = float(rnd.choice((3, 5, 8, 12, 20)))
            stall = rnd.random() < 0.02
            flag = "check" if rnd.random() < 0.03 else None
            passes.append(PlannedPass(zone, seconds, gap, stall=stall, flag=flag))
            spent += seconds + gap + 0.45
            if zone in scar_of and rnd.random() < 0.25:
                speed = ZONE_SPEED_HZ[zone] * 0.9
                passes.append(PlannedPass(zone, 8.0, 5.0, scar=scar_of[zone], speed_hz=speed))
                spent += 13.45
    return SessionPlan(client, session_number, passes, start_wall=start_wall)
