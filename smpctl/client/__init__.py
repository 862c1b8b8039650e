"""The device client: everything above it talks to a pen through ``connect``."""

from __future__ import annotations

import time

from smpctl.link import Link, open_link

from .identity import PenIdentity, PenLimits
from .notices import HostEvent, LinkEvent, LinkEventKind, LinkState, Notice
from .pen import Clock, Opener, Pen, handshake
from .ring import Ring, RingRead
from .stats import LinkStats

__all__ = [
    "HostEvent",
    "LinkEvent",
    "LinkEventKind",
    "LinkState",
    "LinkStats",
    "Notice",
    "Pen",
    "PenIdentity",
    "PenLimits",
    "Ring",
    "RingRead",
    "connect",
    "connect_with",
    "handshake",
]


def connect(
    url: str,
    *,
    baudrate: int = 115200,
    clock: Clock = time.monotonic,
    auto_reconnect: bool = True,
    lease_s: float = 1.0,
    ring_capacity: int = 16384,
) -> Pen:
    """Open ``url`` (device path, COM port, pty path or pyserial URL incl. ``sim://``),
    handshake, check protocol compatibility and return the connected pen.

    The pen keeps receiving heartbeats for ``lease_s`` after each ``Pen.alive()`` call.
    """

    def opener() -> Link:
        return open_link(url, baudrate=baudrate)

    return connect_with(
        opener,
        clock=clock,
        auto_reconnect=auto_reconnect,
        lease_s=lease_s,
        ring_capacity=ring_capacity,
    )


def connect_with(
    opener: Opener,
    *,
    clock: Clock = time.monotonic,
    auto_reconnect: bool = True,
    lease_s: float = 1.0,
    ring_capacity: int = 16384,
) -> Pen:
    """Like ``connect``, over links made by ``opener`` (called again to reconnect)."""
    link = opener()
    try:
        identity, next_seq = handshake(link, clock)
    except BaseException:
        link.close()
        raise
    return Pen(
        link,
        identity,
        opener=opener,
        clock=clock,
        next_seq=next_seq,
        lease_s=lease_s,
        auto_reconnect=auto_reconnect,
        ring_capacity=ring_capacity,
    )
