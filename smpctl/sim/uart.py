"""The pen's transmit path: a 512-byte buffer emptied by the UART at the line rate.

Replies and events go ahead of telemetry and are never dropped; a telemetry frame that
does not fit in the buffer is dropped whole (the host sees a sample_seq gap), as the
firmware does rather than block its control loop.
"""

from __future__ import annotations

import random
from collections import deque

TX_BUFFER_BYTES = 512


class TransmitQueue:
    __slots__ = (
        "_corrupt_from",
        "_corrupt_to",
        "_credit",
        "_current",
        "_pos",
        "_priority",
        "_rng",
        "_telemetry",
        "bytes_per_s",
        "capacity",
        "line",
        "queued",
        "sent_total",
    )

    def __init__(self, bytes_per_s: int, rng: random.Random, capacity: int = TX_BUFFER_BYTES):
        self.bytes_per_s = bytes_per_s
        self.capacity = capacity
        self._rng = rng
        self._priority: deque[bytes] = deque()
        self._telemetry: deque[bytes] = deque()
        self._current = b""
        self._pos = 0
        self._credit = 0
        self._corrupt_from = 0
        self._corrupt_to = 0
        self.queued = 0
        """Bytes in the buffer not yet on the line (including the rest of the frame being sent)."""
        self.line = bytearray()
        """Bytes that have crossed the line and wait in the host's receive buffer."""
        self.sent_total = 0

    def fits(self, size: int) -> bool:
        return self.queued + size <= self.capacity

    def offer_telemetry(self, frame: bytes) -> None:
        self._telemetry.append(frame)
        self.queued += len(frame)

    def push_priority(self, frame: bytes) -> int:
        """Queue a reply or event ahead of telemetry; returns the value ``sent_total`` will
        reach once it has left, so the pen can act after a reply is out (reboot, link drop)."""
        self._priority.append(frame)
        self.queued += len(frame)
        return self.sent_total + (len(self._current) - self._pos) + sum(map(len, self._priority))

    def corrupt(self, count: int, starting_at: int) -> None:
        """Flip one bit in each of ``count`` bytes, from byte number ``starting_at`` of the
        stream (a ``sent_total`` value), so a reply already queued can be left intact."""
        self._corrupt_from = max(starting_at, self.sent_total)
        self._corrupt_to = self._corrupt_from + count

    def drain(self, dt_us: int) -> None:
        """Carry ``dt_us`` microseconds worth of bytes onto the line."""
        if not self.queued:
            self._credit = 0
            return
        self._credit += dt_us * self.bytes_per_s
        budget = self._credit // 1_000_000
        if not budget:
            return
        self._credit -= budget * 1_000_000
        out = bytearray()
        while budget and self.queued:
            current = self._current
            if self._pos >= len(current):
                current = self._priority.popleft() if self._priority else self._telemetry.popleft()
                self._current = current
                self._pos = 0
            take = min(budget, len(current) - self._pos)
            out += current[self._pos : self._pos + take]
            self._pos += take
            budget -= take
            self.queued -= take
        if not self.queued:
            self._credit = 0
        start = self.sent_total
        if self._corrupt_to > start:
            for i in range(
                max(0, self._corrupt_from - start), min(len(out), self._corrupt_to - start)
            ):
                out[i] ^= 1 << self._rng.randrange(8)
        self.sent_total += len(out)
        self.line += out

    def take(self, max_bytes: int | None = None) -> bytes:
        line = self.line
        if max_bytes is None or max_bytes >= len(line):
            data = bytes(line)
            line.clear()
        else:
            data = bytes(line[:max_bytes])
            del line[:max_bytes]
        return data

    def clear(self) -> None:
        """Power loss: everything buffered, and everything on the wire, is gone."""
        self._priority.clear()
        self._telemetry.clear()
        self._current = b""
        self._pos = 0
        self._credit = 0
        self.queued = 0
        self.line.clear()
