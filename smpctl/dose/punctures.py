"""Punctures: every stroke that meets the skin makes one puncture per needle.

A cartridge's kind fixes its needle count, so a count entered with the kind is checked
against it: a 36-pin dose written down as 1RL would be 36 times too small.
"""

from __future__ import annotations

from enum import StrEnum

from smpctl.errors import NeedleCountMismatchError, UnknownCartridgeKindError


class CartridgeKind(StrEnum):
    """A needle cartridge; the value is the code written in records."""

    RL1 = "1RL"
    RL3 = "3RL"
    PIN9 = "9-pin"
    PIN12 = "12-pin"
    PIN16 = "16-pin"
    PIN24 = "24-pin"
    PIN36 = "36-pin"
    PIN42 = "42-pin"
    NANO = "nano"

    @property
    def needles(self) -> int:
        return NEEDLES[self]

    @property
    def microneedling(self) -> bool:
        return self not in (CartridgeKind.RL1, CartridgeKind.RL3)

    @classmethod
    def parse(cls, text: str) -> CartridgeKind:
        """``1RL``, ``3rl``, ``36-pin``, ``36pin``, ``36`` or ``nano``."""
        code = text.strip().lower().replace(" ", "")
        if code.isdigit():
            code += "-pin"
        elif code.endswith("pin") and not code.endswith("-pin"):
            code = code[:-3] + "-pin"
        for kind in cls:
            if kind.value.lower() == code:
                return kind
        raise UnknownCartridgeKindError(text, [k.value for k in cls])


NANO_NEEDLES = 49
"""A "nano" cartridge is a silicon chip of micro-cones, not separate needles; makers vary.
We count it as the common 7 × 7 chip, so its doses compare with each other: a convention,
stated wherever nano doses are shown, not a measurement."""

NEEDLES: dict[CartridgeKind, int] = {
    CartridgeKind.RL1: 1,
    CartridgeKind.RL3: 3,
    CartridgeKind.PIN9: 9,
    CartridgeKind.PIN12: 12,
    CartridgeKind.PIN16: 16,
    CartridgeKind.PIN24: 24,
    CartridgeKind.PIN36: 36,
    CartridgeKind.PIN42: 42,
    CartridgeKind.NANO: NANO_NEEDLES,
}


def needle_count(kind: CartridgeKind | str, given: int | None = None) -> int:
    """The needles of a cartridge of ``kind``; ``given`` (as entered from the box) must
    agree with the kind."""
    cartridge = kind if isinstance(kind, CartridgeKind) else CartridgeKind.parse(kind)
    expected = cartridge.needles
    if given is not None and given != expected:
        raise NeedleCountMismatchError(cartridge.value, given, expected)
    return expected


def punctures(in_skin_strokes: int, kind: CartridgeKind | str) -> int:
    """Punctures made by ``in_skin_strokes`` strokes of a cartridge of ``kind``."""
    if in_skin_strokes < 0:
        raise ValueError(f"in-skin strokes cannot be negative ({in_skin_strokes})")
    return in_skin_strokes * needle_count(kind)
