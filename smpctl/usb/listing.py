"""Everything on this machine that could be a pen: USB devices and serial ports, matched.

A machine without libusb still gets its serial ports listed; the USB part then says why it
is missing. A device this user may not open is listed with the udev rule that fixes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smpctl.discovery import PortInfo
from smpctl.errors import UsbError

from .devices import UsbPen, find_pens, match_port
from .permissions import permission_advice


@dataclass(frozen=True)
class ListedPen:
    role: str
    """"pen", "bootloader", or "pen (serial port only)" when USB could not see it."""
    usb: UsbPen | None
    port: PortInfo | None
    in_use_by: str | None

    @property
    def serial(self) -> str | None:
        if self.usb is not None and self.usb.serial:
            return self.usb.serial
        return self.port.serial_number if self.port is not None else None

    def as_dict(self) -> dict[str, object]:
        return {
            "role": self.role,
            "serial_number": self.serial,
            "port": self.port.device if self.port is not None else None,
            "in_use_by": self.in_use_by,
            "usb": self.usb.as_dict() if self.usb is not None else None,
        }


@dataclass(frozen=True)
class DeviceListing:
    simulated: bool
    usb_problem: str | None
    pens: list[ListedPen]
    other_ports: list[PortInfo]
    permission_advice: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "simulated": self.simulated,
            "usb_available": self.usb_problem is None,
            "usb_problem": self.usb_problem,
            "pens": [p.as_dict() for p in self.pens],
            "other_ports": [p.as_dict() for p in self.other_ports],
            "permission_advice": self.permission_advice,
        }


def list_devices(
    backend: Any | None, ports: Sequence[PortInfo], *, simulated: bool = False
) -> DeviceListing:
    problem = None
    try:
        usb_pens = find_pens(backend)
    except UsbError as exc:
        problem, usb_pens = str(exc), []
    listed = []
    matched: set[str] = set()
    for pen in usb_pens:
        port = None if pen.bootloader else match_port(pen, ports)
        if port is not None:
            matched.add(port.device)
        in_use = port.in_use_by if port is not None else pen.in_use_by()
        listed.append(ListedPen(pen.role, pen, port, in_use))
    for port in ports:
        if port.device in matched:
            continue
        if port.looks_like_pen or port.bootloader:
            role = "bootloader" if port.bootloader else "pen (serial port only)"
            listed.append(ListedPen(role, None, port, port.in_use_by))
    others = [p for p in ports if p.device not in matched and not p.looks_like_pen]
    others = [p for p in others if not p.bootloader]
    denied = any(p.permission_denied for p in usb_pens)
    return DeviceListing(
        simulated=simulated,
        usb_problem=problem,
        pens=listed,
        other_ports=others,
        permission_advice=permission_advice() if denied else None,
    )


def render(listing: DeviceListing) -> str:
    lines = []
    if listing.simulated:
        lines.append("*** SIMULATED USB bus: these devices are the simulated pen ***")
    if listing.usb_problem:
        lines.append(f"USB: not available. {listing.usb_problem}")
        lines.append("Serial ports are still listed below.")
    lines.append("")
    lines.append("Pens and bootloaders:")
    if not listing.pens:
        lines.append("  none found")
    for pen in listing.pens:
        usb = pen.usb
        where = f"USB {usb.location or '?'} (bus {usb.bus}, address {usb.address})" if usb else ""
        ids = f"{usb.vid:04x}:{usb.pid:04x}" if usb else ""
        head = f"  {pen.role:<11} serial {pen.serial or '?'}"
        if usb is not None:
            head += f"  {ids}  {usb.product or '?'}"
            if not usb.bootloader and usb.release != "0.0.0":
                head += f" firmware {usb.release}"
        lines.append(head)
        if where:
            lines.append(f"              {where}")
        if pen.port is not None:
            lines.append(f"              serial port {pen.port.device}")
        elif pen.role == "pen":
            lines.append("              no serial port matched")
        if usb is not None and usb.permission_denied:
            lines.append("              PERMISSION DENIED: see below")
        lines.append(
            f"              in use by {pen.in_use_by}" if pen.in_use_by else "              free"
        )
    lines.append("")
    lines.append("Other serial ports:")
    if not listing.other_ports:
        lines.append("  none")
    for port in listing.other_ports:
        busy = f" (in use by {port.in_use_by})" if port.in_use_by else ""
        lines.append(f"  {port.device}  {port.description}{busy}")
    if listing.permission_advice:
        lines.append("")
        lines.append(f"Permission problem: {listing.permission_advice}")
    if not listing.simulated:
        lines.append("")
        lines.append("The simulated pen is always available as sim:// (--port sim://).")
    return "\n".join(lines)
