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
        self._idle = threading.Event()
        self._idle.set()
        self._closing = False
        self.last_triggered_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="smpctl-stop", daemon=True)
        self._thread.start()

    def trigger(self, *, write_now: bool = False) -> None:
        """Safe from any thread; returns at once. ``write_now`` (the input thread) also
        writes the STOP frame from the calling thread, so not even a thread switch stands
        between the key and the wire; the stop thread then confirms it and disarms."""
        self.last_triggered_at = self._clock()
        self._idle.clear()
        if write_now:
            pen = self._pen()
            if pen is not None:
                pen.stop_now()
        self._wanted.set()

    def triggered_within(self, seconds: float) -> bool:
        """The same key press's STOP already left from the input thread: the binding that
        follows must not send a second STOP + DISARM after the practitioner re-armed."""
        at = self.last_triggered_at
        return at is not None and self._clock() - at <= seconds

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
                pen.disarm()  # ... then no needle until an explicit re-arm
            except SmpctlError as exc:
                self._on_error(
                    f"STOP not confirmed ({exc}). Lift the pen off the skin and release the "
                    "pedal: the pen stops on pedal release, and by itself if the link is gone"
                )
            if not self._wanted.is_set():
                self._idle.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every STOP asked for has been sent and the pen disarmed: an ARM must
        come after the DISARM of the stop before it, never be overtaken by it."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._closing = True
        self._wanted.set()
        self._thread.join(timeout=1.0)
