"""Frame encoding and the streaming decoder.

Frame: ``SOF LEN SEQ TYPE PAYLOAD[LEN] CRC_HI CRC_LO``. The CRC is CRC-16/IBM-3740
(a.k.a. CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, xorout 0) over LEN..PAYLOAD,
sent most significant byte first, so the CRC over LEN..CRC of a good frame is 0: the decoder
checks a frame with one C call (``binascii.crc_hqx``) and no slicing of the CRC.
"""

from __future__ import annotations

import struct
from binascii import crc_hqx
from collections.abc import Callable
from typing import Any

from . import messages as m
from .codes import MAX_PAYLOAD, OVERHEAD, SOF, MsgType

__all__ = [
    "DecoderStats",
    "EncodeError",
    "StreamDecoder",
    "crc16",
    "decode_payload",
    "encode",
    "payload_size",
    "type_of",
]


class EncodeError(ValueError):
    """A message field does not fit its wire type (the host built an impossible message)."""


def crc16(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/IBM-3740 of ``data``; check value for b"123456789" is 0x29B1."""
    return crc_hqx(data, 0xFFFF)


_Decode = Callable[[tuple[Any, ...]], Any]


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("ascii", errors="replace")


def _hello_reply_from(fields: tuple[Any, ...]) -> m.HelloReply:
    f = list(fields)
    f[2] = _text(f[2])
    f[6] = _text(f[6])
    return m.HelloReply._make(f)


def _hello_reply_to(msg: m.HelloReply) -> tuple[Any, ...]:
    f: list[Any] = list(msg)
    for i in (2, 6):
        name = m.HelloReply._fields[i]
        try:
            raw = str(f[i]).encode("ascii")
        except UnicodeEncodeError:
            raise EncodeError(f"HelloReply field {name} is not ASCII: {f[i]!r}") from None
        if len(raw) > 16:
            raise EncodeError(f"HelloReply field {name} longer than 16 bytes")
        if b"\0" in raw:
            # NUL is the padding: the receiver would cut the text there.
            raise EncodeError(f"HelloReply field {name} contains NUL: {f[i]!r}")
        f[i] = raw
    return tuple(f)


# type code, message class, payload struct format (little-endian)
_SPECS: list[tuple[MsgType, type, str]] = [
    (MsgType.HELLO, m.Hello, "<BB"),
    (MsgType.HEARTBEAT, m.Heartbeat, "<H"),
    (MsgType.SET_SPEED, m.SetSpeed, "<H"),
    (MsgType.SET_STROKE, m.SetStroke, "<H"),
    (MsgType.SET_DEPTH, m.SetDepth, "<H"),
    (MsgType.SET_RUN_MODE, m.SetRunMode, "<BHHH"),
    (MsgType.ARM, m.Arm, "<"),
    (MsgType.DISARM, m.Disarm, "<"),
    (MsgType.RUN, m.Run, "<"),
    (MsgType.STOP, m.Stop, "<"),
    (MsgType.ESTOP, m.EStop, "<"),
    (MsgType.SET_TELEMETRY_RATE, m.SetTelemetryRate, "<H"),
    (MsgType.READ_PARAM, m.ReadParam, "<BB"),
    (MsgType.WRITE_PARAM, m.WriteParam, "<BBi"),
    (MsgType.REBOOT_BOOTLOADER, m.RebootBootloader, "<I"),
    (MsgType.SIM_CONTROL, m.SimControl, "<Bi"),
    (MsgType.HELLO_REPLY, m.HelloReply, "<BB16sBBB16sIHHHHHHhHHH"),
    (MsgType.ACK, m.Ack, "<BBi"),
    (MsgType.NAK, m.Nak, "<BBB"),
    (MsgType.TELEMETRY, m.Telemetry, "<IIHHHHhIHBBH"),
    (MsgType.EVENT, m.Event, "<HIBHi"),
    (MsgType.PARAM_VALUE, m.ParamValue, "<BBi"),
]

# encoder: class -> (type code, struct of the whole frame before the CRC, field adapter)
_ENCODERS: dict[type, tuple[int, struct.Struct, Callable[[Any], tuple[Any, ...]] | None]] = {}
# decoder, indexed by type code: (payload size, unpack_from, maker) or None
_DECODERS: list[tuple[int, Callable[..., tuple[Any, ...]], _Decode] | None] = [None] * 256

for _code, _cls, _fmt in _SPECS:
    _payload = struct.Struct(_fmt)
    _frame = struct.Struct("<BBBB" + _fmt[1:])
    _ENCODERS[_cls] = (
        int(_code),
        _frame,
        _hello_reply_to if _cls is m.HelloReply else None,
    )
    _maker: _Decode = _hello_reply_from if _cls is m.HelloReply else _cls._make  # type: ignore[attr-defined]
    _DECODERS[_code] = (_payload.size, _payload.unpack_from, _maker)
    assert _payload.size <= MAX_PAYLOAD


def payload_size(msg_type: MsgType) -> int:
    """Size in bytes of the payload of ``msg_type`` in this protocol version."""
    spec = _DECODERS[msg_type & 0xFF]
    if spec is None:
        raise ValueError(f"no message type 0x{msg_type:02x} in this protocol version")
    return spec[0]


def type_of(message_class: type) -> MsgType:
    """The wire type code of a message class."""
    return MsgType(_ENCODERS[message_class][0])


def encode(message: m.HostMessage | m.PenMessage, seq: int) -> bytes:
    """One complete frame carrying ``message`` with sequence number ``seq`` (mod 256)."""
    try:
        code, frame, adapt = _ENCODERS[type(message)]
    except KeyError:
        raise EncodeError(f"not a protocol message: {message!r}") from None
    fields = adapt(message) if adapt is not None else message
    try:
        head = frame.pack(SOF, frame.size - 4, seq & 0xFF, code, *fields)
    except struct.error as exc:
        raise EncodeError(f"{type(message).__name__}{tuple(message)!r}: {exc}") from None
    crc = crc_hqx(head[1:], 0xFFFF)
    return head + bytes((crc >> 8, crc & 0xFF))


def decode_payload(msg_type: int, payload: bytes) -> m.Message:
    """Decode one payload; an unknown type or short payload gives ``Unknown``."""
    spec = _DECODERS[msg_type & 0xFF]
    if spec is None or len(payload) < spec[0]:
        return m.Unknown(msg_type, bytes(payload))
    _size, unpack_from, make = spec
    result: m.Message = make(unpack_from(payload, 0))
    return result


class DecoderStats:
    """What a decoder threw away, so a link can show its health honestly."""

    __slots__ = (
        "bytes_in",
        "bytes_skipped",
        "crc_errors",
        "expired",
        "frames",
        "malformed",
        "oversize",
        "unknown_types",
    )

    def __init__(self) -> None:
        self.bytes_in = 0
        self.bytes_skipped = 0
        self.frames = 0
        self.crc_errors = 0
        self.oversize = 0
        self.unknown_types = 0
        self.malformed = 0
        self.expired = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.as_dict().items())
        return f"DecoderStats({inner})"


class StreamDecoder:
    """Turns a byte stream cut anywhere into messages; never raises on bad input.

    Resynchronisation: on a bad CRC, an oversize LEN or any other damage the decoder drops
    only the start byte it tried and searches again from the next byte, inside the bytes it
    already holds, so a good frame that follows (or hides inside) garbage is never lost.
    """

    __slots__ = ("_buf", "stats")

    def __init__(self) -> None:
        self._buf = bytearray()
        self.stats = DecoderStats()

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a possible frame."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[tuple[int, m.Message]]:
        """Add bytes; return every frame with a good CRC as ``(seq, message)``.

        Frames this version cannot read come back as ``Unknown`` (and are counted), so a
        consumer that only wants known messages ignores that one class.
        """
        buf = self._buf
        buf += data
        n = len(buf)
        st = self.stats
        st.bytes_in += len(data)
        out: list[tuple[int, m.Message]] = []
        decoders = _DECODERS
        find = buf.find
        i = 0
        skipped = 0
        while True:
            j = find(SOF, i)
            if j < 0:
                skipped += n - i
                i = n
                break
            skipped += j - i
            if n - j < OVERHEAD:
                i = j
                break
            length = buf[j + 1]
            if length > MAX_PAYLOAD:
                st.oversize += 1
                skipped += 1
                i = j + 1
                continue
            end = j + OVERHEAD + length
            if end > n:
                i = j
                break
            if crc_hqx(buf[j + 1 : end], 0xFFFF):
                st.crc_errors += 1
                skipped += 1
                i = j + 1
                continue
            spec = decoders[buf[j + 3]]
            if spec is None or length < spec[0]:
                if spec is None:
                    st.unknown_types += 1
                else:
                    st.malformed += 1
                out.append((buf[j + 2], m.Unknown(buf[j + 3], bytes(buf[j + 4 : end - 2]))))
            else:
                out.append((buf[j + 2], spec[2](spec[1](buf, j + 4))))
            i = end
        if i:
            del buf[:i]
        st.bytes_skipped += skipped
        st.frames += len(out)
        return out

    def expire(self) -> list[tuple[int, m.Message]]:
        """Abandon a partial frame after a silence of at least ``FRAME_GAP_S``.

        Senders write a frame in one go, so a frame still incomplete after a silence was a
        false start byte (line noise) whose LEN promised bytes that will never come. Without
        this, such a LEN could hold up to 200 following bytes -- a STOP among them -- until
        enough further traffic arrived. Drops the start byte, rescans what is held and
        returns the good frames found there.
        """
        out: list[tuple[int, m.Message]] = []
        buf = self._buf
        while buf:
            del buf[:1]
            self.stats.bytes_skipped += 1
            self.stats.expired += 1
            out.extend(self.feed(b""))
        return out

    def reset(self) -> None:
        """Forget partial input (after the port is reopened)."""
        self._buf.clear()
