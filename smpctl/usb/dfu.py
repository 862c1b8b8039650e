"""A USB DFU 1.1 host: the requests, the device state machine and a block-wise download.

Follows the USB Device Firmware Upgrade specification 1.1 (states and status codes in its
section 6.1.2 and appendix A). Every pyusb error is mapped here to smpctl's own errors,
so nothing above this module sees ``usb.core.USBError``.
"""

from __future__ import annotations

import errno
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum, IntFlag
from typing import Any, NamedTuple

import usb.core

from smpctl.errors import DfuError, UsbDeviceGoneError, UsbError, UsbPermissionError

from .permissions import permission_advice

DFU_CLASS = 0xFE
DFU_SUBCLASS = 0x01
PROTOCOL_RUNTIME = 0x01
PROTOCOL_DFU_MODE = 0x02
FUNCTIONAL_DESCRIPTOR = 0x21

OUT = 0x21  # host to device, class, interface
IN = 0xA1  # device to host, class, interface


class Request(IntEnum):
    DETACH = 0
    DNLOAD = 1
    UPLOAD = 2
    GETSTATUS = 3
    CLRSTATUS = 4
    GETSTATE = 5
    ABORT = 6


class DfuState(IntEnum):
    APP_IDLE = 0
    APP_DETACH = 1
    DFU_IDLE = 2
    DFU_DNLOAD_SYNC = 3
    DFU_DNBUSY = 4
    DFU_DNLOAD_IDLE = 5
    DFU_MANIFEST_SYNC = 6
    DFU_MANIFEST = 7
    DFU_MANIFEST_WAIT_RESET = 8
    DFU_UPLOAD_IDLE = 9
    DFU_ERROR = 10


class DfuStatusCode(IntEnum):
    OK = 0x00
    ERR_TARGET = 0x01
    ERR_FILE = 0x02
    ERR_WRITE = 0x03
    ERR_ERASE = 0x04
    ERR_CHECK_ERASED = 0x05
    ERR_PROG = 0x06
    ERR_VERIFY = 0x07
    ERR_ADDRESS = 0x08
    ERR_NOTDONE = 0x09
    ERR_FIRMWARE = 0x0A
    ERR_VENDOR = 0x0B
    ERR_USBR = 0x0C
    ERR_POR = 0x0D
    ERR_UNKNOWN = 0x0E
    ERR_STALLEDPKT = 0x0F


STATUS_TEXT: dict[DfuStatusCode, str] = {
    DfuStatusCode.OK: "no error",
    DfuStatusCode.ERR_TARGET: "the file is not for this device",
    DfuStatusCode.ERR_FILE: "the file failed the device's checks",
    DfuStatusCode.ERR_WRITE: "the device could not write its memory",
    DfuStatusCode.ERR_ERASE: "memory erase failed",
    DfuStatusCode.ERR_CHECK_ERASED: "memory erase check failed",
    DfuStatusCode.ERR_PROG: "program memory function failed",
    DfuStatusCode.ERR_VERIFY: "programmed memory failed verification",
    DfuStatusCode.ERR_ADDRESS: "a block was out of order or beyond the memory",
    DfuStatusCode.ERR_NOTDONE: "the download ended before all data was received",
    DfuStatusCode.ERR_FIRMWARE: "the installed firmware is corrupt: the device can only be "
    "flashed, it cannot run",
    DfuStatusCode.ERR_VENDOR: "vendor-specific error",
    DfuStatusCode.ERR_USBR: "unexpected USB reset",
    DfuStatusCode.ERR_POR: "unexpected power-on reset",
    DfuStatusCode.ERR_UNKNOWN: "unknown error",
    DfuStatusCode.ERR_STALLEDPKT: "the device stalled an unexpected request",
}


class DfuStatus(NamedTuple):
    status: DfuStatusCode
    poll_timeout_ms: int
    state: DfuState
    string_index: int

    @classmethod
    def unpack(cls, raw: bytes) -> DfuStatus:
        if len(raw) < 6:
            raise DfuError(f"DFU_GETSTATUS answered {len(raw)} bytes instead of 6")
        poll = raw[1] | raw[2] << 8 | raw[3] << 16
        return cls(DfuStatusCode(raw[0]), poll, DfuState(raw[4]), raw[5])

    def pack(self) -> bytes:
        poll = self.poll_timeout_ms
        return bytes([self.status, poll & 0xFF, poll >> 8 & 0xFF, poll >> 16 & 0xFF, self.state, 0])


class DfuAttribute(IntFlag):
    """bmAttributes of the DFU functional descriptor."""

    CAN_DOWNLOAD = 0x01
    CAN_UPLOAD = 0x02
    MANIFESTATION_TOLERANT = 0x04
    WILL_DETACH = 0x08


class DfuFunctional(NamedTuple):
    """The DFU functional descriptor: what the device can do and its block size."""

    attributes: int
    detach_timeout_ms: int
    transfer_size: int
    dfu_version: int

    @classmethod
    def unpack(cls, raw: bytes) -> DfuFunctional:
        if len(raw) < 9 or raw[1] != FUNCTIONAL_DESCRIPTOR:
            raise DfuError("the device has no valid DFU functional descriptor")
        attributes, detach_ms, transfer, version = struct.unpack_from("<BHHH", raw, 2)
        return cls(attributes, detach_ms, transfer, version)

    def pack(self) -> bytes:
        return struct.pack(
            "<BBBHHH",
            9,
            FUNCTIONAL_DESCRIPTOR,
            self.attributes,
            self.detach_timeout_ms,
            self.transfer_size,
            self.dfu_version,
        )

    @property
    def can_download(self) -> bool:
        return bool(self.attributes & DfuAttribute.CAN_DOWNLOAD)

    @property
    def can_upload(self) -> bool:
        return bool(self.attributes & DfuAttribute.CAN_UPLOAD)

    @property
    def manifestation_tolerant(self) -> bool:
        return bool(self.attributes & DfuAttribute.MANIFESTATION_TOLERANT)

    @property
    def will_detach(self) -> bool:
        return bool(self.attributes & DfuAttribute.WILL_DETACH)


Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total)."""

BUSY_STATES = frozenset({DfuState.DFU_DNBUSY, DfuState.DFU_MANIFEST})


def describe(device: Any) -> str:
    return (
        f"{device.idVendor:04x}:{device.idProduct:04x} (bus {device.bus}, address {device.address})"
    )


@contextmanager
def usb_errors(device: Any, doing: str) -> Iterator[None]:
    """Map pyusb's errors to smpctl's, once, at the boundary."""
    try:
        yield
    except usb.core.USBError as exc:
        code = exc.errno
        if code in (errno.ENODEV, errno.ENOENT, errno.ESHUTDOWN):
            raise UsbDeviceGoneError(
                f"the pen disconnected while {doing} ({describe(device)} vanished). A pen "
                "interrupted during an update stays in its bootloader: check the cable, plug "
                "it back in and run the update again."
            ) from None
        if code in (errno.EACCES, errno.EPERM):
            raise UsbPermissionError(describe(device), permission_advice()) from None
        if code == errno.EPIPE:
            raise DfuError(f"the bootloader stalled while {doing}") from None
        raise UsbError(f"USB error while {doing} on {describe(device)}: {exc}") from None


def find_dfu_interface(device: Any) -> tuple[int, int, DfuFunctional]:
    """(interface number, protocol, functional descriptor) of the device's DFU interface."""
    with usb_errors(device, "reading its descriptors"):
        for config in device:
            for intf in config:
                if intf.bInterfaceClass == DFU_CLASS and intf.bInterfaceSubClass == DFU_SUBCLASS:
                    extra = bytes(intf.extra_descriptors or b"")
                    return (
                        int(intf.bInterfaceNumber),
                        int(intf.bInterfaceProtocol),
                        DfuFunctional.unpack(extra),
                    )
    raise DfuError(f"{describe(device)} has no DFU interface")


class DfuDevice:
    """One DFU interface of a device (run-time or DFU mode). ``sleep`` honours the device's
    bwPollTimeout; tests pass a virtual clock's advance."""

    def __init__(
        self,
        device: Any,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout_ms: int = 2000,
    ) -> None:
        self.device = device
        self.interface, self.protocol, self.functional = find_dfu_interface(device)
        self._sleep = sleep
        self._timeout_ms = timeout_ms

    @property
    def in_dfu_mode(self) -> bool:
        return self.protocol == PROTOCOL_DFU_MODE

    # ------------------------------------------------------------------ requests

    def _out(self, request: Request, value: int, data: bytes | None, doing: str) -> None:
        with usb_errors(self.device, doing):
            self.device.ctrl_transfer(
                OUT, request, value, self.interface, data if data else None, self._timeout_ms
            )

    def _in(self, request: Request, value: int, length: int, doing: str) -> bytes:
        with usb_errors(self.device, doing):
            raw = self.device.ctrl_transfer(IN, request, value, self.interface, length)
        return bytes(raw)

    def detach(self) -> None:
        self._out(Request.DETACH, self.functional.detach_timeout_ms, None, "detaching")

    def download_block(self, block: int, data: bytes) -> None:
        self._out(Request.DNLOAD, block & 0xFFFF, data, f"writing block {block}")

    def upload_block(self, block: int, length: int) -> bytes:
        return self._in(Request.UPLOAD, block & 0xFFFF, length, f"reading block {block}")

    def get_status(self) -> DfuStatus:
        return DfuStatus.unpack(self._in(Request.GETSTATUS, 0, 6, "reading its status"))

    def get_state(self) -> DfuState:
        return DfuState(self._in(Request.GETSTATE, 0, 1, "reading its state")[0])

    def clear_status(self) -> None:
        self._out(Request.CLRSTATUS, 0, None, "clearing its error")

    def abort(self) -> None:
        self._out(Request.ABORT, 0, None, "aborting")

    def reset(self) -> None:
        """USB reset: a manifested bootloader starts the new firmware."""
        try:
            with usb_errors(self.device, "resetting"):
                self.device.reset()
        except UsbDeviceGoneError:
            pass  # the device re-enumerating during the reset is what a reset does

    # ------------------------------------------------------------------ sequences

    def wait_while_busy(self) -> DfuStatus:
        """GETSTATUS, sleeping bwPollTimeout between polls, until not busy."""
        status = self.get_status()
        while status.state in BUSY_STATES:
            self._sleep(status.poll_timeout_ms / 1000)
            status = self.get_status()
        return status

    def _fail(self, status: DfuStatus, doing: str) -> DfuError:
        return DfuError(
            f"the bootloader reported an error while {doing}: {STATUS_TEXT[status.status]} "
            f"(status {status.status.name}, state {status.state.name})"
        )

    def ensure_idle(self) -> DfuStatus:
        """Bring the bootloader to dfuIDLE from wherever a previous session left it
        (dfuERROR after an interrupted update; a half-done download or upload)."""
        status = self.get_status()
        if status.state in BUSY_STATES:
            status = self.wait_while_busy()
        if status.state is DfuState.DFU_ERROR:
            self.clear_status()
        elif status.state in (DfuState.DFU_DNLOAD_IDLE, DfuState.DFU_UPLOAD_IDLE):
            self.abort()
        status = self.get_status()
        if status.state is not DfuState.DFU_IDLE:
            raise DfuError(
                f"the bootloader is in state {status.state.name} and does not return to "
                "dfuIDLE: unplug the pen, plug it back in and try again."
            )
        return status

    def download(self, data: bytes, progress: Progress | None = None) -> None:
        """Write ``data`` in blocks, then manifest (a zero-length DNLOAD)."""
        if not self.functional.can_download:
            raise DfuError("this bootloader does not accept downloads")
        size = self.functional.transfer_size
        total = len(data)
        for block, start in enumerate(range(0, total, size)):
            self.download_block(block, data[start : start + size])
            status = self.wait_while_busy()
            if status.state is not DfuState.DFU_DNLOAD_IDLE or status.status:
                raise self._fail(status, f"writing block {block}")
            if progress is not None:
                progress(min(start + size, total), total)
        self.download_block(total // size + (1 if total % size else 0), b"")
        status = self.wait_while_busy()
        done = (
            (DfuState.DFU_IDLE,)
            if self.functional.manifestation_tolerant
            else (DfuState.DFU_MANIFEST_WAIT_RESET, DfuState.DFU_MANIFEST_SYNC)
        )
        if status.state not in done or status.status:
            raise self._fail(status, "manifesting the new firmware")

    def upload(self, length: int, progress: Progress | None = None) -> bytes:
        """Read the first ``length`` bytes back (from dfuIDLE), then return to dfuIDLE."""
        if not self.functional.can_upload:
            raise DfuError("this bootloader cannot upload, so the write cannot be verified")
        size = self.functional.transfer_size
        out = bytearray()
        block = 0
        while len(out) < length:
            chunk = self.upload_block(block, size)
            out += chunk
            block += 1
            if progress is not None:
                progress(min(len(out), length), length)
            if len(chunk) < size:
                break  # a short block ends the upload: the device is back in dfuIDLE
        else:
            self.abort()
        return bytes(out[:length])
