"""Which serial ports could be pens: pyserial's port listing, matched to our USB ids."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import serial.tools.list_ports

from smpctl.link.serial_link import holder_of
from smpctl.protocol import USB_PID_DFU, USB_PID_PEN, USB_VID

SIM_URL_HINT = "sim://"


@dataclass(frozen=True)
class PortInfo:
    device: str
    description: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    manufacturer: str | None
    product: str | None
    location: str | None
    looks_like_pen: bool
    bootloader: bool
    in_use_by: str | None

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["vid"] = f"{self.vid:04x}" if self.vid is not None else None
        d["pid"] = f"{self.pid:04x}" if self.pid is not None else None
        return d


def list_ports() -> list[PortInfo]:
    """Every serial port now present, pens first."""
    found = []
    for p in serial.tools.list_ports.comports():
        is_ours = p.vid == USB_VID and p.pid in (USB_PID_PEN, USB_PID_DFU)
        found.append(
            PortInfo(
                device=p.device,
                description=p.description or "",
                vid=p.vid,
                pid=p.pid,
                serial_number=p.serial_number,
                manufacturer=p.manufacturer,
                product=p.product,
                location=p.location,
                looks_like_pen=is_ours and p.pid == USB_PID_PEN,
                bootloader=is_ours and p.pid == USB_PID_DFU,
                in_use_by=holder_of(p.device),
            )
        )
    found.sort(key=lambda i: (not i.looks_like_pen, i.device))
    return found


def pen_ports() -> list[PortInfo]:
    return [p for p in list_ports() if p.looks_like_pen]
