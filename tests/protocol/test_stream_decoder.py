"""The streaming decoder: any chunking, any damage, never a wrong message, honest counters.

Randomness here is seeded (``random.Random(seed)``, hypothesis ``derandomize``): a CRC-16
passes a false frame with probability 2**-16, so "never a wrong message" is a property of
the chosen streams, checked once and then fixed, not a claim about every possible stream.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smpctl.protocol import (
    MAX_FRAME,
    MAX_PAYLOAD,
    OVERHEAD,
    SOF,
    Ack,
    Arm,
    Heartbeat,
    Message,
    MsgType,
    SetSpeed,
    Stop,
    StreamDecoder,
    Telemetry,
    Unknown,
    encode,
)

from .wire import MESSAGE_CLASSES, message_strategy, random_message, raw_frame

Frame = tuple[int, Message]


def _sent_frames(seed: int, count: int = 120) -> list[tuple[Frame, bytes]]:
    """``count`` random messages of every class, with distinct SEQs (so pairs are unique)."""
    assert count <= 256
    rng = random.Random(seed)
    out = []
    for seq in range(count):
        msg = random_message(rng, rng.choice(MESSAGE_CLASSES))
        out.append(((seq, msg), encode(msg, seq)))
    return out


def _feed(data: bytes, sizes: list[int]) -> tuple[list[Frame], dict[str, int], int]:
    """Feed ``data`` in chunks of ``sizes`` (cycled); return messages, counters, pending."""
    decoder = StreamDecoder()
    got: list[Frame] = []
    i = k = 0
    while i < len(data):
        n = sizes[k % len(sizes)]
        got += decoder.feed(data[i : i + n])
        i += n
        k += 1
    return got, decoder.stats.as_dict(), decoder.pending


def _noisy_stream(seed: int) -> tuple[bytes, list[Frame]]:
    """Frames separated by garbage rich in false start bytes, ending in padding."""
    rng = random.Random(seed)
    parts, sent = [], []
    for frame, data in _sent_frames(seed):
        garbage = bytes(
            rng.choice((SOF, SOF, 0, rng.randrange(256))) for _ in range(rng.randrange(6))
        )
        parts += [garbage, data]
        sent.append(frame)
    parts.append(bytes(MAX_FRAME))  # lets every false start before the last frame be rejected
    return b"".join(parts), sent


# ------------------------------------------------------------------------- chunking


@pytest.mark.parametrize(
    "sizes",
    [[1], [2, 3, 5, 7], [4096], [65536]],
    ids=["one byte at a time", "small odd chunks", "4 KiB", "64 KiB"],
)
def test_noisy_stream_decodes_the_same_in_any_chunks(sizes: list[int]) -> None:
    data, sent = _noisy_stream(seed=1)
    whole = _feed(data, [len(data)])
    assert whole[0] == sent
    assert _feed(data, sizes) == whole


@settings(derandomize=True, deadline=None, max_examples=40)
@given(sizes=st.lists(st.integers(1, 300), min_size=1, max_size=50))
def test_random_chunk_sizes_give_the_same_messages_and_counters(sizes: list[int]) -> None:
    data, sent = _noisy_stream(seed=2)
    got, stats, pending = _feed(data, sizes)
    assert got == sent
    assert (stats, pending) == _feed(data, [len(data)])[1:]


def test_a_megabit_of_telemetry_in_64_kib_chunks_equals_byte_by_byte() -> None:
    rng = random.Random(3)
    sent = [(i & 0xFF, random_message(rng, Telemetry)) for i in range(4000)]
    data = b"".join(encode(msg, seq) for seq, msg in sent)
    assert len(data) > 2 * 65536
    big = _feed(data, [65536])
    assert big[0] == sent
    assert _feed(data, [1]) == big
    assert big[1]["bytes_skipped"] == 0 and big[2] == 0


def test_memoryview_and_bytearray_chunks_are_accepted() -> None:
    frame = encode(SetSpeed(9000), 4)
    decoder = StreamDecoder()
    assert decoder.feed(memoryview(frame)[:3]) == []
    assert decoder.feed(bytearray(frame[3:])) == [(4, SetSpeed(9000))]


# ------------------------------------------------------------------------- corruption

OPS = ("flip", "drop", "insert", "insert_sof")


def _corrupt(
    frames: list[tuple[Frame, bytes]], rng: random.Random, kind: str, n_ops: int
) -> tuple[bytes, set[int]]:
    """Apply ``n_ops`` random damages; return the stream and the indexes of damaged frames.

    Every byte remembers which frame it came from (-1: inserted), so a frame is intact when
    none of its bytes changed or vanished and nothing was inserted between them.
    """
    cells = [[b, idx] for idx, (_, data) in enumerate(frames) for b in data]
    damaged: set[int] = set()
    for _ in range(n_ops):
        op = rng.choice(OPS) if kind == "mixed" else kind
        if op == "flip":
            cell = cells[rng.randrange(len(cells))]
            cell[0] ^= 1 << rng.randrange(8)
            damaged.add(cell[1])
        elif op == "drop":
            damaged.add(cells.pop(rng.randrange(len(cells)))[1])
        else:
            at = rng.randrange(len(cells) + 1)
            if 0 < at < len(cells) and cells[at - 1][1] == cells[at][1]:
                damaged.add(cells[at][1])
            cells.insert(at, [SOF if op == "insert_sof" else rng.randrange(256), -1])
    damaged.discard(-1)
    return bytes(b for b, _ in cells) + bytes(MAX_FRAME), damaged


@pytest.mark.parametrize("kind", [*OPS, "mixed"])
def test_damaged_stream_never_yields_a_wrong_message_and_keeps_every_intact_frame(
    kind: str,
) -> None:
    for seed in range(30):
        frames = _sent_frames(seed)
        rng = random.Random(1000 + seed)
        data, damaged = _corrupt(frames, rng, kind, n_ops=rng.randint(1, 25))
        got = StreamDecoder().feed(data)

        sent = [frame for frame, _ in frames]
        position = {frame: i for i, frame in enumerate(sent)}
        assert all(frame in position for frame in got), f"seed {seed}: a message never sent"
        order = [position[frame] for frame in got]
        assert order == sorted(set(order)), f"seed {seed}: frames repeated or out of order"
        intact = {i for i in range(len(sent)) if i not in damaged}
        assert intact <= set(order), f"seed {seed}: lost intact frames {intact - set(order)}"


def test_damaged_frames_are_not_delivered() -> None:
    """A single flipped bit in any byte but SOF of any frame makes that frame disappear,
    and only that frame (the neighbours stay)."""
    before, after = encode(Heartbeat(1), 1), encode(Heartbeat(3), 3)
    victim = encode(Telemetry(*range(12)), 2)
    for i in range(len(victim)):
        for bit in range(8):
            bad = bytearray(victim)
            bad[i] ^= 1 << bit
            got = StreamDecoder().feed(before + bad + after + bytes(MAX_FRAME))
            assert got == [(1, Heartbeat(1)), (3, Heartbeat(3))], (i, bit)


# ------------------------------------------------------------------------- garbage

_pieces = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\xa5", b"\xa5\xc8", b"\xa5\xc9", b"\xa5\x00", b"\xa5\xff\xa5"]),
    st.sampled_from(MESSAGE_CLASSES).flatmap(message_strategy).map(lambda m: encode(m, 7)),
)


@settings(derandomize=True, deadline=None, max_examples=300)
@given(data=st.binary(max_size=2048), cuts=st.lists(st.integers(1, 64), min_size=1))
def test_decoder_never_raises_on_arbitrary_bytes(data: bytes, cuts: list[int]) -> None:
    got, stats, pending = _feed(data, cuts)
    assert all(0 <= seq <= 255 and hasattr(msg, "_fields") for seq, msg in got)
    assert stats["bytes_in"] == len(data)
    assert stats["bytes_skipped"] + pending <= len(data)
    assert pending < MAX_FRAME


@settings(derandomize=True, deadline=None, max_examples=300)
@given(pieces=st.lists(_pieces, max_size=30), cuts=st.lists(st.integers(1, 64), min_size=1))
def test_adversarial_streams_decode_the_same_in_any_chunks(
    pieces: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(pieces)
    chunked = _feed(data, cuts)
    assert chunked == _feed(data, [max(len(data), 1)])
    assert chunked[2] < MAX_FRAME


def test_memory_stays_bounded_on_endless_garbage() -> None:
    decoder = StreamDecoder()
    rng = random.Random(5)
    for _ in range(200):
        decoder.feed(bytes(rng.randrange(256) for _ in range(512)))
        assert decoder.pending < MAX_FRAME
    assert decoder.stats.bytes_in == 200 * 512


# ------------------------------------------------------------------------- counters


def test_bytes_without_a_start_byte_are_counted_as_skipped() -> None:
    decoder = StreamDecoder()
    assert decoder.feed(b"\x00\x13hello\xff" + encode(Arm(), 1)) == [(1, Arm())]
    assert decoder.stats.bytes_skipped == 8
    assert (decoder.stats.frames, decoder.stats.bytes_in) == (1, 8 + OVERHEAD)


def test_each_bad_crc_is_one_crc_error_and_its_bytes_are_skipped() -> None:
    bad = []
    for n in range(3):
        frame = bytearray(encode(SetSpeed(2000 + n), n))
        assert frame.count(SOF) == 1  # so its bytes cannot hide another start
        frame[-2] ^= 0x40
        bad.append(bytes(frame))
    decoder = StreamDecoder()
    got = decoder.feed(b"".join(bad) + encode(Arm(), 9))
    assert got == [(9, Arm())]
    assert decoder.stats.crc_errors == 3
    assert decoder.stats.bytes_skipped == sum(map(len, bad))


def test_length_above_maximum_is_oversize_even_with_a_good_crc() -> None:
    too_long = raw_frame(1, MsgType.TELEMETRY, bytes(MAX_PAYLOAD + 1))
    decoder = StreamDecoder()
    assert decoder.feed(too_long + encode(Arm(), 2)) == [(2, Arm())]
    assert decoder.stats.oversize == 1
    assert decoder.stats.crc_errors == 0
    assert decoder.stats.bytes_skipped == len(too_long)


def test_maximum_length_frame_is_accepted() -> None:
    longest = raw_frame(1, 0x7E, bytes(range(MAX_PAYLOAD)))
    decoder = StreamDecoder()
    assert decoder.feed(longest) == [(1, Unknown(0x7E, bytes(range(MAX_PAYLOAD))))]
    assert decoder.stats.oversize == 0


def test_unknown_types_are_returned_and_counted() -> None:
    frames = [raw_frame(i, t, bytes([i] * i)) for i, t in enumerate((0x40, 0x7F, 0xFF, 0x00))]
    decoder = StreamDecoder()
    got = decoder.feed(b"".join(frames))
    assert got == [
        (0, Unknown(0x40, b"")),
        (1, Unknown(0x7F, b"\x01")),
        (2, Unknown(0xFF, b"\x02\x02")),
        (3, Unknown(0x00, b"\x03\x03\x03")),
    ]
    assert (decoder.stats.unknown_types, decoder.stats.malformed) == (4, 0)
    assert decoder.stats.frames == 4


def test_short_payload_of_a_known_type_is_returned_as_unknown_and_counted_malformed() -> None:
    payload = encode(Telemetry(*range(12)), 0)[4:-2][:-1]
    decoder = StreamDecoder()
    assert decoder.feed(raw_frame(5, MsgType.TELEMETRY, payload)) == [
        (5, Unknown(MsgType.TELEMETRY, payload))
    ]
    assert (decoder.stats.malformed, decoder.stats.unknown_types) == (1, 0)


def test_longer_payload_frame_decodes_for_forward_compatibility() -> None:
    payload = encode(Ack(3, MsgType.SET_SPEED, 11000), 0)[4:-2] + b"\xa5\x00\x01"
    decoder = StreamDecoder()
    assert decoder.feed(raw_frame(6, MsgType.ACK, payload)) == [(6, Ack(3, 3, 11000))]
    stats = decoder.stats.as_dict()
    assert stats.pop("bytes_in") == len(payload) + OVERHEAD
    assert stats.pop("frames") == 1
    assert set(stats.values()) == {0}


def test_every_byte_is_accounted_for() -> None:
    data, sent = _noisy_stream(seed=4)
    got, stats, pending = _feed(data, [97])
    assert got == sent
    frame_bytes = sum(len(encode(msg, seq)) for seq, msg in got)
    assert stats["bytes_skipped"] + frame_bytes + pending == stats["bytes_in"] == len(data)


def test_partial_frame_waits_for_the_rest_and_reset_forgets_it() -> None:
    frame = encode(SetSpeed(12000), 8)
    decoder = StreamDecoder()
    assert decoder.feed(frame[:5]) == []
    assert decoder.pending == 5
    assert decoder.feed(frame[5:]) == [(8, SetSpeed(12000))]
    assert decoder.feed(frame[:5]) == []
    decoder.reset()
    assert decoder.pending == 0
    assert decoder.feed(frame[5:] + frame) == [(8, SetSpeed(12000))]


# ------------------------------------------------------------------------- silence


def test_silence_abandons_a_false_start_and_delivers_the_frames_it_held() -> None:
    """A false start byte promising 16 bytes holds a STOP back until more traffic comes;
    after a silence, expire() gives the STOP at once."""
    stop = encode(Stop(), 22)
    decoder = StreamDecoder()
    assert decoder.feed(b"\xa5\x10\x07" + stop) == []
    assert decoder.pending == 3 + len(stop)
    assert decoder.expire() == [(22, Stop())]
    assert decoder.pending == 0
    assert (decoder.stats.expired, decoder.stats.bytes_skipped) == (1, 3)


def test_silence_drops_a_frame_that_stopped_halfway() -> None:
    frame = encode(SetSpeed(5000), 1)
    decoder = StreamDecoder()
    decoder.feed(frame[:5])
    assert decoder.expire() == []
    assert decoder.pending == 0
    assert decoder.stats.bytes_skipped == 5
    assert decoder.stats.expired >= 1
    assert decoder.feed(frame) == [(1, SetSpeed(5000))]


def test_silence_with_nothing_held_changes_nothing() -> None:
    decoder = StreamDecoder()
    decoder.feed(encode(Arm(), 1))
    before = decoder.stats.as_dict()
    assert decoder.expire() == []
    assert decoder.stats.as_dict() == before
