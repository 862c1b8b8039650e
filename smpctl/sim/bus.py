"""The simulated USB bus: the one piece of global state in smpctl.sim.

Like python-can's virtual bus, pens live here by name, independent of any open port, so a
pen survives a simulated cable pull and comes back (rebooted, same serial number) when
plugged in again, as a real one does. Opening ``sim://NAME`` attaches to the pen powered
on that name, or powers one on; closing the port of a plugged-in pen powers it off.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from serial import SerialException

from .clock import MonotonicClock, VirtualClock
from .options import PenOptions
from .pen import SimulatedPen
from .runner import RealtimeRunner

DEVICE_GONE = (
    "device reports readiness to read but returned no data "
    "(device disconnected or multiple access on port?)"
)


@dataclass(eq=False)
class PenSlot:
    """A pen powered on a bus name, with its clock and (in real time) its runner."""

    name: str
    pen: SimulatedPen
    runner: RealtimeRunner | None
    virtual_clock: VirtualClock | None
    holder: object | None = None
    holder_epoch: int = -1
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Guards a virtual pen (a real-time pen is guarded by its runner's lock)."""

    @property
    def realtime(self) -> bool:
        return self.runner is not None

    @property
    def pen_lock(self) -> threading.Lock:
        return self.runner.lock if self.runner is not None else self.lock

    def attached(self) -> bool:
        """Held by a port whose link is still the current one."""
        return self.holder is not None and self.holder_epoch == self.pen.link_epoch


class SimBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, PenSlot] = {}

    # ------------------------------------------------------------------ ports

    def attach(self, name: str, options: PenOptions, realtime: bool, holder: object) -> PenSlot:
        """Open: attach ``holder`` to the pen on ``name``, powering one on if none is.

        A pen already powered keeps its own options (those of the URL that powered it).
        """
        with self._lock:
            slot = self._slots.get(name)
            if slot is None:
                slot = self._power_on(name, options, realtime)
            else:
                with slot.pen_lock:
                    link_up = slot.pen.link_up
                if not link_up:
                    raise SerialException(
                        f"could not open port sim://{name}: port not found "
                        "(the simulated pen is unplugged)"
                    )
                if slot.attached():
                    raise SerialException(
                        f"could not open port sim://{name}: port busy "
                        "(another port has this simulated pen open)"
                    )
            slot.holder = holder
            slot.holder_epoch = slot.pen.link_epoch
            return slot

    def detach(self, holder: object) -> None:
        """Close: a pen closed while plugged in is powered off; one whose cable was pulled
        stays on the bus so it can be plugged in again."""
        with self._lock:
            for slot in list(self._slots.values()):
                if slot.holder is holder:
                    slot.holder = None
                    if slot.holder_epoch == slot.pen.link_epoch and slot.pen.link_up:
                        self._power_off(slot)

    # ------------------------------------------------------------------ power

    def _power_on(self, name: str, options: PenOptions, realtime: bool) -> PenSlot:
        if realtime:
            runner = RealtimeRunner(SimulatedPen(options, MonotonicClock()))
            slot = PenSlot(name, runner.pen, runner, None)
            runner.start()
        else:
            clock = VirtualClock()
            slot = PenSlot(name, SimulatedPen(options, clock), None, clock)
        self._slots[name] = slot
        return slot

    def _power_off(self, slot: PenSlot) -> None:
        if self._slots.get(slot.name) is slot:
            del self._slots[slot.name]
        with slot.pen_lock:
            slot.pen.power_off()
        if slot.runner is not None:
            slot.runner.stop()

    def power_on(
        self, name: str, options: PenOptions | None = None, realtime: bool = True
    ) -> PenSlot:
        """Power a pen on ``name`` without opening a port (tests set its world first)."""
        with self._lock:
            if name in self._slots:
                raise SerialException(f"sim://{name} already has a pen powered on")
            return self._power_on(name, options or PenOptions(), realtime)

    def power_off(self, name: str) -> None:
        with self._lock:
            slot = self._slots.get(name)
            if slot is not None:
                self._power_off(slot)

    def power_off_all(self) -> None:
        with self._lock:
            for slot in list(self._slots.values()):
                self._power_off(slot)

    # ------------------------------------------------------------------ cable

    def _slot(self, name: str) -> PenSlot:
        slot = self._slots.get(name)
        if slot is None:
            raise KeyError(f"no simulated pen on sim://{name}")
        return slot

    def unplug(self, name: str) -> None:
        """Pull the cable: the open port fails, new opens find no port."""
        with self._lock:
            slot = self._slot(name)
            with slot.pen_lock:
                slot.pen.unplug()

    def plug(self, name: str) -> None:
        """Plug the cable back: the pen reboots (BOOT cause 3) and can be opened again."""
        with self._lock:
            slot = self._slot(name)
            with slot.pen_lock:
                slot.pen.plug()

    def replace(self, name: str, options: PenOptions | None = None, **changes: Any) -> PenSlot:
        """Swap in a different pen on ``name`` (another serial number, say): the old one is
        unplugged and powered off, so its open port fails, and the new one is plugged in.

        ``changes`` are PenOptions fields applied to ``options`` (default: the old pen's).
        """
        with self._lock:
            old = self._slot(name)
            base = options or old.pen.options
            new_options = replace(base, **changes) if changes else base
            self._power_off(old)
            return self._power_on(name, new_options, old.realtime)

    # ------------------------------------------------------------------ lookup

    def get(self, name: str) -> PenSlot | None:
        with self._lock:
            return self._slots.get(name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._slots)


BUS = SimBus()
"""The simulated USB bus every sim:// port uses."""


def unplug(name: str = "default") -> None:
    BUS.unplug(name)


def plug(name: str = "default") -> None:
    BUS.plug(name)


def replace_pen(name: str = "default", **changes: Any) -> PenSlot:
    """Put a different pen on ``name`` (e.g. ``serial="SIM99999"``): see SimBus.replace."""
    return BUS.replace(name, None, **changes)
