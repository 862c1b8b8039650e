"""Codec throughput: smpctl.protocol against pymavlink's MAVLink 2, on this machine.

    python bench/codec.py [--messages N] [--repeats R]

Both sides encode message objects already built (smpctl: ``Telemetry`` NamedTuples,
pymavlink: ``MAVLink_attitude_message`` objects; building them is not timed) to frames, and
decode one realistic byte stream fed in 4 KiB chunks, as a serial reader would. ATTITUDE's
28-byte payload is the same size as TELEMETRY's. Each measurement is repeated and the best
run kept (the least disturbed by the rest of the machine). The last line of output is one
JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import math
import platform
import random
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

from smpctl.protocol import (
    OVERHEAD,
    MsgType,
    Status,
    StreamDecoder,
    Telemetry,
    encode,
    payload_size,
)

CHUNK = 4096


def _import_pymavlink() -> tuple[Any, bool]:
    """pymavlink's MAVLink 2 common dialect, imported quietly; and whether its optional C
    CRC (fastcrc) is present, since that changes its speed."""
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        from pymavlink.dialects.v20 import common as mavlink2
        from pymavlink.generator import mavcrc
    return mavlink2, mavcrc.mcrf4xx is not None


def telemetry_session(n: int, seed: int = 0) -> list[Telemetry]:
    """A pass at 200 Hz: speed near a 110 Hz setpoint with noise, current rising while the
    needle is in skin, temperature creeping up, strokes counting."""
    rng = random.Random(seed)
    status = int(
        Status.PEDAL_DOWN | Status.ARMED | Status.RUN_ENABLED | Status.MOTOR_ON | Status.HOST_ALIVE
    )
    out = []
    strokes = 0
    for i in range(n):
        in_skin = (i // 40) % 3 != 0
        speed = 11000 + round(rng.gauss(0, 60)) - (150 if in_skin else 0)
        strokes += 1 if rng.random() < 0.55 else 0
        out.append(
            Telemetry(
                t_us=(i * 5000) & 0xFFFF_FFFF,
                sample_seq=i,
                speed_chz=speed,
                setpoint_chz=11000,
                current_ma=round((620 if in_skin else 380) + rng.gauss(0, 12)),
                voltage_mv=12000 - rng.randrange(40),
                temp_cdegc=3100 + i // 400,
                strokes=strokes,
                depth_um=1000 + rng.randrange(-3, 4),
                battery_pct=87,
                status=status,
                faults=0,
            )
        )
    return out


def attitude_session(mavlink2: Any, n: int, seed: int = 0) -> list[Any]:
    rng = random.Random(seed)
    return [
        mavlink2.MAVLink_attitude_message(
            i * 5,
            0.05 * math.sin(i / 50) + rng.gauss(0, 0.001),
            0.03 * math.cos(i / 70) + rng.gauss(0, 0.001),
            1.2 + 0.001 * i,
            rng.gauss(0, 0.01),
            rng.gauss(0, 0.01),
            rng.gauss(0, 0.01),
        )
        for i in range(n)
    ]


def best_rate(run: Callable[[], int], repeats: int) -> float:
    """Messages per second of the fastest of ``repeats`` runs (GC paused while timing)."""
    best = 0.0
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            count = run()
            elapsed = time.perf_counter() - t0
        finally:
            gc.enable()
        best = max(best, count / elapsed)
    return best


def chunks(stream: bytes) -> list[bytes]:
    return [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    n, repeats = args.messages, args.repeats

    # ---- smpctl.protocol
    samples = telemetry_session(n)
    frames = [encode(m, i) for i, m in enumerate(samples)]
    stream_chunks = chunks(b"".join(frames))

    def smp_encode() -> int:
        enc = encode
        out = [enc(m, i & 0xFF) for i, m in enumerate(samples)]
        return len(out)

    def smp_decode() -> int:
        decoder = StreamDecoder()
        feed = decoder.feed
        count = 0
        for chunk in stream_chunks:
            count += len(feed(chunk))
        return count

    assert smp_decode() == n, "smpctl decoder lost frames"

    # ---- pymavlink, MAVLink 2
    mavlink2, fastcrc = _import_pymavlink()
    attitudes = attitude_session(mavlink2, n)
    mav_out = mavlink2.MAVLink(file=None)
    mav_stream = b"".join(bytes(m.pack(mav_out)) for m in attitudes)
    mav_frame_bytes = len(mav_stream) // n
    mav_chunks = chunks(mav_stream)

    def mav_encode() -> int:
        # msg.pack(mav): message object -> frame bytes, the same work as smpctl's encode()
        mav = mavlink2.MAVLink(file=None)
        out = [m.pack(mav) for m in attitudes]
        return len(out)

    def mav_decode() -> int:
        # parse_buffer(chunk): pymavlink's documented bulk decoder (parse_char per byte is
        # slower); it returns every complete message in the chunk, or None.
        mav = mavlink2.MAVLink(file=None)
        parse = mav.parse_buffer
        count = 0
        for chunk in mav_chunks:
            got = parse(chunk)
            if got:
                count += len(got)
        return count

    assert mav_decode() == n, "pymavlink decoder lost frames"

    rates = {
        "encode_msgs_s": best_rate(smp_encode, repeats),
        "decode_msgs_s": best_rate(smp_decode, repeats),
        "pymavlink_encode_msgs_s": best_rate(mav_encode, repeats),
        "pymavlink_decode_msgs_s": best_rate(mav_decode, repeats),
    }
    frame_bytes = OVERHEAD + payload_size(MsgType.TELEMETRY)
    result: dict[str, Any] = {k: round(v) for k, v in rates.items()}
    result |= {
        "encode_ratio": round(rates["encode_msgs_s"] / rates["pymavlink_encode_msgs_s"], 2),
        "decode_ratio": round(rates["decode_msgs_s"] / rates["pymavlink_decode_msgs_s"], 2),
        "overhead_bytes": OVERHEAD,
        "frame_bytes": frame_bytes,
        "payload_bytes": payload_size(MsgType.TELEMETRY),
        "pymavlink_frame_bytes": mav_frame_bytes,
        "pymavlink_fastcrc": fastcrc,
        "messages": n,
        "repeats": repeats,
        "chunk_bytes": CHUNK,
        "python": platform.python_version(),
    }

    print(f"smpctl.protocol TELEMETRY: {frame_bytes}-byte frames, {OVERHEAD} bytes overhead")
    print(f"  encode {rates['encode_msgs_s']:>12,.0f} msg/s")
    print(f"  decode {rates['decode_msgs_s']:>12,.0f} msg/s  ({CHUNK}-byte chunks)")
    crc = "fastcrc" if fastcrc else "pure-Python CRC"
    print(f"pymavlink MAVLink 2 ATTITUDE: {mav_frame_bytes}-byte frames ({crc})")
    print(f"  encode {rates['pymavlink_encode_msgs_s']:>12,.0f} msg/s")
    print(f"  decode {rates['pymavlink_decode_msgs_s']:>12,.0f} msg/s  ({CHUNK}-byte chunks)")
    print(
        f"ratio: encode x{result['encode_ratio']} (target >= 2), "
        f"decode x{result['decode_ratio']} (target >= 4)"
    )
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
