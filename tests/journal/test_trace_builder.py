"""The speed trace kept with each pass: bounded in size however long the pass, spanning
all of it, and faithful to the speeds recorded, however the samples were batched."""

from __future__ import annotations

import random

import pytest

from smpctl.journal.trace_codec import (
    TRACE_POINTS,
    TraceBuilder,
    TracePoint,
    decode_trace,
    encode_trace,
)
from smpctl.protocol import Telemetry


def _samples(n: int, seed: int = 1) -> list[Telemetry]:
    rnd = random.Random(seed)
    return [
        Telemetry(
            (4_000_000_000 + i * 1000) & 0xFFFFFFFF,  # wraps the u32 clock mid-pass
            i,
            10_000 + rnd.randint(-300, 300) + (2000 if i > n // 2 else 0),
            10_000,
            800,
            12_000,
            3000,
            i // 10,
            800,
            255,
            0,
            0,
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [10, 500, 60_000, 600_000])
def test_a_trace_has_a_bounded_number_of_points_spanning_the_whole_pass(n: int) -> None:
    samples = _samples(n)
    builder = TraceBuilder()
    rnd = random.Random(n)
    i = 0
    while i < n:  # the recorder hands over batches of any size
        step = rnd.randint(1, 700)
        builder.add(samples[i : i + step])
        i += step
    points = builder.points()
    assert min(n, TRACE_POINTS) <= len(points) <= 2 * TRACE_POINTS
    assert points[0].t_s == 0.0
    assert points[-1].t_s <= (n - 1) / 1000 < points[-1].t_s + (n / len(points)) * 2 / 1000
    # the mean over the trace is the pass's mean speed (buckets are equal shares)
    true_mean = sum(s.speed_chz for s in samples) / n / 100
    assert (
        sum(p.speed_hz for p in points[:-1]) / max(1, len(points) - 1)
        == pytest.approx(true_mean, rel=0.02)
        or n < 2 * TRACE_POINTS
    )
    # the speed step half way through shows in the trace
    if n >= 500:
        assert points[1].speed_hz < 101 < points[-2].speed_hz


def test_a_trace_survives_its_encoding_to_a_hundredth_of_a_hertz() -> None:
    points = [TracePoint(i * 0.25, 100 + i / 7, 100.0) for i in range(48)]
    back = decode_trace(encode_trace(points))
    assert len(back) == 48
    for a, b in zip(points, back, strict=True):
        assert b.t_s == pytest.approx(a.t_s, abs=0.001)
        assert b.speed_hz == pytest.approx(a.speed_hz, abs=0.006)
    with pytest.raises(ValueError, match="update smpctl"):
        decode_trace(b"", "trace-v99")
