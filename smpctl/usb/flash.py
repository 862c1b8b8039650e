"""A firmware update from start to finish, in the order that keeps a pen recoverable.

Everything that can refuse (signature, model, downgrade) is checked before the pen leaves
its application; settings are saved to disk before its flash is touched; the new image is
read back before the bootloader is asked to start it; and the settings are compared after.
An update cut short leaves the pen in its bootloader (it only starts an intact image), where
the next run finds it and finishes the job.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import usb.util

from smpctl.client import Pen, connect
from smpctl.discovery import list_ports
from smpctl.errors import (
    FirmwareImageError,
    FirmwareVerifyError,
    LinkError,
    PenNotFoundError,
    PenTimeoutError,
    SettingsLostError,
)

from .devices import UsbPen, find_pens, match_port, require_access, wait_for_pen
from .dfu import DfuDevice
from .image import (
    HEADER_SIZE,
    MAX_PAYLOAD,
    FirmwareImage,
    FirmwareVersion,
    image_is_intact,
    parse_header,
)
from .keys import TRUSTED_KEYS, TrustedKey
from .settings import PenSettings, load_backup, read_settings, save_backup

Progress = Callable[[str, int, int], None]
"""(stage "write" | "verify", bytes done, bytes total)."""
Log = Callable[[str], None]


def _connect(url: str) -> Pen:
    # no background reconnects: the pen is meant to leave, and to come back rebooted
    return connect(url, auto_reconnect=False)


@dataclass
class FlashReport:
    simulated: bool
    image: FirmwareImage
    signed_by: str
    serial: str | None = None
    model: str | None = None
    previous_firmware: str | None = None
    new_firmware: str | None = None
    downgrade: bool = False
    bytes_written: int = 0
    blocks: int = 0
    verified: bool = False
    restarted: bool = False
    settings_before: PenSettings | None = None
    settings_after: PenSettings | None = None
    backup: Path | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "simulated": self.simulated,
            "serial": self.serial,
            "model": self.model,
            "image": self.image.as_dict(),
            "signed_by": self.signed_by,
            "previous_firmware": self.previous_firmware,
            "new_firmware": self.new_firmware,
            "downgrade": self.downgrade,
            "bytes_written": self.bytes_written,
            "blocks": self.blocks,
            "verified": self.verified,
            "restarted": self.restarted,
            "settings_preserved": (
                self.settings_after is not None and self.settings_before is not None
            ),
            "settings": self.settings_after.as_dict() if self.settings_after else None,
            "backup": str(self.backup) if self.backup else None,
            "notes": self.notes,
        }


@dataclass
class FirmwareUpdate:
    """One update. ``pen_url`` is the pen's protocol port (None: a pen found on USB only,
    by ``usb_serial`` or alone on the bus); ``backend`` the pyusb backend to look on."""

    image: FirmwareImage
    backend: Any
    backup_dir: Path
    pen_url: str | None = None
    usb_serial: str | None = None
    allow_downgrade: bool = False
    simulated: bool = False
    keys: tuple[TrustedKey, ...] = TRUSTED_KEYS
    open_pen: Callable[[str], Pen] = _connect
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    progress: Progress | None = None
    log: Log | None = None
    device_timeout_s: float = 10.0

    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log(text)

    def run(self) -> FlashReport:
        key = self.image.verify_signature(simulated_pen=self.simulated, keys=self.keys)
        report = FlashReport(self.simulated, self.image, key.name)
        self._say(
            f"image: {self.image.model} firmware {self.image.version}, "
            f"{len(self.image.payload)} bytes, signed by {key.name}"
        )
        serial = self.usb_serial
        if self.pen_url is not None:
            serial = self._leave_application(report) or serial
        loader = self._find_bootloader(serial, report)
        report.serial = loader.serial
        dfu = DfuDevice(loader.device, sleep=self.sleep)
        try:
            dfu.ensure_idle()
            if report.previous_firmware is None:
                self._check_installed(dfu, loader, report)
            if report.settings_before is None and loader.serial:
                report.settings_before = load_backup(self.backup_dir, loader.serial)
                if report.settings_before is not None:
                    report.notes.append(
                        "settings read before an earlier, interrupted update are the reference"
                    )
            self._write_and_verify(dfu, report)
            self._say("restarting the pen")
            dfu.reset()
        finally:
            usb.util.dispose_resources(loader.device)
        self._after_restart(report)
        return report

    # ------------------------------------------------------------------ before

    def _leave_application(self, report: FlashReport) -> str | None:
        """Connect, check, save the settings, REBOOT_BOOTLOADER. The pen's serial, or None
        when no pen answers (it may already be in its bootloader)."""
        assert self.pen_url is not None
        try:
            pen = self.open_pen(self.pen_url)
        except (LinkError, PenTimeoutError) as exc:
            self._say(f"no pen answers on {self.pen_url} ({exc}); looking for its bootloader")
            report.notes.append(f"no pen answered on {self.pen_url}: flashed from its bootloader")
            return None
        with pen:
            identity = pen.identity
            report.serial, report.model = identity.serial, identity.model
            report.previous_firmware = identity.firmware
            self._say(
                f"pen {identity.model} serial {identity.serial}, firmware {identity.firmware}"
            )
            self.image.check_model(identity.model)
            try:
                installed = FirmwareVersion.parse(identity.firmware)
            except ValueError:
                installed = None
            if installed is not None:
                report.downgrade = self.image.check_not_downgrade(
                    installed, allow=self.allow_downgrade
                )
            settings = read_settings(pen)
            report.settings_before = settings
            report.backup = save_backup(self.backup_dir, settings)
            self._say(f"configuration and calibration saved to {report.backup}")
            self._say("asking the pen to restart in its bootloader")
            # the pen may leave before its ACK gets through: its bootloader shows anyway
            with contextlib.suppress(LinkError, PenTimeoutError):
                pen.reboot_bootloader()
        return identity.serial

    def _find_bootloader(self, serial: str | None, report: FlashReport) -> UsbPen:
        pens = find_pens(self.backend)
        app = [p for p in pens if not p.bootloader and (serial is None or p.serial == serial)]
        loaders = [p for p in pens if p.bootloader and (serial is None or p.serial == serial)]
        if not loaders and app and report.settings_before is None:
            # a pen known only on USB: its DFU run-time interface takes it to the bootloader
            target = app[0] if len(app) == 1 else None
            if target is None:
                raise PenNotFoundError("several pens are attached: name one with --port usb:SERIAL")
            require_access(target)
            self._say(f"pen {target.serial} found on USB: detaching it to its bootloader")
            report.notes.append("configuration and calibration could not be read over USB")
            DfuDevice(target.device, sleep=self.sleep).detach()
            usb.util.dispose_resources(target.device)
            serial = target.serial
        loader = wait_for_pen(
            self.backend,
            serial=serial,
            bootloader=True,
            timeout_s=self.device_timeout_s,
            clock=self.clock,
            sleep=self.sleep,
        )
        self._say(f"bootloader found: serial {loader.serial}, {loader.location}")
        return loader

    def _check_installed(self, dfu: DfuDevice, loader: UsbPen, report: FlashReport) -> None:
        """No protocol answer: what the bootloader holds says the model and version."""
        head = dfu.upload(HEADER_SIZE)
        try:
            model, version, length, *_ = parse_header(head)
        except FirmwareImageError:
            model, version, length = None, None, 0
        intact = (
            model is not None
            and length <= MAX_PAYLOAD
            and image_is_intact(dfu.upload(HEADER_SIZE + length))
        )
        report.model = model or loader.product
        if report.model is not None:
            self.image.check_model(report.model)
        if intact and version is not None:
            report.previous_firmware = str(version)
            report.downgrade = self.image.check_not_downgrade(version, allow=self.allow_downgrade)
        else:
            report.notes.append(
                "the pen holds no intact firmware (an earlier update was interrupted): "
                "downgrade check skipped"
            )
            self._say("the pen holds no intact firmware: recovering it")

    # ------------------------------------------------------------------ the write

    def _write_and_verify(self, dfu: DfuDevice, report: FlashReport) -> None:
        data = self.image.data
        size = dfu.functional.transfer_size

        def written(done: int, total: int) -> None:
            report.bytes_written = done
            report.blocks = -(-done // size)
            if self.progress is not None:
                self.progress("write", done, total)

        def verified(done: int, total: int) -> None:
            if self.progress is not None:
                self.progress("verify", done, total)

        self._say(f"writing {len(data)} bytes in blocks of {size}")
        dfu.download(data, written)
        back = dfu.upload(len(data), verified)
        if back != data:
            at = next(
                (i for i, (a, b) in enumerate(zip(back, data, strict=False)) if a != b),
                min(len(back), len(data)),
            )
            raise FirmwareVerifyError(
                f"verify failed: the pen's memory differs from the image at byte {at} "
                f"(block {at // size}). The pen was not restarted and stays in its "
                "bootloader; run the update again (if it fails the same way, the pen's "
                "flash memory needs service)."
            )
        report.verified = True
        self._say("verified: the pen's memory matches the image")

    # ------------------------------------------------------------------ after

    def _after_restart(self, report: FlashReport) -> None:
        try:
            app = wait_for_pen(
                self.backend,
                serial=report.serial,
                bootloader=False,
                timeout_s=self.device_timeout_s,
                clock=self.clock,
                sleep=self.sleep,
            )
        except PenNotFoundError:
            raise PenNotFoundError(
                "the pen did not start its new firmware: it is still in its bootloader "
                "(or unplugged). Run the update again."
            ) from None
        report.restarted = True
        if app.release not in ("0.0.0", str(self.image.version)):
            raise FirmwareVerifyError(
                f"the pen restarted with firmware {app.release} on USB, not "
                f"{self.image.version}: run the update again."
            )
        report.new_firmware = str(self.image.version)
        url = self.pen_url or self._port_of(app)
        if url is None:
            report.notes.append(
                "no serial port found for the pen: configuration and calibration not checked"
            )
            return
        pen = self._reconnect(url)
        with pen:
            report.settings_after = read_settings(pen)
            reported = pen.identity.firmware
        if reported != str(self.image.version):
            raise FirmwareVerifyError(
                f"the pen reports firmware {reported} after the update, not "
                f"{self.image.version}: run the update again."
            )
        before = report.settings_before
        if before is None:
            report.notes.append("no settings from before the update to compare with")
            return
        changes = before.differences(report.settings_after)
        if changes:
            where = f" A copy from before is in {report.backup}." if report.backup else ""
            raise SettingsLostError(
                "the firmware is updated but configuration or calibration changed: "
                + "; ".join(changes)
                + f".{where} Write the old values back, or recalibrate the pen."
            )
        self._say("configuration and calibration are as before the update")

    def _port_of(self, app: UsbPen) -> str | None:
        port = match_port(app, list_ports())
        return port.device if port is not None else None

    def _reconnect(self, url: str) -> Pen:
        deadline = self.clock() + self.device_timeout_s
        while True:
            try:
                return self.open_pen(url)
            except (LinkError, PenTimeoutError):
                if self.clock() >= deadline:
                    raise
                self.sleep(0.1)
