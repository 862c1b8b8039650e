"""What a pen client tells its subscribers besides the pen's own events."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from smpctl.protocol import Event


class LinkState(Enum):
    CONNECTED = "connected"
    LOST = "lost"
    CLOSED = "closed"


class LinkEventKind(Enum):
    LOST = "lost"
    """The link went away; the pen stops on its own watchdog."""
    RECONNECTED = "reconnected"
    """The same pen is back, stopped and disarmed."""
    WRONG_PEN = "wrong_pen"
    """Another pen answered on the port; it is refused."""
    CLOSED = "closed"


@dataclass(frozen=True)
class LinkEvent:
    kind: LinkEventKind
    message: str
    host_t: float
    serial: str | None = None


@dataclass(frozen=True)
class HostEvent:
    """Something the host did that belongs in the record (a profile applied, a setpoint
    refused), posted by upper layers through ``Pen.post`` so that every subscriber -- the
    journal above all -- sees it in order with the pen's own events."""

    kind: str
    message: str
    host_t: float
    data: dict[str, Any] = field(default_factory=dict)


Notice = Event | LinkEvent | HostEvent
"""Everything a subscriber receives: the pen's events, the link's and the host's."""
