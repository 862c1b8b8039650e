"""pyserial URL handler for ``sim://``: ``serial.serial_for_url("sim://?seed=1")``.

pyserial finds this module as ``<package>.protocol_sim`` once "smpctl.sim" is in
``serial.protocol_handler_packages`` (importing smpctl.sim puts it there). Structure after
pyserial's own ``protocol_loop``. The port behaves like a USB serial device: a pulled cable
makes reads and writes raise SerialException, and the port cannot be opened until the
pen is plugged in again.

``realtime=0`` gives a port on virtual time: write() delivers at once, read() moves the
pen's clock in 1 ms steps until the bytes asked for arrive or the timeout (in virtual
seconds) has passed, so a test runs as fast as the CPU allows and the same every time.
"""

from __future__ import annotations

import threading
from typing import Any

from serial import PortNotOpenError, SerialBase, SerialException

from smpctl.errors import SimulatorError

from .bus import BUS, DEVICE_GONE, PenSlot
from .clock import Clock
from .pen import SimulatedPen
from .url import parse_sim_url

VIRTUAL_STEP_S = 0.001
VIRTUAL_BLOCK_LIMIT_S = 10.0
"""A read without timeout on virtual time gives up after this much virtual time: there is
no other thread that could ever make the missing bytes arrive."""


class Serial(SerialBase):  # type: ignore[misc]  # pyserial ships no type hints
    """A port to a simulated pen on the simulated USB bus."""

    is_open: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._slot: PenSlot | None = None
        self._epoch = -1
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ open / close

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        try:
            url = parse_sim_url(str(self._port))
        except SimulatorError as exc:
            raise SerialException(str(exc)) from None
        slot = BUS.attach(url.name, url.options, url.realtime, self)
        self._slot = slot
        self._epoch = slot.holder_epoch
        self.is_open = True

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            BUS.detach(self)
        super().close()

    def _reconfigure_port(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to set: the pen's line rate comes from the URL's baud option."""

    def from_url(self, url: str) -> str:
        parse_sim_url(url)
        return url

    # ------------------------------------------------------------------ the pen

    def _open_slot(self) -> PenSlot:
        if not self.is_open or self._slot is None:
            raise PortNotOpenError()
        return self._slot

    @property
    def pen(self) -> SimulatedPen:
        """The simulated pen behind this port (world controls, ground truth)."""
        return self._open_slot().pen

    @property
    def pen_lock(self) -> threading.Lock:
        """Hold this while touching ``pen`` of a real-time port: its thread runs the pen."""
        return self._open_slot().pen_lock

    @property
    def clock(self) -> Clock:
        slot = self._open_slot()
        return slot.virtual_clock if slot.virtual_clock is not None else slot.pen.clock

    def _check_link(self, slot: PenSlot) -> None:
        pen = slot.pen
        if pen.link_epoch != self._epoch or not pen.link_up:
            raise SerialException(DEVICE_GONE)

    # ------------------------------------------------------------------ I/O

    @property
    def in_waiting(self) -> int:
        slot = self._open_slot()
        with slot.pen_lock:
            waiting = slot.pen.output_waiting
            if not waiting:
                self._check_link(slot)
            return waiting

    def read(self, size: int = 1) -> bytes:
        slot = self._open_slot()
        if size <= 0:
            return b""
        if slot.runner is not None:
            data = slot.runner.read(size, self._timeout, self._epoch)
            if not data:
                self._check_link(slot)
            return data
        return self._read_virtual(slot, size)

    def _read_virtual(self, slot: PenSlot, size: int) -> bytes:
        clock = slot.virtual_clock
        assert clock is not None
        pen = slot.pen
        timeout = VIRTUAL_BLOCK_LIMIT_S if self._timeout is None else float(self._timeout)
        data = bytearray()
        with slot.lock:
            deadline = clock.now_us + round(timeout * 1_000_000)
            pen.advance(clock.now())
            while True:
                data += pen.take_output(size - len(data))
                if len(data) >= size or clock.now_us >= deadline:
                    break
                if pen.link_epoch != self._epoch or not pen.link_up:
                    if data:
                        break
                    raise SerialException(DEVICE_GONE)
                clock.advance(min(VIRTUAL_STEP_S, (deadline - clock.now_us) / 1_000_000))
                pen.advance(clock.now())
        return bytes(data)

    def write(self, data: Any) -> int:
        slot = self._open_slot()
        payload = bytes(data)
        if slot.runner is not None:
            self._check_link(slot)
            slot.runner.write(payload)
        else:
            with slot.lock:
                self._check_link(slot)
                slot.pen.receive(payload)
        return len(payload)

    def reset_input_buffer(self) -> None:
        slot = self._open_slot()
        with slot.pen_lock:
            slot.pen.take_output()

    def reset_output_buffer(self) -> None:
        """Writes are delivered at once: nothing is ever waiting to go out."""
        self._open_slot()

    @property
    def out_waiting(self) -> int:
        self._open_slot()
        return 0

    def flush(self) -> None:
        """Writes are delivered at once: there is never anything to wait for."""

    # ------------------------------------------------------------------ modem lines

    def _update_break_state(self) -> None:
        pass

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    @property
    def cts(self) -> bool:
        self._open_slot()
        return True

    @property
    def dsr(self) -> bool:
        self._open_slot()
        return True

    @property
    def ri(self) -> bool:
        self._open_slot()
        return False

    @property
    def cd(self) -> bool:
        self._open_slot()
        return True
