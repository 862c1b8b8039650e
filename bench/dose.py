"""Micro-injury dose: how well in-skin strokes are counted from telemetry alone.

    python bench/dose.py [--passes N] [--seed S]

Scripted sessions on the simulated pen, accelerated: an in-process ``SimulatedPen`` on a
virtual clock, its output paced by its own line model at 115200 baud (telemetry at what the
line carries, ~338 Hz) and at 921600 baud (1000 Hz). Each run makes N passes (default 240)
over all zones in turn with the tapping hand (contacts of 30–200 ms, gaps, ±40 % pressure,
current noise) and the zone's needle, speed and depth; a stretch of passes runs on a weak
bench supply (10.5 V) so the supply sags under load. The ``ContactDetector`` sees only the
telemetry frames decoded from the pen's output bytes.

Ground truth is read from ``pen.truth()`` after every 1 ms step and labels each true stroke
(stroke number n of the pen's counter) as in skin or in air, so every telemetry interval's
true in-skin strokes are known exactly.

- ``in_skin_stroke_error_pct``: |counted − true| / true in-skin strokes over all passes.
- ``air_strokes_counted_pct``: strokes counted as in skin in intervals where the truth says
  air (per interval, the excess over the true in-skin strokes), as % of true air strokes.
- ``dose_error_pct``: per zone, counted vs true punctures/cm² (domain.md areas); the worst
  zone over both rates.

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from smpctl.dose import CartridgeKind, ContactDetector, PassDose, session_dose
from smpctl.protocol import (
    Arm,
    Heartbeat,
    Hello,
    HostMessage,
    Run,
    SetDepth,
    SetSpeed,
    SetTelemetryRate,
    StreamDecoder,
    Telemetry,
    encode,
)
from smpctl.sim import PenOptions, SimulatedPen, VirtualClock
from smpctl.sim.pen import GroundTruth
from smpctl.zones import ZoneCode

FINE_ZONES = (ZoneCode.HL, ZoneCode.TMP_L, ZoneCode.TMP_R, ZoneCode.NAP)
"""domain.md defaults: 1RL at 90–110 Hz and 0.8 mm here, 3RL at 100–120 Hz and 1.0 mm
elsewhere."""
PASS_S = (1.5, 4.0)
REST_S = 0.25
WEAK_SUPPLY_MV = 10_500
STEP_S = 0.001
SESSION_DAY = date(2026, 1, 1)


class BenchHost:
    """Sends frames, moves virtual time in 1 ms steps with a heartbeat every 100 ms, decodes
    what the pen sent and labels every true stroke from the ground truth."""

    def __init__(self, pen: SimulatedPen, clock: VirtualClock) -> None:
        self.pen = pen
        self.clock = clock
        self.decoder = StreamDecoder()
        self.seq = 0
        self.next_heartbeat = 0.0
        self.heartbeats = 0
        self.telemetry: list[Telemetry] = []
        self.skin_label: dict[int, bool] = {}
        self.truth: GroundTruth = pen.truth()

    def send(self, message: HostMessage) -> None:
        self.pen.receive(encode(message, self.seq))
        self.seq = (self.seq + 1) & 0xFF

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds / STEP_S)):
            if self.clock.now() >= self.next_heartbeat:
                self.next_heartbeat = self.clock.now() + 0.1
                self.heartbeats = (self.heartbeats + 1) & 0xFFFF
                self.send(Heartbeat(self.heartbeats))
            self.clock.advance(STEP_S)
            self.pen.advance(self.clock.now())
            for _, message in self.decoder.feed(self.pen.take_output()):
                if isinstance(message, Telemetry):
                    self.telemetry.append(message)
            before, after = self.truth, self.pen.truth()
            new = after.strokes - before.strokes
            skin = after.skin_strokes - before.skin_strokes
            for j in range(new):
                # within one 1 ms step (< 1 stroke at 150 Hz) all new strokes share a state
                self.skin_label[before.strokes + 1 + j] = j < skin
            self.truth = after


@dataclass
class ZoneTally:
    true_skin: int = 0
    counted_skin: int = 0
    passes: int = 0


@dataclass
class RateResult:
    baud: int
    telemetry_hz: int = 0
    passes: int = 0
    true_skin: int = 0
    counted_skin: int = 0
    true_air: int = 0
    air_counted: int = 0
    skin_missed: int = 0
    samples: int = 0
    samples_lost: int = 0
    accel_gain: float = 0.0
    pass_abs_errors: list[float] = field(default_factory=list)
    zones: dict[ZoneCode, ZoneTally] = field(default_factory=dict)


def zone_setup(zone: ZoneCode) -> tuple[CartridgeKind, int, int]:
    """(cartridge, speed cHz, depth µm) for a zone, from domain.md's default profiles."""
    if zone in FINE_ZONES:
        return CartridgeKind.RL1, 10_000, 800
    return CartridgeKind.RL3, 11_000, 1000


def run_rate(baud: int, telemetry_hz: int, passes: int, seed: int) -> RateResult:
    clock = VirtualClock()
    pen = SimulatedPen(PenOptions(seed=seed, baud=baud, skin_load_pct=-1), clock)
    host = BenchHost(pen, clock)
    rng = random.Random(f"{seed}/{baud}/script")
    result = RateResult(baud)
    host.send(Hello(1, 0))
    host.run(0.05)
    host.send(SetTelemetryRate(telemetry_hz))
    host.send(Arm())
    host.send(Run())
    host.run(0.05)
    detector = ContactDetector()
    zones = list(ZoneCode)
    weak = range(passes // 3, passes // 3 + passes // 6)
    fed = 0
    previous: Telemetry | None = None
    for n in range(passes):
        zone = zones[n % len(zones)]
        _, speed_chz, depth_um = zone_setup(zone)
        pen.set_supply_mv(WEAK_SUPPLY_MV if n in weak else 0)
        host.send(SetSpeed(speed_chz))
        host.send(SetDepth(depth_um))
        host.run(0.02)
        before = detector.counts
        pen.set_pedal(True)
        host.run(rng.uniform(*PASS_S))
        pen.set_pedal(False)
        host.run(REST_S)
        true_skin = 0
        for sample in host.telemetry[fed:]:
            in_skin = detector.feed(sample)
            last, previous = previous, sample
            if last is None:
                continue
            labels = [host.skin_label[k] for k in range(last.strokes + 1, sample.strokes + 1)]
            skin = sum(labels)
            counted = len(labels) if in_skin else 0
            result.true_air += len(labels) - skin
            result.air_counted += max(0, counted - skin)
            result.skin_missed += max(0, skin - counted)
            true_skin += skin
        fed = len(host.telemetry)
        counted_skin = (detector.counts - before).in_skin_strokes
        result.passes += 1
        result.true_skin += true_skin
        result.counted_skin += counted_skin
        if true_skin:
            result.pass_abs_errors.append(abs(counted_skin - true_skin) / true_skin)
        tally = result.zones.setdefault(zone, ZoneTally())
        tally.true_skin += true_skin
        tally.counted_skin += counted_skin
        tally.passes += 1
    seqs = [s.sample_seq for s in host.telemetry]
    result.samples = len(seqs)
    result.samples_lost = (seqs[-1] - seqs[0] + 1 - len(seqs)) if seqs else 0
    span_s = (host.telemetry[-1].t_us - host.telemetry[0].t_us) / 1e6 if seqs else 1.0
    result.telemetry_hz = round((seqs[-1] - seqs[0]) / span_s) if seqs else 0
    result.accel_gain = detector.accel_gain_ma_per_hz_s
    return result


def dose_errors(result: RateResult) -> dict[str, float]:
    """Per zone: |counted − true| punctures/cm² over true, in %."""

    def passes(counted: bool) -> list[PassDose]:
        return [
            PassDose(zone, zone_setup(zone)[0], t.counted_skin if counted else t.true_skin)
            for zone, t in result.zones.items()
        ]

    shown = session_dose(SESSION_DAY, passes(True)).density
    true = session_dose(SESSION_DAY, passes(False)).density
    return {z.value: 100.0 * abs(shown[z] - true[z]) / true[z] for z in true if true[z]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=240)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    summary: dict[str, Any] = {"passes_per_rate": args.passes, "seed": args.seed}
    in_skin_errors: list[float] = []
    air_pcts: list[float] = []
    dose_worst: list[float] = []
    for baud, telemetry_hz in ((115_200, 2000), (921_600, 1000)):
        t0 = time.perf_counter()
        r = run_rate(baud, telemetry_hz, args.passes, args.seed)
        error = 100.0 * abs(r.counted_skin - r.true_skin) / r.true_skin
        air = 100.0 * r.air_counted / max(1, r.true_air)
        doses = dose_errors(r)
        in_skin_errors.append(error)
        air_pcts.append(air)
        dose_worst.append(max(doses.values()))
        per_pass = sorted(r.pass_abs_errors)
        worst = max(doses.values())
        print(
            f"{baud} baud, {r.telemetry_hz} Hz telemetry: {r.passes} passes, true in-skin "
            f"{r.true_skin}, counted {r.counted_skin} ({error:.2f} %), air counted {air:.2f} % "
            f"of {r.true_air}, missed {r.skin_missed}, c = {r.accel_gain:.3f} mA/(Hz/s), "
            f"lost samples {r.samples_lost}/{r.samples}, worst zone dose {worst:.2f} %"
            f" ({time.perf_counter() - t0:.1f} s)"
        )
        summary[str(baud)] = {
            "telemetry_hz": r.telemetry_hz,
            "in_skin_stroke_error_pct": round(error, 3),
            "air_strokes_counted_pct": round(air, 3),
            "skin_strokes_missed_pct": round(100.0 * r.skin_missed / r.true_skin, 3),
            "pass_error_median_pct": round(100.0 * per_pass[len(per_pass) // 2], 3),
            "pass_error_p90_pct": round(100.0 * per_pass[int(len(per_pass) * 0.9)], 3),
            "dose_error_pct_by_zone": {z: round(v, 3) for z, v in doses.items()},
            "true_in_skin_strokes": r.true_skin,
            "accel_gain_ma_per_hz_s": round(r.accel_gain, 3),
            "samples_lost": r.samples_lost,
        }
    summary["in_skin_stroke_error_pct"] = round(max(in_skin_errors), 3)
    summary["air_strokes_counted_pct"] = round(max(air_pcts), 3)
    summary["dose_error_pct"] = round(max(dose_worst), 3)
    summary["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
