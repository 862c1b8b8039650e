"""A simulated pen on virtual time making passes, with every true stroke labelled in skin
or in air from its ground truth, so a detector's count can be checked interval by interval."""

from __future__ import annotations

from dataclasses import dataclass, field

from smpctl.dose import ContactDetector
from smpctl.protocol import (
    Arm,
    Heartbeat,
    Hello,
    HostMessage,
    Run,
    SetSpeed,
    SetTelemetryRate,
    StreamDecoder,
    Telemetry,
    encode,
)
from smpctl.sim import PenOptions, SimulatedPen, VirtualClock


@dataclass
class Tally:
    true_skin: int = 0
    true_air: int = 0
    counted_skin: int = 0
    air_counted: int = 0
    strokes: int = 0

    @property
    def error_pct(self) -> float:
        return 100.0 * abs(self.counted_skin - self.true_skin) / max(1, self.true_skin)

    @property
    def air_counted_pct(self) -> float:
        return 100.0 * self.air_counted / max(1, self.true_air)


@dataclass
class PassRig:
    """Runs a pen in 1 ms steps, feeding a detector every telemetry frame decoded."""

    pen: SimulatedPen
    clock: VirtualClock
    detector: ContactDetector
    tally: Tally = field(default_factory=Tally)
    _decoder: StreamDecoder = field(default_factory=StreamDecoder)
    _seq: int = 0
    _next_heartbeat: float = 0.0
    _labels: dict[int, bool] = field(default_factory=dict)
    _last: Telemetry | None = None

    @classmethod
    def start(
        cls, detector: ContactDetector, rate_hz: int, *, seed: int = 1, speed_chz: int = 11_000
    ) -> PassRig:
        clock = VirtualClock()
        baud = 115_200 if rate_hz <= 300 else 921_600
        pen = SimulatedPen(PenOptions(seed=seed, baud=baud, skin_load_pct=-1), clock)
        rig = cls(pen, clock, detector)
        rig.send(Hello(1, 0))
        rig.run(0.05)
        for message in (SetTelemetryRate(rate_hz), SetSpeed(speed_chz), Arm(), Run()):
            rig.send(message)
        rig.run(0.05)
        return rig

    def send(self, message: HostMessage) -> None:
        self.pen.receive(encode(message, self._seq))
        self._seq = (self._seq + 1) & 0xFF

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds * 1000)):
            if self.clock.now() >= self._next_heartbeat:
                self._next_heartbeat = self.clock.now() + 0.1
                self.send(Heartbeat(self._seq))
            before = self.pen.truth()
            self.clock.advance(0.001)
            self.pen.advance(self.clock.now())
            after = self.pen.truth()
            skin = after.skin_strokes - before.skin_strokes
            for j in range(after.strokes - before.strokes):
                self._labels[before.strokes + 1 + j] = j < skin
            for _, message in self._decoder.feed(self.pen.take_output()):
                if isinstance(message, Telemetry):
                    self._feed(message)

    def _feed(self, sample: Telemetry) -> None:
        in_skin = self.detector.feed(sample)
        last, self._last = self._last, sample
        if last is None:
            return
        labels = [self._labels[n] for n in range(last.strokes + 1, sample.strokes + 1)]
        skin = sum(labels)
        counted = len(labels) if in_skin else 0
        t = self.tally
        t.strokes += len(labels)
        t.true_skin += skin
        t.true_air += len(labels) - skin
        t.counted_skin += counted
        t.air_counted += max(0, counted - skin)

    def passes(self, count: int, seconds: float = 2.0, rest_s: float = 0.2) -> None:
        for _ in range(count):
            self.pen.set_pedal(True)
            self.run(seconds)
            self.pen.set_pedal(False)
            self.run(rest_s)
