"""STOP on its own thread, so it never waits for the UI loop.

The dashboard's space binding runs on Textual's event loop, behind whatever the loop is
drawing (a plot takes tens of ms). The terminal driver's input thread therefore triggers
this sender directly as soon as it decodes a space, and the binding triggers it again as a
fallback (test drivers have no input thread). Triggers that arrive while a stop is being
sent coalesce into one more stop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from smpctl.client import Pen
from smpctl.errors import SmpctlError


class StopSender:
    def __init__(
        self,
        pen: Callable[[], Pen | None],
        on_error: Callable[[str], None],
        clock: Callable[[], float],
    ) -> None:
        self._pen = pen
        self._on_error = on_error
        self._clock = clock
        self._wanted = threading.Event()
        self._closing = False
        self.last_written_at: float | None = None
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="smpctl-stop", daemon=True)
        self._thread.start()

    def trigger(self) -> None:
        """Safe from any thread; returns at once."""
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._closing:
                return
            self._wanted.clear()
            pen = self._pen()
            if pen is None:
                continue
            try:
                pen.stop()  # the motor first ...
                self.last_written_at = self._clock()
                self.sent += 1
                pen.disarm()  # ... then no needle until an explicit re-arm
            except SmpctlError as exc:
                self._on_error(f"STOP not confirmed: {exc}")

    def close(self) -> None:
        self._closing = True
        self._wanted.set()
        self._thread.join(timeout=1.0)
