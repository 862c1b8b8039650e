"""The pen over USB: finding pens and bootloaders, signed firmware images, DFU 1.1.

The protocol (smpctl.client) is how smpctl drives a pen; USB is only how it finds one that
is not talking (no serial port, or in its bootloader) and how it updates the firmware.
``simdev`` is a pyusb backend of our own, so all of this runs without hardware.
"""

from __future__ import annotations

from .devices import UsbPen, default_backend, find_pens, match_port, wait_for_pen
from .dfu import DfuDevice, DfuState, DfuStatus, DfuStatusCode
from .flash import FirmwareUpdate, FlashReport
from .image import FirmwareImage, FirmwareVersion, build_image, parse_image, read_image
from .keys import TRUSTED_KEYS, TrustedKey
from .listing import DeviceListing, list_devices
from .permissions import permission_advice, udev_install_commands
from .simdev import SimUsbBackend, SimUsbBus, SimUsbPen

__all__ = [
    "TRUSTED_KEYS",
    "DeviceListing",
    "DfuDevice",
    "DfuState",
    "DfuStatus",
    "DfuStatusCode",
    "FirmwareImage",
    "FirmwareUpdate",
    "FirmwareVersion",
    "FlashReport",
    "SimUsbBackend",
    "SimUsbBus",
    "SimUsbPen",
    "TrustedKey",
    "UsbPen",
    "build_image",
    "default_backend",
    "find_pens",
    "list_devices",
    "match_port",
    "parse_image",
    "permission_advice",
    "read_image",
    "udev_install_commands",
    "wait_for_pen",
]
