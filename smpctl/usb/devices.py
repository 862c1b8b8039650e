"""Pens and their bootloaders on USB (pyusb), matched to the serial ports pyserial lists.

Every function takes the pyusb backend to use, so tests (and ``--port sim://``) pass the
simulated bus; ``default_backend()`` is libusb, or None on a machine without it.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import usb.core
import usb.util

from smpctl.discovery import PortInfo
from smpctl.errors import PenNotFoundError, UsbError, UsbPermissionError, UsbUnavailableError
from smpctl.link.serial_link import holder_of
from smpctl.protocol import USB_PID_DFU, USB_PID_PEN, USB_VID

from .dfu import describe
from .permissions import permission_advice


def default_backend() -> Any | None:
    """libusb 1.0, else libusb 0.1 or OpenUSB; None when none is installed."""
    import usb.backend.libusb0
    import usb.backend.libusb1
    import usb.backend.openusb

    for module in (usb.backend.libusb1, usb.backend.openusb, usb.backend.libusb0):
        try:
            backend = module.get_backend()
        except Exception:  # a broken library install is the same as none for us
            backend = None
        if backend is not None:
            return backend
    return None


def release_text(bcd: int) -> str:
    """bcdDevice JJ.M.N as ``J.M.N``."""
    major = (bcd >> 12 & 0xF) * 10 + (bcd >> 8 & 0xF)
    return f"{major}.{bcd >> 4 & 0xF}.{bcd & 0xF}"


@dataclass(frozen=True)
class UsbPen:
    """One USB device with our ids: a pen's application or its bootloader."""

    vid: int
    pid: int
    bus: int | None
    address: int | None
    location: str | None
    """``BUS-PORT.PORT``, as pyserial's location starts for the same device."""
    serial: str | None
    product: str | None
    release: str
    permission_denied: bool = False
    device: Any = field(default=None, compare=False, repr=False)

    @property
    def bootloader(self) -> bool:
        return self.pid == USB_PID_DFU

    @property
    def role(self) -> str:
        return "bootloader" if self.bootloader else "pen"

    @property
    def usbfs_path(self) -> str | None:
        if self.bus is None or self.address is None:
            return None
        return f"/dev/bus/usb/{self.bus:03d}/{self.address:03d}"

    def in_use_by(self) -> str | None:
        path = self.usbfs_path
        return holder_of(path) if path is not None else None

    def as_dict(self) -> dict[str, object]:
        return {
            "vid": f"{self.vid:04x}",
            "pid": f"{self.pid:04x}",
            "role": self.role,
            "bus": self.bus,
            "address": self.address,
            "location": self.location,
            "serial_number": self.serial,
            "product": self.product,
            "release": self.release,
            "permission_denied": self.permission_denied,
        }


def _strings(device: Any) -> tuple[str | None, str | None, bool]:
    """(serial, product, permission denied). Reading strings opens the device, which is
    where a missing udev rule shows."""
    try:
        langids = usb.util.get_langids(device)
        if not langids:
            return None, None, False
        serial = usb.util.get_string(device, device.iSerialNumber, langids[0])
        product = usb.util.get_string(device, device.iProduct, langids[0])
    except usb.core.USBError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            return None, None, True
        return None, None, False
    return serial, product, False


def _location(device: Any) -> str | None:
    ports = getattr(device, "port_numbers", None)
    if device.bus is None or not ports:
        return None
    return f"{device.bus}-{'.'.join(str(p) for p in ports)}"


def find_pens(backend: Any | None) -> list[UsbPen]:
    """Every pen and bootloader on ``backend``; UsbUnavailableError when it is None."""
    if backend is None:
        raise UsbUnavailableError()
    found = []
    try:
        devices = list(
            usb.core.find(
                find_all=True,
                backend=backend,
                idVendor=USB_VID,
                custom_match=lambda d: d.idProduct in (USB_PID_PEN, USB_PID_DFU),
            )
        )
    except usb.core.USBError as exc:
        raise UsbError(f"cannot list USB devices: {exc}") from None
    for dev in devices:
        serial, product, denied = _strings(dev)
        found.append(
            UsbPen(
                vid=dev.idVendor,
                pid=dev.idProduct,
                bus=dev.bus,
                address=dev.address,
                location=_location(dev),
                serial=serial,
                product=product,
                release=release_text(dev.bcdDevice),
                permission_denied=denied,
                device=dev,
            )
        )
    found.sort(key=lambda p: (p.bootloader, p.location or "", p.serial or ""))
    return found


def match_port(pen: UsbPen, ports: Iterable[PortInfo]) -> PortInfo | None:
    """The serial port of this USB device: same serial number (and ids), else same place."""
    candidates = [p for p in ports if p.vid == pen.vid and p.pid == pen.pid]
    if pen.serial:
        for port in candidates:
            if port.serial_number == pen.serial:
                return port
    if pen.location:
        for port in candidates:
            if port.location and port.location.split(":")[0] == pen.location:
                return port
    return None


def require_access(pen: UsbPen) -> None:
    if pen.permission_denied:
        raise UsbPermissionError(describe(pen.device), permission_advice())


def wait_for_pen(
    backend: Any,
    *,
    serial: str | None,
    bootloader: bool,
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll_s: float = 0.05,
) -> UsbPen:
    """The pen (application or bootloader) with ``serial`` (any one, if None), as it
    (re-)enumerates; PenNotFoundError after ``timeout_s``."""
    deadline = clock() + timeout_s
    while True:
        pens = [p for p in find_pens(backend) if p.bootloader == bootloader]
        for pen in pens:
            require_access(pen)
        chosen = _choose(pens, serial)
        if chosen is not None:
            return chosen
        if clock() >= deadline:
            what = "bootloader" if bootloader else "pen"
            named = f" with serial {serial}" if serial else ""
            raise PenNotFoundError(
                f"no {what}{named} appeared on USB within {timeout_s:g} s. Check the cable "
                "(a data cable, not a charging-only one) and run tools/list_devices.py."
            )
        sleep(poll_s)


def _choose(pens: Sequence[UsbPen], serial: str | None) -> UsbPen | None:
    if serial is not None:
        return next((p for p in pens if p.serial == serial), None)
    if len(pens) > 1:
        names = ", ".join(p.serial or "?" for p in pens)
        raise PenNotFoundError(
            f"several devices are attached ({names}): name one with --port usb:SERIAL"
        )
    return pens[0] if pens else None
