"""A host on virtual time for driving the simulated pen in tests: real components, no
mocks, faster than real time and the same on every run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smpctl.protocol import (
    Ack,
    Arm,
    Event,
    EventKind,
    Heartbeat,
    Hello,
    HelloReply,
    Message,
    Nak,
    ParamValue,
    Run,
    SetSpeed,
    StreamDecoder,
    Telemetry,
    encode,
)
from smpctl.sim import BUS, PenOptions, SimulatedPen, VirtualClock

Reply = Ack | Nak | ParamValue | HelloReply


class VirtualHost:
    """Sends frames, moves virtual time in 1 ms steps, heartbeats every 100 ms, and keeps
    every message the pen sent."""

    def __init__(self, pen: SimulatedPen, clock: VirtualClock) -> None:
        self.pen = pen
        self.clock = clock
        self.decoder = StreamDecoder()
        self.seq = 0
        self.received: list[tuple[float, int, Message]] = []
        self.heartbeat = True
        self._hb_counter = 0
        self._next_heartbeat = 0.0
        self.last_heartbeat_at = 0.0
        """Pen time the last heartbeat was sent."""

    def send(self, message: Message, seq: int | None = None) -> int:
        if seq is None:
            seq = self.seq
            self.seq = (self.seq + 1) & 0xFF
        self.pen.receive(encode(message, seq))
        return seq

    def _collect(self) -> None:
        now = self.pen.time
        for seq, message in self.decoder.feed(self.pen.take_output()):
            self.received.append((now, seq, message))

    def run(self, seconds: float) -> list[Message]:
        """Advance ``seconds``; returns the messages that arrived meanwhile."""
        start = len(self.received)
        steps = round(seconds * 1000)
        for _ in range(steps):
            if self.heartbeat and self.clock.now() >= self._next_heartbeat:
                self._next_heartbeat = self.clock.now() + 0.1
                self._hb_counter = (self._hb_counter + 1) & 0xFFFF
                self.send(Heartbeat(self._hb_counter))
                self.last_heartbeat_at = self.pen.time
            self.clock.advance(0.001)
            self.pen.advance(self.clock.now())
            self._collect()
        return [m for _, _, m in self.received[start:]]

    def run_until(self, predicate: Any, limit: float = 5.0) -> Message:
        for _ in range(round(limit * 1000)):
            start = len(self.received)
            self.run(0.001)
            for _, _, message in self.received[start:]:
                if predicate(message):
                    return message
        raise AssertionError(f"nothing matched within {limit} s")

    def command(self, message: Message, seq: int | None = None) -> Reply:
        """Send and return the reply (within the 10 ms the pen promises)."""
        used = self.send(message, seq)

        def is_reply(m: Message) -> bool:
            if isinstance(m, (Ack, Nak)):
                return m.cmd_seq == used
            return isinstance(m, (ParamValue, HelloReply))

        # 10 ms to reply, plus the line time of a frame in progress and the reply itself
        line_s = 200 / self.pen.options.line_bytes_per_s
        reply = self.run_until(is_reply, limit=0.010 + line_s)
        assert isinstance(reply, (Ack, Nak, ParamValue, HelloReply))
        return reply

    def ok(self, message: Message) -> Ack:
        reply = self.command(message)
        assert isinstance(reply, Ack), reply
        return reply

    def hello(self) -> HelloReply:
        reply = self.command(Hello(1, 0))
        assert isinstance(reply, HelloReply)
        return reply

    def start_motor(self, speed_chz: int = 12000, settle: float = 0.6) -> None:
        """Handshake, setpoint, arm, run, pedal down; then let the ramp finish."""
        self.hello()
        self.ok(SetSpeed(speed_chz))
        self.ok(Arm())
        self.ok(Run())
        self.pen.set_pedal(True)
        self.run(settle)

    # ------------------------------------------------------------------ views

    def events(self, kind: EventKind | None = None) -> list[Event]:
        found = [m for _, _, m in self.received if isinstance(m, Event)]
        return [e for e in found if kind is None or e.kind == kind]

    def telemetry(self) -> list[Telemetry]:
        return [m for _, _, m in self.received if isinstance(m, Telemetry)]

    def last_telemetry(self) -> Telemetry:
        return self.telemetry()[-1]

    def clear(self) -> None:
        self.received.clear()


def make_host(**options: Any) -> VirtualHost:
    clock = VirtualClock()
    return VirtualHost(SimulatedPen(PenOptions(**options), clock), clock)


@pytest.fixture
def host() -> VirtualHost:
    """A fresh pen (seed 1, 921600 baud, hand in air) and a host on virtual time."""
    return make_host(seed=1, baud=921600, skin_load_pct=0)


@pytest.fixture(autouse=True)
def empty_bus() -> Iterator[None]:
    """Every test starts and ends with no pen on the simulated USB bus."""
    BUS.power_off_all()
    yield
    BUS.power_off_all()


@pytest.fixture
def host_factory() -> Any:
    """Build a host on a pen with other options: ``host_factory(baud=9600)``."""

    def build(**options: Any) -> VirtualHost:
        settings: dict[str, Any] = {"seed": 1, "baud": 921600, "skin_load_pct": 0}
        settings.update(options)
        return make_host(**settings)

    return build
