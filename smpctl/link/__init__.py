"""Links: bytes in, bytes out, close. The client runs over any of them without knowing which."""

from .base import Link
from .serial_link import SerialLink, available_ports, open_link

__all__ = ["Link", "SerialLink", "available_ports", "open_link"]
