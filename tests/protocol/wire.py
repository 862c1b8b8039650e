"""Building blocks for protocol tests: every message class, valid random messages, raw frames.

Field ranges come from the wire types in docs/protocol.md section 10, so generated messages
are exactly the ones the protocol can carry.
"""

from __future__ import annotations

import random
import typing

from hypothesis import strategies as st

import smpctl.protocol as protocol
from smpctl.protocol import SOF, Message, Unknown, crc16, type_of

from .protocol_doc import payload_layouts

MESSAGE_CLASSES: list[type] = [c for c in typing.get_args(Message) if c is not Unknown]

INT_RANGES = {
    "u8": (0, 0xFF),
    "u16": (0, 0xFFFF),
    "u32": (0, 0xFFFF_FFFF),
    "i16": (-0x8000, 0x7FFF),
    "i32": (-0x8000_0000, 0x7FFF_FFFF),
}
TEXT_SIZE = 16
# char[16]: ASCII without NUL (NUL is the padding)
TEXT_ALPHABET = "".join(chr(c) for c in range(1, 128))


def wire_fields(cls: type) -> tuple[tuple[int, str, str], ...]:
    """(offset, name, wire type) of each payload field of ``cls``, per the document."""
    return payload_layouts()[type_of(cls)].fields


def message_strategy(cls: type) -> st.SearchStrategy[Message]:
    parts: dict[str, st.SearchStrategy[typing.Any]] = {}
    for _, name, wire in wire_fields(cls):
        if wire in INT_RANGES:
            lo, hi = INT_RANGES[wire]
            parts[name] = st.integers(lo, hi)
        else:
            parts[name] = st.text(alphabet=TEXT_ALPHABET, max_size=TEXT_SIZE)
    return st.builds(cls, **parts)


def random_message(rng: random.Random, cls: type) -> Message:
    values: list[typing.Any] = []
    for _, _, wire in wire_fields(cls):
        if wire in INT_RANGES:
            lo, hi = INT_RANGES[wire]
            values.append(rng.randint(lo, hi))
        else:
            size = rng.randint(0, TEXT_SIZE)
            values.append("".join(rng.choice(TEXT_ALPHABET) for _ in range(size)))
    msg: Message = cls(*values)
    return msg


def zero_message(cls: type) -> Message:
    """The message with every number 0 and every text empty."""
    values = [0 if wire in INT_RANGES else "" for _, _, wire in wire_fields(cls)]
    msg: Message = cls(*values)
    return msg


def raw_frame(seq: int, msg_type: int, payload: bytes, *, length: int | None = None) -> bytes:
    """A frame with a correct CRC built by hand, for what ``encode`` refuses to make:
    unknown types, short or long payloads, a LEN that lies."""
    n = len(payload) if length is None else length
    body = bytes((n, seq, msg_type)) + payload
    crc = crc16(body)
    return bytes((SOF,)) + body + bytes((crc >> 8, crc & 0xFF))


def all_exported_message_classes() -> set[type]:
    """Every class smpctl.protocol exports that is a message (a NamedTuple)."""
    return {
        obj
        for name in protocol.__all__
        if isinstance(obj := getattr(protocol, name), type) and hasattr(obj, "_fields")
    }
