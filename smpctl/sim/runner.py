"""Runs a simulated pen in real time, in its own thread.

The pen is advanced against the monotonic clock every millisecond, and at once when host
bytes arrive, so a STOP reaches the motor command within a millisecond or two, as on the
real pen. Output leaves at the line rate because the pen's own UART model paces it: bytes
become readable only as fast as the line would carry them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .clock import MonotonicClock
from .options import PenOptions
from .pen import SimulatedPen

TICK_S = 0.001
MAX_LAG_S = 0.05
"""Further behind than this (machine suspended, debugger) the runner jumps ahead rather
than replaying the backlog in a burst."""


class RealtimeRunner:
    """One pen driven by one thread. Every access to the pen goes through ``lock``.

    With ``on_output`` the runner pushes output bytes to it (a pty or a socket) from its
    thread; without, they stay in the pen for ``read``, which blocks as a port read would.
    """

    def __init__(
        self,
        pen: SimulatedPen,
        *,
        on_output: Callable[[bytes], None] | None = None,
        tick_s: float = TICK_S,
    ) -> None:
        self.pen = pen
        self.clock = pen.clock
        self.lock = threading.Lock()
        self._readable = threading.Condition(self.lock)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._on_output = on_output
        self._tick_s = tick_s
        self._thread = threading.Thread(
            target=self._run, name=f"sim-pen-{pen.options.serial_number}", daemon=True
        )

    @classmethod
    def create(
        cls, options: PenOptions, *, on_output: Callable[[bytes], None] | None = None
    ) -> RealtimeRunner:
        return cls(SimulatedPen(options, MonotonicClock()), on_output=on_output)

    # ------------------------------------------------------------------ thread

    def start(self) -> RealtimeRunner:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        with self._readable:
            self._readable.notify_all()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stopping.is_set()

    def _run(self) -> None:
        pen = self.pen
        now = self.clock.now
        next_tick = now()
        wake = self._wake
        while not self._stopping.is_set():
            data = b""
            with self._readable:
                pen.advance(now())
                if self._on_output is not None:
                    data = pen.take_output() if pen.output_waiting else b""
                elif pen.output_waiting or not pen.link_up:
                    self._readable.notify_all()
            if data:
                assert self._on_output is not None
                self._on_output(data)
            next_tick += self._tick_s
            delay = next_tick - now()
            if delay < -MAX_LAG_S:
                next_tick = now()
            if delay > 0.0:
                wake.wait(delay)
            wake.clear()

    # ------------------------------------------------------------------ host side

    def write(self, data: bytes) -> None:
        """Host bytes arrive now: commands execute before this returns."""
        with self.lock:
            self.pen.advance(self.clock.now())
            self.pen.receive(data)
        self._wake.set()

    def read(self, size: int, timeout: float | None, link_epoch: int | None = None) -> bytes:
        """Up to ``size`` bytes, waiting at most ``timeout`` seconds (None: until ``size``).

        Returns early with what it has if the link drops (``link_epoch`` no longer current)
        or the runner stops; the caller decides what a dead link means.
        """
        data = bytearray()
        deadline = None if timeout is None else self.clock.now() + timeout
        pen = self.pen
        with self._readable:
            while True:
                if pen.output_waiting:
                    data += pen.take_output(size - len(data))
                if len(data) >= size or self._stopping.is_set():
                    break
                if link_epoch is not None and (pen.link_epoch != link_epoch or not pen.link_up):
                    break
                if deadline is None:
                    self._readable.wait(0.1)
                else:
                    left = deadline - self.clock.now()
                    if left <= 0.0:
                        break
                    self._readable.wait(left)
        return bytes(data)

    @property
    def in_waiting(self) -> int:
        with self.lock:
            return self.pen.output_waiting

    def discard_output(self) -> None:
        with self.lock:
            self.pen.take_output()
