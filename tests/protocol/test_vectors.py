"""docs/protocol.md and the codec agree: its test vectors, CRC, and tables.

A failure here means the specification and smpctl.protocol disagree; the message shows what
the codec produces, so whichever is wrong can be fixed.
"""

from __future__ import annotations

import pytest

from smpctl.protocol import (
    MAX_PAYLOAD,
    OVERHEAD,
    SOF,
    MsgType,
    NakCode,
    StreamDecoder,
    crc16,
    encode,
    payload_size,
    type_of,
)

from .protocol_doc import crc_example, payload_layouts, table_after, vectors
from .wire import MESSAGE_CLASSES

SINGLE = [v for v in vectors() if not v.is_stream]
STREAMS = [v for v in vectors() if v.is_stream]
COUNTERS = ("bytes_skipped", "crc_errors", "oversize", "unknown_types", "malformed")


def test_document_has_vectors_for_every_message_and_a_resync_stream() -> None:
    names = [v.name for v in vectors()]
    assert len(names) == len(set(names)), "vector names must be unique"
    covered = {type(v.message) for v in SINGLE}
    assert covered == set(MESSAGE_CLASSES)
    assert any(v.stats.get("crc_errors", 0) and v.stats.get("bytes_skipped", 0) for v in STREAMS)


@pytest.mark.parametrize("vector", SINGLE, ids=lambda v: v.name)
def test_vector_decodes_to_its_message(vector) -> None:
    decoder = StreamDecoder()
    assert decoder.feed(vector.data) == [(vector.seq, vector.message)]
    assert decoder.stats.bytes_skipped == 0
    assert decoder.pending == 0


@pytest.mark.parametrize("vector", SINGLE, ids=lambda v: v.name)
def test_vector_is_exactly_what_the_codec_encodes(vector) -> None:
    frame = encode(vector.message, vector.seq)
    assert frame.hex(" ") == vector.data.hex(" ")


@pytest.mark.parametrize("vector", STREAMS, ids=lambda v: v.name)
def test_stream_vector_yields_exactly_the_expected_frames(vector) -> None:
    decoder = StreamDecoder()
    assert decoder.feed(vector.data) == vector.expect
    assert {k: getattr(decoder.stats, k) for k in COUNTERS} == {
        k: vector.stats[k] for k in COUNTERS
    }
    assert decoder.pending == 0


@pytest.mark.parametrize("vector", STREAMS, ids=lambda v: v.name)
def test_stream_vector_decodes_the_same_byte_by_byte(vector) -> None:
    decoder = StreamDecoder()
    got = []
    for i in range(len(vector.data)):
        got += decoder.feed(vector.data[i : i + 1])
    assert got == vector.expect
    assert decoder.stats.bytes_skipped == vector.stats["bytes_skipped"]


def _naive_receiver_frames(data: bytes) -> int:
    """Frames found by a receiver that skips a whole claimed frame after a bad CRC."""
    found, i = 0, 0
    while (j := data.find(SOF, i)) >= 0 and j + OVERHEAD <= len(data):
        n = data[j + 1]
        end = j + OVERHEAD + n
        if n > MAX_PAYLOAD:
            i = j + 1
        elif end > len(data):
            break
        else:
            found += crc16(data[j + 1 : end]) == 0
            i = end
    return found


def test_a_resync_vector_defeats_a_receiver_that_skips_bad_frames() -> None:
    """Keeps the vectors honest: at least one of them loses good frames in a receiver that
    skips LEN bytes after a bad CRC, so passing it proves the rescan of section 4."""
    assert any(
        _naive_receiver_frames(v.data) < len(v.expect)
        for v in STREAMS
        if v.name.startswith("resync")
    )


def test_crc_check_value_is_0x29b1() -> None:
    assert crc16(b"123456789") == 0x29B1


def _crc_by_the_definition(data: bytes) -> int:
    """CRC-16/IBM-3740 straight from its parameters (section 3.2), one bit at a time."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


@pytest.mark.parametrize(
    "data", [b"", b"\x00", b"123456789", bytes(range(256)), b"\xa5" * 7, b"\xff" * 200]
)
def test_crc_matches_its_published_parameters(data: bytes) -> None:
    assert crc16(data) == _crc_by_the_definition(data)


def test_worked_crc_example_in_the_document_is_right() -> None:
    example = crc_example()
    covered = bytes.fromhex(example["covered"])
    sent = bytes.fromhex(example["sent"])
    assert crc16(covered) == int(example["crc"], 16)
    assert sent == crc16(covered).to_bytes(2, "big")
    assert crc16(covered + sent) == 0
    (vector,) = [v for v in SINGLE if v.name == example["crc-example"]]
    assert bytes.fromhex(example["frame"]) == vector.data == bytes((SOF,)) + covered + sent


def test_every_good_frame_has_crc_residue_zero() -> None:
    for vector in SINGLE:
        assert crc16(vector.data[1:]) == 0, vector.name


def test_message_type_table_matches_the_codec() -> None:
    rows = table_after(r"^### 7\.1 ")
    documented = {int(r[0], 16): (r[1], int(r[3])) for r in rows}
    assert documented == {t.value: (t.name, payload_size(t)) for t in MsgType}


def test_payload_field_tables_match_the_message_classes() -> None:
    layouts = payload_layouts()
    assert set(layouts) == {t.value for t in MsgType}
    for cls in MESSAGE_CLASSES:
        layout = layouts[type_of(cls)]
        assert layout.type_name == type_of(cls).name
        assert layout.names == cls._fields, layout.type_name
        assert layout.struct.size == payload_size(type_of(cls)), layout.type_name
        offsets, at = [], 0
        for offset, _, wire in layout.fields:
            offsets.append((offset, at))
            at += {"u8": 1, "u16": 2, "u32": 4, "i16": 2, "i32": 4, "char[16]": 16}[wire]
        assert all(doc == real for doc, real in offsets), f"{layout.type_name}: {offsets}"
        assert at == payload_size(type_of(cls)), layout.type_name


def test_nak_code_table_matches_the_codec_reasons() -> None:
    rows = table_after(r"^### 7\.4 ")
    assert {int(r[0]): (r[1], r[2]) for r in rows} == {c.value: (c.name, c.reason) for c in NakCode}
