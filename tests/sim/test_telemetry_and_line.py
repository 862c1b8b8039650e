"""Telemetry timing, the transmit buffer and the line, determinism."""

from __future__ import annotations

import itertools
import random

from smpctl.protocol import (
    Arm,
    EventKind,
    Heartbeat,
    Hello,
    ReadParam,
    Run,
    SetSpeed,
    SetTelemetryRate,
    StreamDecoder,
    Telemetry,
    encode,
)
from smpctl.sim import PenOptions, SimulatedPen, VirtualClock
from smpctl.sim.uart import TransmitQueue


def test_telemetry_at_2000_hz_over_921600_baud_loses_nothing(host):
    host.hello()
    assert host.ok(SetTelemetryRate(2000)).value == 2000
    host.clear()
    host.run(1.0)
    samples = host.telemetry()
    assert 1995 <= len(samples) <= 2001
    seqs = [s.sample_seq for s in samples]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert all(s.t_us % 500 == 0 for s in samples)
    assert host.pen.firmware.telemetry_dropped == 0


def test_samples_land_on_exact_multiples_of_the_period(host):
    host.hello()
    host.ok(SetTelemetryRate(300))
    host.clear()
    host.run(0.5)
    for sample in host.telemetry():
        k = round(sample.t_us * 300 / 1e6)
        assert abs(sample.t_us - k * 1e6 / 300) < 1.0


def test_output_is_paced_at_the_line_rate(host_factory):
    host = host_factory(baud=9600)
    host.hello()
    host.run(0.2)
    host.clear()
    host.run(1.0)
    received = sum(34 for _ in host.telemetry()) + 19 * len(host.events())
    assert 900 <= received <= 960  # 9600 baud, 8N1: 960 bytes/s


def test_tx_overflow_drops_telemetry_leaves_sample_seq_gaps_and_reports_it(host_factory):
    host = host_factory(baud=9600)
    host.hello()
    assert host.ok(SetTelemetryRate(2000)).value == 28  # what 9600 baud carries
    host.clear()
    for _ in range(40):  # replies take the line ahead of telemetry
        host.send(ReadParam(0, 1))
    host.run(2.5)
    seqs = [s.sample_seq for s in host.telemetry()]
    gaps = [b - a for a, b in itertools.pairwise(seqs) if b - a != 1]
    assert gaps and all(g > 1 for g in gaps)
    overflow = host.events(EventKind.TX_OVERFLOW)
    assert overflow and overflow[0].value > 0
    assert sum(e.value for e in overflow) <= host.pen.firmware.telemetry_dropped
    replies = [m for _, _, m in host.received if type(m).__name__ == "ParamValue"]
    assert len(replies) == 40  # replies and events are never dropped


def test_replies_and_events_go_ahead_of_queued_telemetry():
    tx = TransmitQueue(960, random.Random(0))
    for i in range(10):
        tx.offer_telemetry(bytes([i]) * 34)
    tx.drain(10_000)  # 9 bytes of the first telemetry frame are on the wire
    tx.push_priority(b"E" * 19)
    tx.drain(1_000_000)
    line = tx.take()
    assert line[:34] == bytes([0]) * 34  # the frame in progress finishes
    assert line[34:53] == b"E" * 19  # then the event, before the other telemetry
    assert line[53:87] == bytes([1]) * 34


def test_a_telemetry_frame_that_does_not_fit_is_refused():
    tx = TransmitQueue(960, random.Random(0))
    while tx.fits(34):
        tx.offer_telemetry(b"T" * 34)
    assert tx.queued == 510
    tx.push_priority(b"E" * 19)  # priority frames are always taken
    assert tx.queued == 529


def _byte_stream(seed: int) -> bytes:
    clock = VirtualClock()
    pen = SimulatedPen(PenOptions(seed=seed, baud=921600), clock)
    out = bytearray()
    pen.receive(encode(Hello(1, 0), 0))
    pen.receive(encode(SetTelemetryRate(1000), 1))
    pen.receive(encode(SetSpeed(10000), 2) + encode(Arm(), 3) + encode(Run(), 4))
    pen.set_skin_load(-1)
    pen.set_pedal(True)
    for i in range(2000):
        if i % 100 == 0:
            pen.receive(encode(Heartbeat(i), 5 + i // 100))
        clock.advance(0.001)
        pen.advance(clock.now())
        out += pen.take_output()
    return bytes(out)


def test_same_seed_gives_an_identical_byte_stream():
    first = _byte_stream(7)
    assert len(first) > 30000
    assert _byte_stream(7) == first
    assert _byte_stream(8) != first


def test_decoded_stream_is_clean(host):
    host.start_motor()
    stats = host.decoder.stats
    assert stats.crc_errors == stats.bytes_skipped == 0
    assert all(isinstance(s, Telemetry) for s in host.telemetry())


def test_stream_decoder_sees_every_frame_when_read_in_odd_chunks():
    clock = VirtualClock()
    pen = SimulatedPen(PenOptions(seed=3, baud=921600), clock)
    pen.receive(encode(Hello(1, 0), 0))
    decoder = StreamDecoder()
    frames = 0
    for _ in range(300):
        clock.advance(0.001)
        pen.advance(clock.now())
        while pen.output_waiting:
            frames += len(decoder.feed(pen.take_output(7)))
    assert frames >= 60 and decoder.stats.bytes_skipped == 0
