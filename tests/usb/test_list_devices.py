from __future__ import annotations

from pathlib import Path

import pytest

import smpctl.sim as sim
from smpctl.client import connect
from smpctl.discovery import PortInfo
from smpctl.errors import UsbPermissionError
from smpctl.protocol import USB_PID_PEN, USB_VID
from smpctl.usb.devices import find_pens, match_port, wait_for_pen
from smpctl.usb.listing import list_devices, render
from smpctl.usb.permissions import UDEV_RULE_IN_SOURCE, permission_advice
from smpctl.usb.simdev import SimUsbBus

ROOT = Path(__file__).resolve().parents[2]


def _port(device: str, **changes: object) -> PortInfo:
    fields: dict[str, object] = {
        "device": device,
        "description": "a port",
        "vid": None,
        "pid": None,
        "serial_number": None,
        "manufacturer": None,
        "product": None,
        "location": None,
        "looks_like_pen": False,
        "bootloader": False,
        "in_use_by": None,
    }
    fields.update(changes)
    return PortInfo(**fields)  # type: ignore[arg-type]


def test_pens_bootloaders_and_ports_are_matched_up(sim_name: str) -> None:
    url = f"sim://{sim_name}?serial=SIMLS001"
    with connect(url) as pen:
        bus = SimUsbBus()
        bus.link(sim_name)
        bus.add_pen("SIMLS002", bootloader=True)
        listing = list_devices(
            bus.backend(), [*bus.serial_ports(), _port("/dev/ttyS0")], simulated=True
        )
        assert pen.identity.serial == "SIMLS001"
    roles = {p.serial: p for p in listing.pens}
    assert roles["SIMLS001"].role == "pen"
    assert (
        roles["SIMLS001"].port is not None and roles["SIMLS001"].port.device == f"sim://{sim_name}"
    )
    assert roles["SIMLS001"].in_use_by == "a sim:// port in this process"
    assert roles["SIMLS002"].role == "bootloader" and roles["SIMLS002"].port is None
    assert [p.device for p in listing.other_ports] == ["/dev/ttyS0"]
    text = render(listing)
    assert "SIMULATED" in text and "SIMLS002" in text and "in use by a sim:// port" in text
    assert listing.as_dict()["usb_available"] is True


def test_without_a_usb_backend_serial_ports_are_still_listed() -> None:
    ours = _port(
        "/dev/ttyACM0", vid=USB_VID, pid=USB_PID_PEN, serial_number="P1", looks_like_pen=True
    )
    listing = list_devices(None, [ours, _port("/dev/ttyS0", in_use_by="getty (pid 1)")])
    assert listing.usb_problem is not None and "libusb" in listing.usb_problem
    assert [p.role for p in listing.pens] == ["pen (serial port only)"]
    assert listing.pens[0].serial == "P1"
    text = render(listing)
    assert "USB: not available" in text and "Serial ports are still listed" in text
    assert "/dev/ttyACM0" in text and "/dev/ttyS0" in text and "getty (pid 1)" in text


def test_a_usb_device_is_matched_to_its_port_by_location_when_serials_differ() -> None:
    bus = SimUsbBus()
    bus.add_pen("SIMLOC01")
    (pen,) = find_pens(bus.backend())
    port = _port(
        "/dev/ttyACM3",
        vid=USB_VID,
        pid=USB_PID_PEN,
        serial_number="other",
        location=f"{pen.location}:1.0",
        looks_like_pen=True,
    )
    assert match_port(pen, [port]) == port
    assert match_port(pen, [_port("/dev/ttyACM4", vid=USB_VID, pid=USB_PID_PEN)]) is None


def test_a_permission_problem_names_the_udev_rule_to_install() -> None:
    bus = SimUsbBus()
    bus.add_pen("SIMPERM1", bootloader=True).faults.deny_access = True
    listing = list_devices(bus.backend(), [])
    assert listing.pens[0].usb is not None and listing.pens[0].usb.permission_denied
    advice = listing.permission_advice
    assert advice is not None
    assert UDEV_RULE_IN_SOURCE in advice and "udevadm" in advice
    assert "/etc/udev/rules.d/99-smpctl.rules" in advice
    assert "Permission problem" in render(listing)
    with pytest.raises(UsbPermissionError, match=r"99-smpctl\.rules"):
        wait_for_pen(bus.backend(), serial=None, bootloader=True, timeout_s=0)


def test_the_udev_rule_named_is_the_one_shipped() -> None:
    assert (ROOT / UDEV_RULE_IN_SOURCE).is_file()
    assert "5351" in (ROOT / UDEV_RULE_IN_SOURCE).read_text()
    assert "Zadig" in permission_advice("win32")


def test_an_unplugged_linked_pen_leaves_the_usb_bus(sim_name: str) -> None:
    sim.BUS.power_on(sim_name)
    bus = SimUsbBus()
    bus.link(sim_name)
    assert len(find_pens(bus.backend())) == 1
    sim.unplug(sim_name)
    assert find_pens(bus.backend()) == []
    sim.plug(sim_name)
    assert [p.role for p in find_pens(bus.backend())] == ["pen"]
