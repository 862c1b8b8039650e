"""List every pen, pen bootloader and serial port on this machine, matched up.

USB devices with the pen's ids (1209:5350 application, 1209:5351 DFU bootloader) come from
pyusb, serial ports from pyserial; a pen's USB device and its serial port are paired by
serial number (or USB location). Says which are in use, and for a device this user may not
open, the udev rule to install. Without libusb it says so and still lists serial ports.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as `python tools/list_devices.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smpctl.cli.args import add_json, add_port_filter, print_json, tool_main
from smpctl.discovery import list_ports
from smpctl.usb.devices import default_backend
from smpctl.usb.listing import DeviceListing, ListedPen, list_devices, render


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="list_devices.py",
        description="List pens, pen bootloaders (USB) and serial ports, matched up, with "
        "which are in use and how to fix a USB permission problem.",
    )
    add_port_filter(parser)
    add_json(parser)
    parser.set_defaults(func=run)
    return parser


def _simulated_listing(url: str) -> DeviceListing:
    import smpctl.sim as sim
    from smpctl.usb.simdev import SimUsbBus

    parsed = sim.parse_sim_url(url)
    powered = sim.BUS.get(parsed.name) is None
    if powered:
        sim.BUS.power_on(parsed.name, parsed.options, parsed.realtime)
    try:
        bus = SimUsbBus()
        bus.link(parsed.name)
        return list_devices(bus.backend(), bus.serial_ports(), simulated=True)
    finally:
        if powered:
            sim.BUS.power_off(parsed.name)


def _matches(pen: ListedPen, port: str) -> bool:
    wanted = port.removeprefix("usb:")
    return (pen.port is not None and pen.port.device == port) or pen.serial == wanted


def run(args: argparse.Namespace) -> int:
    port: str | None = args.port
    if port is not None and port.startswith("sim://"):
        listing = _simulated_listing(port)
    else:
        listing = list_devices(default_backend(), list_ports())
        if port is not None:
            listing = DeviceListing(
                simulated=False,
                usb_problem=listing.usb_problem,
                pens=[p for p in listing.pens if _matches(p, port)],
                other_ports=[p for p in listing.other_ports if p.device == port],
                permission_advice=listing.permission_advice,
            )
    if args.json:
        print_json(listing.as_dict())
    else:
        print(render(listing))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return tool_main(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
