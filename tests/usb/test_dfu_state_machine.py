"""The DFU 1.1 host against the simulated bootloader, state by state (USB DFU 1.1,
appendix A), on virtual time."""

from __future__ import annotations

import pytest
import usb.core
from firmware_signing import signed_image

from smpctl.errors import DfuError, UsbDeviceGoneError
from smpctl.protocol import USB_PID_DFU, USB_PID_PEN, USB_VID, CalibrationKey, ParamTable
from smpctl.sim.clock import VirtualClock
from smpctl.usb.dfu import DfuDevice, DfuState, DfuStatusCode
from smpctl.usb.simdev import BLOCK_PROGRAM_MS, TRANSFER_SIZE, SimUsbBus, UsbMode


def _find(bus: SimUsbBus, pid: int) -> usb.core.Device:
    dev = usb.core.find(backend=bus.backend(), idVendor=USB_VID, idProduct=pid)
    assert dev is not None
    return dev


def _bootloader(bus: SimUsbBus, clock: VirtualClock) -> DfuDevice:
    return DfuDevice(_find(bus, USB_PID_DFU), sleep=clock.advance)


def test_detach_brings_the_pen_back_as_its_bootloader(
    usb_bus: SimUsbBus, clock: VirtualClock
) -> None:
    usb_bus.add_pen("SIM00001")
    app = DfuDevice(_find(usb_bus, USB_PID_PEN), sleep=clock.advance)
    assert not app.in_dfu_mode
    assert app.get_state() is DfuState.APP_IDLE
    app.detach()
    assert usb.core.find(backend=usb_bus.backend(), idProduct=USB_PID_PEN) is None
    loader = _bootloader(usb_bus, clock)
    assert loader.in_dfu_mode
    assert loader.device.serial_number == "SIM00001"
    assert loader.functional.transfer_size == TRANSFER_SIZE
    assert loader.functional.manifestation_tolerant and loader.functional.can_upload
    assert loader.get_status().state is DfuState.DFU_IDLE


def test_a_block_goes_through_dnload_sync_dnbusy_and_dnload_idle(
    usb_bus: SimUsbBus, clock: VirtualClock
) -> None:
    usb_bus.add_pen("SIM00002", bootloader=True)
    dfu = _bootloader(usb_bus, clock)
    dfu.download_block(0, b"\x11" * TRANSFER_SIZE)
    assert usb_bus.pen("SIM00002").state is DfuState.DFU_DNLOAD_SYNC
    busy = dfu.get_status()
    assert busy.state is DfuState.DFU_DNBUSY
    assert busy.poll_timeout_ms == BLOCK_PROGRAM_MS
    clock.advance(busy.poll_timeout_ms / 1000)
    assert dfu.get_status().state is DfuState.DFU_DNLOAD_IDLE
    dfu.download_block(1, b"")  # zero length: manifest
    manifesting = dfu.get_status()
    assert manifesting.state is DfuState.DFU_MANIFEST
    clock.advance(manifesting.poll_timeout_ms / 1000)
    assert dfu.get_status().state is DfuState.DFU_IDLE  # manifestation tolerant


def test_a_host_that_ignores_the_poll_timeout_gets_a_stall_and_dfu_error(
    usb_bus: SimUsbBus, clock: VirtualClock
) -> None:
    usb_bus.add_pen("SIM00003", bootloader=True)
    dfu = _bootloader(usb_bus, clock)
    dfu.download_block(0, b"\x22" * 64)
    assert dfu.get_status().state is DfuState.DFU_DNBUSY
    with pytest.raises(DfuError, match="stalled"):
        dfu.get_status()  # no wait
    status = dfu.get_status()
    assert status.state is DfuState.DFU_ERROR
    assert status.status is DfuStatusCode.ERR_STALLEDPKT
    dfu.clear_status()
    assert dfu.get_status().state is DfuState.DFU_IDLE


def test_a_zero_length_download_from_idle_is_an_error(
    usb_bus: SimUsbBus, clock: VirtualClock
) -> None:
    usb_bus.add_pen("SIM00004", bootloader=True)
    dfu = _bootloader(usb_bus, clock)
    with pytest.raises(DfuError):
        dfu.download_block(0, b"")
    assert dfu.get_state() is DfuState.DFU_ERROR
    assert dfu.ensure_idle().state is DfuState.DFU_IDLE


def test_an_out_of_order_block_is_an_address_error(usb_bus: SimUsbBus, clock: VirtualClock) -> None:
    usb_bus.add_pen("SIM00005", bootloader=True)
    dfu = _bootloader(usb_bus, clock)
    dfu.download_block(0, b"\x01" * TRANSFER_SIZE)
    dfu.wait_while_busy()
    with pytest.raises(DfuError):
        dfu.download_block(2, b"\x02" * TRANSFER_SIZE)
    assert dfu.get_status().status is DfuStatusCode.ERR_ADDRESS


def test_download_upload_and_reset_start_the_new_firmware_keeping_the_eeprom(
    usb_bus: SimUsbBus, clock: VirtualClock
) -> None:
    pen = usb_bus.add_pen("SIM00006")
    pen.eeprom.put(ParamTable.CALIBRATION, CalibrationKey.SPEED_GAIN_PPM.name, 1_012_345)
    image = signed_image("1.4.2", size=5000)
    DfuDevice(_find(usb_bus, USB_PID_PEN), sleep=clock.advance).detach()
    dfu = _bootloader(usb_bus, clock)
    seen: list[int] = []
    dfu.download(image, lambda done, total: seen.append(done))
    assert seen[-1] == len(image) and len(seen) == -(-len(image) // TRANSFER_SIZE)
    assert dfu.upload(len(image)) == image
    assert dfu.get_state() is DfuState.DFU_IDLE
    dfu.reset()
    app = _find(usb_bus, USB_PID_PEN)
    assert app.bcdDevice == 0x0142
    assert pen.mode is UsbMode.APPLICATION
    assert pen.eeprom.get(ParamTable.CALIBRATION, "SPEED_GAIN_PPM") == 1_012_345


def test_an_incomplete_image_keeps_the_pen_in_its_bootloader(
    usb_bus: SimUsbBus, clock: VirtualClock
) -> None:
    usb_bus.add_pen("SIM00007", bootloader=True)
    dfu = _bootloader(usb_bus, clock)
    image = signed_image(size=5000)
    dfu.download_block(0, image[:TRANSFER_SIZE])
    dfu.wait_while_busy()
    dfu.abort()
    dfu.reset()
    assert usb.core.find(backend=usb_bus.backend(), idProduct=USB_PID_PEN) is None
    again = _bootloader(usb_bus, clock)
    status = again.get_status()
    assert status.state is DfuState.DFU_ERROR
    assert status.status is DfuStatusCode.ERR_FIRMWARE
    assert again.ensure_idle().state is DfuState.DFU_IDLE


def test_a_pulled_cable_fails_every_request_until_replugged(
    usb_bus: SimUsbBus, clock: VirtualClock
) -> None:
    pen = usb_bus.add_pen("SIM00008", bootloader=True)
    pen.faults.pull_cable_at_block = 2
    dfu = _bootloader(usb_bus, clock)
    with pytest.raises(UsbDeviceGoneError, match="stays in its bootloader"):
        dfu.download(signed_image(size=5000))
    with pytest.raises(UsbDeviceGoneError):
        dfu.get_status()
    assert list(usb.core.find(find_all=True, backend=usb_bus.backend())) == []
    pen.replug()
    assert _bootloader(usb_bus, clock).get_status().status is DfuStatusCode.ERR_FIRMWARE


def test_a_corrupted_block_is_caught_by_reading_back(
    usb_bus: SimUsbBus, clock: VirtualClock
) -> None:
    pen = usb_bus.add_pen("SIM00009", bootloader=True)
    pen.faults.corrupt_block = 3
    dfu = _bootloader(usb_bus, clock)
    image = signed_image(size=6000)
    dfu.download(image)
    back = dfu.upload(len(image))
    differing = [i for i, (a, b) in enumerate(zip(back, image, strict=True)) if a != b]
    assert len(differing) == 1 and differing[0] // TRANSFER_SIZE == 3
