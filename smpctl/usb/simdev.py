"""A simulated pen on a simulated USB bus, as a pyusb backend of our own.

``SimUsbBus().backend()`` is an ``usb.backend.IBackend``: pass it to ``usb.core.find`` (or
to smpctl's USB functions) and the pen appears as the real one does: its application
(1209:5350, a CDC ACM port plus a DFU run-time interface) or its USB DFU 1.1 bootloader
(1209:5351). The bootloader keeps the state machine of the DFU 1.1 specification, checks
the image at every boot (it only starts an intact one) and keeps configuration and
calibration in a memory that a firmware update never touches.

A bus pen can be *linked* to a protocol-level simulated pen (``smpctl.sim``, sim://NAME):
they are then the two faces of one pen. The protocol pen's REBOOT_BOOTLOADER makes the USB
face enumerate as the bootloader and holds the protocol pen off its link until the
bootloader starts an intact application again; both share the same EEPROM object, so
configuration and calibration are one memory. Without a link the bus pen stands alone
(the DFU run-time DETACH still takes it to its bootloader).

Faults (``SimUsbPen.faults``): the cable pulled when a given block arrives (every request
then fails with errno 19 until ``replug``; an update interrupted so leaves an incomplete
image, so the pen comes back in its bootloader), one block programmed with a flipped bit
(a read-back verify catches it), and access denied (no udev rule). Time comes from an
injected clock, so a run is deterministic.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from types import SimpleNamespace
from typing import Any

import usb.backend
import usb.core

from smpctl.discovery import PortInfo
from smpctl.protocol import USB_PID_DFU, USB_PID_PEN, USB_VID
from smpctl.sim.bus import BUS, SimBus
from smpctl.sim.eeprom import Eeprom
from smpctl.sim.firmware import FIRMWARE_VERSION, MODEL

from .dfu import (
    DFU_CLASS,
    DFU_SUBCLASS,
    IN,
    OUT,
    PROTOCOL_DFU_MODE,
    PROTOCOL_RUNTIME,
    DfuAttribute,
    DfuFunctional,
    DfuState,
    DfuStatus,
    DfuStatusCode,
    Request,
)
from .image import HEADER_SIZE, FirmwareVersion, build_image, image_is_intact, parse_header

FLASH_SIZE = 256 * 1024
TRANSFER_SIZE = 1024
BLOCK_PROGRAM_MS = 2
MANIFEST_MS = 10
DETACH_TIMEOUT_MS = 1000
BOOTLOADER_RELEASE = 0x0100
POLL_SLACK_S = 0.0005
"""Clock granularity forgiven when checking that the host waited bwPollTimeout."""
HOLD_MS = 10 * 24 * 3600 * 1000
"""Keeps a linked protocol pen off its link while its USB face is in the bootloader: the
protocol simulator would otherwise come back by itself after a while."""

SIM_FIRMWARE = FirmwareVersion(*FIRMWARE_VERSION)
"""What the protocol simulator reports, so its USB face starts with the same version."""
LANGID_EN_US = 0x0409
_STRINGS = {1: "smpctl simulator", 2: "model", 3: "serial", 4: "SMP pen DFU"}


class UsbMode(Enum):
    APPLICATION = "application"
    BOOTLOADER = "bootloader"


@dataclass
class SimUsbFaults:
    pull_cable_at_block: int | None = None
    """The cable is pulled when this DNLOAD block arrives, before it is written."""
    corrupt_block: int | None = None
    """This block is programmed with one bit flipped, once (a weak flash cell)."""
    deny_access: bool = False
    """Opening the device fails with EACCES, as without the udev rule."""


def _error(message: str, code: int) -> usb.core.USBError:
    return usb.core.USBError(message, errno=code)


def _gone() -> usb.core.USBError:
    return _error("No such device (it may have been disconnected)", errno.ENODEV)


def _stall() -> usb.core.USBError:
    return _error("Pipe error", errno.EPIPE)


def bcd_release(version: FirmwareVersion) -> int:
    """USB bcdDevice JJ.M.N; versions beyond one digit of minor or patch read 0."""
    major, minor, patch = version
    if major > 99 or minor > 9 or patch > 9:
        return 0
    return (major // 10) << 12 | (major % 10) << 8 | minor << 4 | patch


def factory_image(model: str, version: FirmwareVersion) -> bytes:
    """What the simulated pen leaves the factory with: intact, unsigned."""
    payload = hashlib.shake_256(f"factory firmware {model} {version}".encode()).digest(8192)
    return build_image(payload, model=model, version=version, signer=None)


class SimUsbPen:
    """One simulated pen's USB side: its flash, its EEPROM, its bootloader."""

    def __init__(
        self,
        bus: SimUsbBus,
        serial: str,
        port: int,
        *,
        model: str,
        image: bytes,
        eeprom: Eeprom,
        linked: str | None,
    ) -> None:
        self._bus = bus
        self.serial = serial
        self.port = port
        self.model = model
        self.flash = bytearray(b"\xff" * FLASH_SIZE)
        self.flash[: len(image)] = image
        self.manifested = True
        self.eeprom = eeprom
        self.linked = linked
        self.faults = SimUsbFaults()
        self.mode = UsbMode.APPLICATION
        self.present = True
        self.address = bus.next_address()
        self.boots = 0
        self.blocks_programmed = 0
        self._state = DfuState.APP_IDLE
        self._status = DfuStatusCode.OK
        self._busy_until = 0.0
        self._pending: tuple[int, bytes] | None = None
        self._expected_block = 0
        self._written = 0
        self._manifest_pending = False

    # ------------------------------------------------------------------ what it is

    @property
    def location(self) -> str:
        return f"1-{self.port}"

    @property
    def installed_version(self) -> FirmwareVersion | None:
        if not image_is_intact(bytes(self.flash)):
            return None
        return parse_header(bytes(self.flash[:HEADER_SIZE]))[1]

    @property
    def state(self) -> DfuState:
        return self._state

    def _reenumerate(self, mode: UsbMode) -> None:
        self.mode = mode
        self.address = self._bus.next_address()

    # ------------------------------------------------------------------ the linked pen

    def refresh(self) -> None:
        """Follow the linked protocol pen: it left for its bootloader, or its cable moved."""
        if self.linked is None:
            return
        slot = self._bus.sim_bus.get(self.linked)
        if slot is None:
            self.present = False
            return
        with slot.pen_lock:
            pen = slot.pen
            if not pen.powered:
                self.present = False
            elif self.mode is UsbMode.APPLICATION:
                if pen.link_up:
                    if not self.present:
                        self.present = True
                        self.address = self._bus.next_address()
                elif pen.firmware is None:  # REBOOT_BOOTLOADER: it left for the bootloader
                    pen.drop_link(HOLD_MS)
                    self._enter_bootloader(DfuStatusCode.OK)
                else:
                    self.present = False  # its cable is pulled

    def _hold_linked(self, hold: bool) -> None:
        """Keep the protocol pen away (bootloader) or let it boot (application)."""
        if self.linked is None:
            return
        slot = self._bus.sim_bus.get(self.linked)
        if slot is None:
            return
        with slot.pen_lock:
            if hold:
                slot.pen.drop_link(HOLD_MS)
            else:
                pen = slot.pen
                running = pen.firmware.version if pen.firmware is not None else None
                if pen.link_up and running not in (None, pen.firmware_version):
                    pen.unplug()  # still running the old image: the reset boots the new one
                pen.plug()

    def _publish_version(self) -> None:
        """The linked protocol pen boots what the flash now holds, so the version it
        reports over the protocol is the one just written."""
        installed = self.installed_version
        slot = self._bus.sim_bus.get(self.linked) if self.linked is not None else None
        if installed is None or slot is None:
            return
        with slot.pen_lock:
            slot.pen.firmware_version = (installed.major, installed.minor, installed.patch)

    def _enter_bootloader(self, status: DfuStatusCode) -> None:
        self._reenumerate(UsbMode.BOOTLOADER)
        self.present = True
        self._status = status
        self._state = DfuState.DFU_IDLE if status is DfuStatusCode.OK else DfuState.DFU_ERROR
        self._pending = None
        self._manifest_pending = False

    def _boot(self) -> None:
        """Power-on or reset: the bootloader starts an intact, manifested image, else stays."""
        self.boots += 1
        if self.manifested and image_is_intact(bytes(self.flash)):
            self._reenumerate(UsbMode.APPLICATION)
            self.present = True
            self._state = DfuState.APP_IDLE
            self._status = DfuStatusCode.OK
            self._hold_linked(False)
        else:
            self._enter_bootloader(DfuStatusCode.ERR_FIRMWARE)
            self._hold_linked(True)

    # ------------------------------------------------------------------ the cable

    def unplug(self) -> None:
        self.present = False
        self._pending = None

    def replug(self) -> None:
        """Plug back in: a power-on, so the bootloader decides what runs."""
        self.present = True
        self._boot()

    # ------------------------------------------------------------------ descriptors

    def device_descriptor(self, ref: DeviceRef) -> SimpleNamespace:
        app = self.mode is UsbMode.APPLICATION
        version = self.installed_version
        return SimpleNamespace(
            bLength=18,
            bDescriptorType=1,
            bcdUSB=0x0200,
            bDeviceClass=0xEF if app else 0x00,
            bDeviceSubClass=0x02 if app else 0x00,
            bDeviceProtocol=0x01 if app else 0x00,
            bMaxPacketSize0=64,
            idVendor=USB_VID,
            idProduct=USB_PID_PEN if app else USB_PID_DFU,
            bcdDevice=(bcd_release(version) if version else 0) if app else BOOTLOADER_RELEASE,
            iManufacturer=1,
            iProduct=2,
            iSerialNumber=3,
            bNumConfigurations=1,
            address=ref.address,
            bus=1,
            port_number=self.port,
            port_numbers=(self.port,),
            speed=3,  # full speed
        )

    def _interfaces(self) -> list[SimpleNamespace]:
        functional = DfuFunctional(
            DfuAttribute.CAN_DOWNLOAD
            | DfuAttribute.CAN_UPLOAD
            | DfuAttribute.MANIFESTATION_TOLERANT
            | DfuAttribute.WILL_DETACH,
            DETACH_TIMEOUT_MS,
            TRANSFER_SIZE,
            0x0110,
        ).pack()

        def intf(number: int, cls: int, sub: int, proto: int, eps: int, extra: bytes) -> Any:
            return SimpleNamespace(
                bLength=9,
                bDescriptorType=4,
                bInterfaceNumber=number,
                bAlternateSetting=0,
                bNumEndpoints=eps,
                bInterfaceClass=cls,
                bInterfaceSubClass=sub,
                bInterfaceProtocol=proto,
                iInterface=4 if cls == DFU_CLASS else 0,
                extra_descriptors=list(extra),
            )

        if self.mode is UsbMode.BOOTLOADER:
            return [intf(0, DFU_CLASS, DFU_SUBCLASS, PROTOCOL_DFU_MODE, 0, functional)]
        return [
            intf(0, 0x02, 0x02, 0x01, 1, b""),  # CDC ACM communication
            intf(1, 0x0A, 0x00, 0x00, 2, b""),  # CDC data
            intf(2, DFU_CLASS, DFU_SUBCLASS, PROTOCOL_RUNTIME, 0, functional),
        ]

    def _endpoints(self, interface: int) -> list[SimpleNamespace]:
        if self.mode is UsbMode.BOOTLOADER:
            return []
        layout = {0: [(0x83, 3, 16)], 1: [(0x02, 2, 64), (0x81, 2, 64)]}
        return [
            SimpleNamespace(
                bLength=7,
                bDescriptorType=5,
                bEndpointAddress=address,
                bmAttributes=kind,
                wMaxPacketSize=size,
                bInterval=16 if kind == 3 else 0,
                bRefresh=0,
                bSynchAddress=0,
                extra_descriptors=[],
            )
            for address, kind, size in layout.get(interface, [])
        ]

    def _string(self, index: int) -> str:
        if index == 2:
            return self.model
        if index == 3:
            return self.serial
        return _STRINGS[index]

    # ------------------------------------------------------------------ requests

    def control(
        self, request_type: int, request: int, value: int, index: int, data: array[int]
    ) -> int:
        if request_type == 0x80 and request == 6:  # GET_DESCRIPTOR
            return self._get_descriptor(value, data)
        if request_type in (OUT, IN):
            return self._dfu(request_type, request, value, data)
        raise _stall()

    def _get_descriptor(self, value: int, data: array[int]) -> int:
        kind, index = value >> 8, value & 0xFF
        if kind != 3:
            raise _stall()
        if index == 0:
            raw = bytes([4, 3]) + LANGID_EN_US.to_bytes(2, "little")
        elif index in _STRINGS:
            text = self._string(index).encode("utf-16-le")
            raw = bytes([2 + len(text), 3]) + text
        else:
            raise _stall()
        n = min(len(raw), len(data))
        data[:n] = array("B", raw[:n])
        return n

    def _reply(self, raw: bytes, data: array[int]) -> int:
        n = min(len(raw), len(data))
        data[:n] = array("B", raw[:n])
        return n

    def _dfu_stall(self) -> usb.core.USBError:
        """A request the state does not allow: stall and enter dfuERROR (spec A.2)."""
        if self.mode is UsbMode.BOOTLOADER:
            self._state = DfuState.DFU_ERROR
            self._status = DfuStatusCode.ERR_STALLEDPKT
        return _stall()

    def _dfu(self, request_type: int, request: int, value: int, data: array[int]) -> int:
        now = self._bus.clock()
        if now < self._busy_until - POLL_SLACK_S:
            # the host ignored bwPollTimeout: a real device cannot answer while it programs
            self._busy_until = 0.0
            raise self._dfu_stall()
        self._settle()
        if self.mode is UsbMode.APPLICATION:
            return self._runtime(request_type, request, data)
        state = self._state
        if request_type == IN and request == Request.GETSTATUS:
            return self._reply(self._get_status(now).pack(), data)
        if request_type == IN and request == Request.GETSTATE:
            return self._reply(bytes([state]), data)
        if request_type == OUT and request == Request.CLRSTATUS:
            if state is not DfuState.DFU_ERROR:
                raise self._dfu_stall()
            self._state, self._status = DfuState.DFU_IDLE, DfuStatusCode.OK
            return 0
        if request_type == OUT and request == Request.ABORT:
            if state not in (
                DfuState.DFU_IDLE,
                DfuState.DFU_DNLOAD_IDLE,
                DfuState.DFU_UPLOAD_IDLE,
                DfuState.DFU_MANIFEST_SYNC,
                DfuState.DFU_DNLOAD_SYNC,
            ):
                raise self._dfu_stall()
            self._state, self._pending = DfuState.DFU_IDLE, None
            return 0
        if request_type == OUT and request == Request.DNLOAD:
            return self._download(value, bytes(data))
        if request_type == IN and request == Request.UPLOAD:
            return self._upload(value, data)
        raise self._dfu_stall()

    def _runtime(self, request_type: int, request: int, data: array[int]) -> int:
        if request_type == IN and request == Request.GETSTATUS:
            return self._reply(DfuStatus(DfuStatusCode.OK, 0, self._state, 0).pack(), data)
        if request_type == IN and request == Request.GETSTATE:
            return self._reply(bytes([self._state]), data)
        if request_type == OUT and request == Request.DETACH:
            # bitWillDetach: the pen leaves and comes back as its bootloader by itself
            self._hold_linked(True)
            self._enter_bootloader(DfuStatusCode.OK)
            return 0
        raise _stall()

    def _settle(self) -> None:
        """Finish what the last poll timeout covered: a block programmed, or manifested."""
        if self._state is DfuState.DFU_DNBUSY and self._pending is not None:
            block, payload = self._pending
            self._program(block, payload)
            self._pending = None
            self._state = DfuState.DFU_DNLOAD_SYNC
        elif self._state is DfuState.DFU_MANIFEST:
            self.manifested = True
            self._manifest_pending = False
            self._publish_version()
            self._state = DfuState.DFU_MANIFEST_SYNC

    def _get_status(self, now: float) -> DfuStatus:
        state = self._state
        if state is DfuState.DFU_DNLOAD_SYNC:
            if self._pending is not None:
                self._state = DfuState.DFU_DNBUSY
                self._busy_until = now + BLOCK_PROGRAM_MS / 1000
                return DfuStatus(self._status, BLOCK_PROGRAM_MS, DfuState.DFU_DNBUSY, 0)
            self._state = DfuState.DFU_DNLOAD_IDLE
        elif state is DfuState.DFU_MANIFEST_SYNC:
            if self._manifest_pending:
                self._state = DfuState.DFU_MANIFEST
                self._busy_until = now + MANIFEST_MS / 1000
                return DfuStatus(self._status, MANIFEST_MS, DfuState.DFU_MANIFEST, 0)
            self._state = DfuState.DFU_IDLE  # manifestation tolerant
        return DfuStatus(self._status, 0, self._state, 0)

    def _download(self, block: int, payload: bytes) -> int:
        state = self._state
        if payload:
            if state is DfuState.DFU_IDLE:
                if block != 0:
                    raise self._dfu_stall()
                self._expected_block = 0
                self._written = 0
                self.manifested = False  # the old image is gone the moment a write starts
            elif state is not DfuState.DFU_DNLOAD_IDLE:
                raise self._dfu_stall()
            fault = self.faults.pull_cable_at_block
            if fault is not None and block == fault:
                self.faults.pull_cable_at_block = None
                self.unplug()
                raise _gone()
            offset = block * TRANSFER_SIZE
            if block != self._expected_block or offset + len(payload) > FLASH_SIZE:
                self._state, self._status = DfuState.DFU_ERROR, DfuStatusCode.ERR_ADDRESS
                raise _stall()
            self._pending = (block, payload)
            self._expected_block = block + 1
            self._state = DfuState.DFU_DNLOAD_SYNC
            return len(payload)
        if state is not DfuState.DFU_DNLOAD_IDLE:
            self._status = DfuStatusCode.ERR_NOTDONE
            raise self._dfu_stall()
        self._manifest_pending = True
        self._state = DfuState.DFU_MANIFEST_SYNC
        return 0

    def _program(self, block: int, payload: bytes) -> None:
        offset = block * TRANSFER_SIZE
        written = bytearray(payload)
        if self.faults.corrupt_block == block:
            self.faults.corrupt_block = None
            written[len(written) // 2] ^= 0x10
        if block == 0:
            self.flash[:] = b"\xff" * FLASH_SIZE  # erase before the first block
        self.flash[offset : offset + len(written)] = written
        self._written = offset + len(written)
        self.blocks_programmed += 1

    def _upload(self, block: int, data: array[int]) -> int:
        if self._state is DfuState.DFU_IDLE:
            if block != 0:
                raise self._dfu_stall()
            self._state = DfuState.DFU_UPLOAD_IDLE
        elif self._state is not DfuState.DFU_UPLOAD_IDLE:
            raise self._dfu_stall()
        offset = block * TRANSFER_SIZE
        chunk = bytes(self.flash[offset : offset + min(len(data), TRANSFER_SIZE)])
        if len(chunk) < len(data):
            self._state = DfuState.DFU_IDLE  # a short block ends the upload
        return self._reply(chunk, data)

    def reset(self) -> None:
        """USB reset: in the bootloader, start the application if the image is intact."""
        if self.mode is UsbMode.BOOTLOADER:
            self._boot()
        else:
            self.address = self._bus.next_address()


@dataclass(frozen=True)
class DeviceRef:
    """pyusb's opaque ``dev``: a pen at one enumeration (address)."""

    pen: SimUsbPen
    address: int


@dataclass
class _Handle:
    ref: DeviceRef
    configuration: int = 1


class SimUsbBackend(usb.backend.IBackend):  # type: ignore[misc]
    """The pyusb backend over a SimUsbBus."""

    def __init__(self, bus: SimUsbBus) -> None:
        super().__init__()
        self.bus = bus

    @staticmethod
    def _live(ref: DeviceRef) -> SimUsbPen:
        pen = ref.pen
        pen.refresh()
        if not pen.present or pen.address != ref.address:
            raise _gone()
        return pen

    def enumerate_devices(self) -> Iterator[DeviceRef]:
        for pen in self.bus.pens():
            pen.refresh()
            if pen.present:
                yield DeviceRef(pen, pen.address)

    def get_parent(self, dev: DeviceRef) -> None:
        return None

    def get_device_descriptor(self, dev: DeviceRef) -> SimpleNamespace:
        return dev.pen.device_descriptor(dev)

    def get_configuration_descriptor(self, dev: DeviceRef, config: int) -> SimpleNamespace:
        if config != 0:
            raise IndexError("configuration index out of range")
        interfaces = dev.pen._interfaces()
        return SimpleNamespace(
            bLength=9,
            bDescriptorType=2,
            wTotalLength=9 + 9 * len(interfaces),
            bNumInterfaces=len(interfaces),
            bConfigurationValue=1,
            iConfiguration=0,
            bmAttributes=0x80,
            bMaxPower=50,
            extra_descriptors=[],
        )

    def get_interface_descriptor(
        self, dev: DeviceRef, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        interfaces = dev.pen._interfaces()
        if config != 0 or alt != 0 or not 0 <= intf < len(interfaces):
            raise IndexError("interface index out of range")
        return interfaces[intf]

    def get_endpoint_descriptor(
        self, dev: DeviceRef, ep: int, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        endpoints = dev.pen._endpoints(intf)
        if not 0 <= ep < len(endpoints):
            raise IndexError("endpoint index out of range")
        return endpoints[ep]

    def open_device(self, dev: DeviceRef) -> _Handle:
        pen = self._live(dev)
        if pen.faults.deny_access:
            raise _error("Access denied (insufficient permissions)", errno.EACCES)
        return _Handle(dev)

    def close_device(self, dev_handle: _Handle) -> None:
        return None

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        self._live(dev_handle.ref)
        dev_handle.configuration = config_value

    def get_configuration(self, dev_handle: _Handle) -> int:
        self._live(dev_handle.ref)
        return dev_handle.configuration

    def set_interface_altsetting(self, dev_handle: _Handle, intf: int, altsetting: int) -> None:
        self._live(dev_handle.ref)

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        self._live(dev_handle.ref)

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        return None

    def ctrl_transfer(
        self,
        dev_handle: _Handle,
        bmRequestType: int,
        bRequest: int,
        wValue: int,
        wIndex: int,
        data: array[int],
        timeout: int,
    ) -> int:
        pen = self._live(dev_handle.ref)
        return pen.control(bmRequestType, bRequest, wValue, wIndex, data)

    def reset_device(self, dev_handle: _Handle) -> None:
        self._live(dev_handle.ref).reset()

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        return False

    def detach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        return None

    def attach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        return None


class SimUsbBus:
    """The simulated pens one program sees over USB. No global state: make one per run
    (or per test); linked pens follow ``sim_bus`` (smpctl.sim's bus by default)."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sim_bus: SimBus | None = None
    ) -> None:
        self.clock = clock
        self.sim_bus = sim_bus if sim_bus is not None else BUS
        self._pens: dict[str, SimUsbPen] = {}
        self._addresses = itertools.count(2)
        self._ports = itertools.count(1)

    def next_address(self) -> int:
        return next(self._addresses) % 127 or 1

    def add_pen(
        self,
        serial: str,
        *,
        model: str = MODEL,
        version: FirmwareVersion = SIM_FIRMWARE,
        image: bytes | None = None,
        bootloader: bool = False,
    ) -> SimUsbPen:
        """A pen of its own (no protocol side), with a factory image unless given one."""
        pen = SimUsbPen(
            self,
            serial,
            next(self._ports),
            model=model,
            image=image if image is not None else factory_image(model, version),
            eeprom=Eeprom(),
            linked=None,
        )
        if bootloader:
            pen._enter_bootloader(DfuStatusCode.OK)
        self._pens[serial] = pen
        return pen

    def link(self, name: str) -> SimUsbPen:
        """The USB face of the protocol pen powered on sim://NAME (same serial, same EEPROM)."""
        slot = self.sim_bus.get(name)
        if slot is None:
            raise KeyError(f"no simulated pen on sim://{name}: open it first")
        with slot.pen_lock:
            serial = slot.pen.options.serial_number
            eeprom = slot.pen.eeprom
        existing = self._pens.get(serial)
        if existing is not None and existing.linked == name:
            return existing
        pen = SimUsbPen(
            self,
            serial,
            next(self._ports),
            model=MODEL,
            image=factory_image(MODEL, SIM_FIRMWARE),
            eeprom=eeprom,
            linked=name,
        )
        self._pens[serial] = pen
        pen.refresh()
        return pen

    def pen(self, serial: str) -> SimUsbPen:
        return self._pens[serial]

    def pens(self) -> list[SimUsbPen]:
        return list(self._pens.values())

    def backend(self) -> SimUsbBackend:
        return SimUsbBackend(self)

    def serial_ports(self) -> list[PortInfo]:
        """The CDC ports of linked pens running their application: sim://NAME, as
        pyserial's listing would show a real pen's /dev/ttyACM0."""
        ports = []
        for pen in self.pens():
            pen.refresh()
            if pen.linked is None or not pen.present or pen.mode is not UsbMode.APPLICATION:
                continue
            slot = self.sim_bus.get(pen.linked)
            ports.append(
                PortInfo(
                    device=f"sim://{pen.linked}",
                    description=f"{pen.model} (simulated)",
                    vid=USB_VID,
                    pid=USB_PID_PEN,
                    serial_number=pen.serial,
                    manufacturer=_STRINGS[1],
                    product=pen.model,
                    location=f"{pen.location}:1.0",
                    looks_like_pen=True,
                    bootloader=False,
                    in_use_by="a sim:// port in this process"
                    if slot is not None and slot.attached()
                    else None,
                )
            )
        return ports
