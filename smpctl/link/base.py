"""What the client needs from a byte link, and nothing more."""

from __future__ import annotations

from typing import Protocol


class Link(Protocol):
    """A byte pipe to a pen.

    ``read`` returns b"" when nothing arrived within ``timeout`` and raises
    ``smpctl.errors.LinkLostError`` when the port has gone (cable pulled, pen reset), so the
    client can tell "quiet" from "gone".
    """

    @property
    def url(self) -> str: ...

    def read(self, max_bytes: int, timeout: float) -> bytes: ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...
