"""The speed trace kept with each pass: bounded in size however long the pass, spanning
all of it, and faithful to the speeds recorded, however the samples were batched."""

from __future__ import annotations

import random
import zlib

import pytest

from smpctl.journal.strip_codec import trace_centi_hz
from smpctl.journal.trace_codec import (
    TRACE_CODEC,
    TRACE_CODEC_ZLIB,
    TRACE_POINTS,
    TraceBuilder,
    TracePoint,
    decode_trace,
    encode_trace,
)
from smpctl.protocol import Telemetry
from smpctl.review.trace import decode_columns


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


def test_traces_written_compressed_by_earlier_releases_still_read_the_same() -> None:
    """v1 stored the packed points zlib-compressed; v2 stores them packed. A journal keeps
    both kinds of row, and every reader (review cards, zone strips, verify) sees the same
    points in each."""
    points = [
        TracePoint(i * 0.16, 100 + (i % 9) / 3, 100.0 if i < 30 else 110.0) for i in range(60)
    ]
    packed = encode_trace(points)
    assert TRACE_CODEC != TRACE_CODEC_ZLIB
    old = zlib.compress(packed, 6)
    assert decode_trace(old, TRACE_CODEC_ZLIB) == decode_trace(packed, TRACE_CODEC)
    assert decode_columns(old, TRACE_CODEC_ZLIB) == decode_columns(packed, TRACE_CODEC)
    assert trace_centi_hz(old, TRACE_CODEC_ZLIB) == trace_centi_hz(packed, TRACE_CODEC)
    speeds, setpoints = trace_centi_hz(packed, TRACE_CODEC)
    assert speeds[:3] == [10000, 10033, 10067] and setpoints[29:31] == [10000, 11000]
    # damaged rows are refused with a reason, not read as something else
    with pytest.raises(ValueError, match="does not inflate"):
        decode_trace(b"not zlib", TRACE_CODEC_ZLIB)
    with pytest.raises(ValueError, match="trace of 7 bytes"):
        decode_columns(packed[:7], TRACE_CODEC)
