"""The simulated pen: the pen's hardware and firmware as a deterministic model.

It behaves like the firmware described in docs/protocol.md, not like a canned responder,
and is reachable the three ways a real pen is: as a port URL (``sim://``, registered with
pyserial on import), on a pseudo-terminal and on a TCP port (``smpctl sim``).

Layering: this package shares only ``smpctl.protocol`` (and ``smpctl.errors``) with the
rest of smpctl, exactly as a real pen shares only the wire protocol with its host.
"""

from __future__ import annotations

import serial

from .bus import BUS, PenSlot, SimBus, plug, replace_pen, unplug
from .clock import Clock, MonotonicClock, VirtualClock
from .firmware import BootCause
from .options import HAND_AUTO, PedalMode, PenOptions
from .pen import GroundTruth, SimulatedPen
from .runner import RealtimeRunner
from .serve import PtyServer, TcpServer, serve_pty, serve_tcp
from .url import SimUrl, parse_sim_url

if __name__ not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append(__name__)

__all__ = [
    "BUS",
    "HAND_AUTO",
    "BootCause",
    "Clock",
    "GroundTruth",
    "MonotonicClock",
    "PedalMode",
    "PenOptions",
    "PenSlot",
    "PtyServer",
    "RealtimeRunner",
    "SimBus",
    "SimUrl",
    "SimulatedPen",
    "TcpServer",
    "VirtualClock",
    "parse_sim_url",
    "plug",
    "replace_pen",
    "serve_pty",
    "serve_tcp",
    "unplug",
]
