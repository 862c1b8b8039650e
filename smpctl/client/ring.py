"""A bounded, thread-safe telemetry ring that never blocks its writer.

The reader thread appends; any number of consumers read the latest N or everything since
their cursor. A consumer that falls behind is told how many samples it missed instead of
slowing the reader (which would back up the serial port and hide the pen's state).
"""

from __future__ import annotations

import threading
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class RingRead(NamedTuple, Generic[T]):
    items: list[T]
    cursor: int
    """Pass back to ``since`` next time."""
    missed: int
    """Items overwritten before this consumer read them."""


class Ring(Generic[T]):
    __slots__ = ("_buf", "_capacity", "_lock", "_written")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._buf: list[T | None] = [None] * capacity
        self._written = 0
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def cursor(self) -> int:
        """Total items ever written: a consumer starting now passes this to ``since``."""
        return self._written

    def append(self, item: T) -> None:
        with self._lock:
            self._buf[self._written % self._capacity] = item
            self._written += 1

    def extend(self, items: list[T]) -> None:
        n = len(items)
        if not n:
            return
        with self._lock:
            cap = self._capacity
            w = self._written
            if n > cap:  # only the newest `cap` can be kept; the rest count as missed
                w += n - cap
                items = items[n - cap :]
            buf = self._buf
            for item in items:
                buf[w % cap] = item
                w += 1
            self._written = w

    def latest(self, n: int) -> list[T]:
        with self._lock:
            w = self._written
            n = min(n, w, self._capacity)
            return [self._buf[i % self._capacity] for i in range(w - n, w)]  # type: ignore[misc]

    def since(self, cursor: int) -> RingRead[T]:
        with self._lock:
            w = self._written
            oldest = max(0, w - self._capacity)
            missed = max(0, oldest - cursor)
            start = max(cursor, oldest)
            cap = self._capacity
            items = [self._buf[i % cap] for i in range(start, w)]
        return RingRead(items, w, missed)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return min(self._written, self._capacity)
