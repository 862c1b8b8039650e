"""What a pen client tells its subscribers besides the pen's own events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

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


Notice = Event | LinkEvent
"""Everything a subscriber receives: the pen's events and the link's."""
