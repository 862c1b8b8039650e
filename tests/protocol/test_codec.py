"""Encoding and decoding single messages: every message round-trips, bad fields are refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smpctl.protocol import (
    MAX_PAYLOAD,
    OVERHEAD,
    SOF,
    EncodeError,
    HelloReply,
    Message,
    MsgType,
    Nak,
    SetSpeed,
    StreamDecoder,
    Telemetry,
    Unknown,
    decode_payload,
    encode,
    payload_size,
    type_of,
)

from .protocol_doc import payload_layouts
from .wire import INT_RANGES, MESSAGE_CLASSES, message_strategy, wire_fields, zero_message

STRICT = settings(derandomize=True, deadline=None, max_examples=60)


def _documented_payload(msg: Message) -> bytes:
    """The payload exactly as docs/protocol.md section 10 lays it out."""
    values = [v.encode("ascii") if isinstance(v, str) else v for v in msg]
    return payload_layouts()[type_of(type(msg))].struct.pack(*values)


def test_every_message_type_has_exactly_one_class() -> None:
    assert sorted(type_of(c) for c in MESSAGE_CLASSES) == sorted(MsgType)


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=lambda c: c.__name__)
@STRICT
@given(data=st.data())
def test_every_message_round_trips_through_a_frame(cls: type, data: st.DataObject) -> None:
    msg = data.draw(message_strategy(cls))
    seq = data.draw(st.integers(0, 255))
    frame = encode(msg, seq)
    assert frame[0] == SOF
    assert frame[1] == payload_size(type_of(cls)) == len(frame) - OVERHEAD
    assert frame[2] == seq
    assert frame[3] == type_of(cls)
    assert frame[4:-2] == _documented_payload(msg)
    decoder = StreamDecoder()
    assert decoder.feed(frame) == [(seq, msg)]
    assert decode_payload(type_of(cls), frame[4:-2]) == msg


@STRICT
@given(msg=message_strategy(HelloReply))
def test_hello_reply_texts_are_nul_padded_ascii(msg: HelloReply) -> None:
    frame = encode(msg, 0)
    assert frame[6:22] == msg.model.encode("ascii").ljust(16, b"\0")
    assert frame[25:41] == msg.serial.encode("ascii").ljust(16, b"\0")


def test_hello_reply_text_of_exactly_16_characters_has_no_terminator() -> None:
    msg = zero_message(HelloReply)._replace(model="M" * 16, serial="S" * 16)
    assert StreamDecoder().feed(encode(msg, 9)) == [(9, msg)]


def test_sequence_number_is_taken_modulo_256() -> None:
    assert encode(SetSpeed(100), 256) == encode(SetSpeed(100), 0)
    assert encode(SetSpeed(100), 257)[2] == 1


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=lambda c: c.__name__)
def test_longer_payload_decodes_and_ignores_the_tail(cls: type) -> None:
    """Forward compatibility: a later minor version appends fields."""
    msg = zero_message(cls)
    payload = encode(msg, 0)[4:-2]
    assert decode_payload(type_of(cls), payload + b"\x01\x02\xa5") == msg


@pytest.mark.parametrize(
    "cls", [c for c in MESSAGE_CLASSES if wire_fields(c)], ids=lambda c: c.__name__
)
def test_shorter_payload_decodes_as_unknown(cls: type) -> None:
    code = type_of(cls)
    payload = encode(zero_message(cls), 0)[4:-3]
    assert decode_payload(code, payload) == Unknown(code, payload)


def test_unknown_type_decodes_as_unknown() -> None:
    assert decode_payload(0x7E, b"\x01\x02") == Unknown(0x7E, b"\x01\x02")


def _out_of_range_cases() -> list[tuple[type, str, int]]:
    cases = []
    for cls in MESSAGE_CLASSES:
        for _, name, wire in wire_fields(cls):
            if wire in INT_RANGES:
                lo, hi = INT_RANGES[wire]
                cases += [(cls, name, lo - 1), (cls, name, hi + 1)]
    return cases


@pytest.mark.parametrize(
    ("cls", "name", "value"),
    _out_of_range_cases(),
    ids=lambda x: x.__name__ if isinstance(x, type) else str(x),
)
def test_encode_refuses_a_field_outside_its_wire_type(cls: type, name: str, value: int) -> None:
    msg = zero_message(cls)._replace(**{name: value})  # type: ignore[union-attr]
    with pytest.raises(EncodeError):
        encode(msg, 0)


@pytest.mark.parametrize(
    "text", ["x" * 17, "Pen ü", "SIM\x00123"], ids=["too long", "not ascii", "nul"]
)
@pytest.mark.parametrize("field", ["model", "serial"])
def test_encode_refuses_hello_reply_text_that_cannot_travel(text: str, field: str) -> None:
    msg = zero_message(HelloReply)._replace(**{field: text})
    with pytest.raises(EncodeError):
        encode(msg, 0)


def test_encode_refuses_non_integer_fields_and_non_messages() -> None:
    with pytest.raises(EncodeError):
        encode(SetSpeed(110.5), 0)  # type: ignore[arg-type]
    with pytest.raises(EncodeError):
        encode((1, 2), 0)  # type: ignore[arg-type]
    with pytest.raises(EncodeError):
        encode(Unknown(0x40, b""), 0)


def test_encode_error_is_a_value_error() -> None:
    assert issubclass(EncodeError, ValueError)


def test_every_payload_fits_the_maximum() -> None:
    assert all(payload_size(t) <= MAX_PAYLOAD for t in MsgType)
    assert payload_size(MsgType.TELEMETRY) == 28


def test_telemetry_units_read_as_physical_values() -> None:
    t = Telemetry(0, 0, 11050, 11000, 1250, 12030, -512, 0, 1100, 87, 0x09, 0x0002)
    assert (t.speed_hz, t.setpoint_hz, t.current_a, t.voltage_v) == (110.5, 110.0, 1.25, 12.03)
    assert (t.temp_c, t.depth_mm) == (-5.12, 1.1)
    assert t.pedal_down and t.motor_on


def test_nak_reason_reads_for_known_and_unknown_codes() -> None:
    assert Nak(1, MsgType.RUN, 4).reason == "the pen is not armed: arm it before running"
    assert Nak(1, MsgType.RUN, 200).reason == "unknown error code 200"
