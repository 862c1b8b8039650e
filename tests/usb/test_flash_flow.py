"""Whole firmware updates: the protocol pen (sim://) and its USB face (the simulated DFU
device) as one pen, in real time (an update takes a fraction of a second)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from firmware_signing import signed_image

import smpctl.sim as sim
from smpctl.client import connect
from smpctl.errors import (
    DowngradeRefusedError,
    FirmwareVerifyError,
    ImageSignatureError,
    LinkError,
    UsbDeviceGoneError,
    WrongModelError,
)
from smpctl.protocol import CalibrationKey, ConfigKey
from smpctl.usb.flash import FirmwareUpdate, FlashReport
from smpctl.usb.image import parse_image
from smpctl.usb.simdev import SimUsbBus, SimUsbPen, UsbMode

CALIBRATED = {CalibrationKey.SPEED_GAIN_PPM: 1_010_000, CalibrationKey.SPEED_CAL_DAY: 20_100}
CONFIGURED = {ConfigKey.WATCHDOG_MS: 300}


@dataclass
class LinkedPen:
    url: str
    name: str
    usb: SimUsbBus
    pen: SimUsbPen
    backups: Path

    def update(self, version: str = "1.1.0", **options: object) -> FirmwareUpdate:
        return FirmwareUpdate(
            image=parse_image(signed_image(version)),
            backend=self.usb.backend(),
            backup_dir=self.backups,
            pen_url=self.url,
            simulated=True,
            device_timeout_s=5.0,
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
def linked(sim_name: str, tmp_path: Path) -> LinkedPen:
    """A calibrated simulated pen, with its USB face on a fresh simulated USB bus."""
    url = f"sim://{sim_name}?serial=SIMFW001&eeprom={tmp_path / 'eeprom.json'}"
    with connect(url) as pen:  # powers a pen on; closing powers it off, the EEPROM file stays
        for key, value in CALIBRATED.items():
            pen.write_calibration(key, value)
        for ckey, cvalue in CONFIGURED.items():
            pen.write_config(ckey, cvalue)
    parsed = sim.parse_sim_url(url)
    sim.BUS.power_on(parsed.name, parsed.options, parsed.realtime)
    bus = SimUsbBus()
    return LinkedPen(url, sim_name, bus, bus.link(sim_name), tmp_path / "backups")


def _assert_settings_kept(report: FlashReport) -> None:
    assert report.settings_after is not None and report.settings_before is not None
    for key, value in CALIBRATED.items():
        assert report.settings_after.calibration[key.name] == value
    for ckey, cvalue in CONFIGURED.items():
        assert report.settings_after.config[ckey.name] == cvalue
    assert report.settings_before.differences(report.settings_after) == []


def test_a_full_update_writes_verifies_restarts_and_keeps_the_settings(
    linked: LinkedPen,
) -> None:
    stages: list[str] = []
    report = linked.update(progress=lambda stage, done, total: stages.append(stage)).run()
    assert report.verified and report.restarted
    assert report.previous_firmware == "1.0.0" and report.new_firmware == "1.1.0"
    assert report.blocks == 9 and report.bytes_written == len(signed_image("1.1.0"))
    assert stages.count("write") == 9 and "verify" in stages
    _assert_settings_kept(report)
    assert report.backup is not None and report.backup.is_file()
    assert linked.pen.mode is UsbMode.APPLICATION
    assert str(linked.pen.installed_version) == "1.1.0"
    assert report.as_dict()["settings_preserved"] is True


def test_a_downgrade_is_refused_before_the_pen_leaves_its_application(
    linked: LinkedPen,
) -> None:
    with pytest.raises(DowngradeRefusedError):
        linked.update("0.9.0").run()
    assert linked.pen.mode is UsbMode.APPLICATION
    assert linked.pen.blocks_programmed == 0
    report = linked.update("0.9.0", allow_downgrade=True).run()
    assert report.downgrade and report.new_firmware == "0.9.0"


def test_an_image_for_another_model_is_refused_before_anything_is_written(
    linked: LinkedPen,
) -> None:
    update = linked.update()
    update.image = parse_image(signed_image(model="SMP-Pro R2"))
    with pytest.raises(WrongModelError):
        update.run()
    assert linked.pen.mode is UsbMode.APPLICATION and linked.pen.blocks_programmed == 0


def test_the_simulator_key_cannot_update_a_real_pen(linked: LinkedPen) -> None:
    update = linked.update()
    update.simulated = False
    with pytest.raises(ImageSignatureError, match="simulated pen only"):
        update.run()
    assert linked.pen.blocks_programmed == 0


def test_a_cable_pulled_mid_write_leaves_the_pen_in_its_bootloader_and_a_second_run_succeeds(
    linked: LinkedPen,
) -> None:
    linked.pen.faults.pull_cable_at_block = 4
    with pytest.raises(UsbDeviceGoneError, match="stays in its bootloader"):
        linked.update().run()
    linked.pen.replug()
    assert linked.pen.mode is UsbMode.BOOTLOADER
    with pytest.raises(LinkError):  # no application answers the protocol
        connect(linked.url, auto_reconnect=False)

    report = linked.update().run()
    assert report.verified and report.restarted and report.new_firmware == "1.1.0"
    assert report.previous_firmware is None  # nothing intact was installed
    assert any("interrupted" in note for note in report.notes)
    _assert_settings_kept(report)  # against the copy saved by the first run


def test_a_corrupted_block_fails_verify_and_the_pen_is_not_restarted(
    linked: LinkedPen,
) -> None:
    linked.pen.faults.corrupt_block = 2
    with pytest.raises(FirmwareVerifyError, match="block 2"):
        linked.update().run()
    assert linked.pen.mode is UsbMode.BOOTLOADER
    report = linked.update().run()
    assert report.verified and report.new_firmware == "1.1.0"
    _assert_settings_kept(report)


def test_a_pen_known_only_on_usb_is_detached_flashed_and_restarted(tmp_path: Path) -> None:
    bus = SimUsbBus()
    pen = bus.add_pen("SIMUSB01")
    report = FirmwareUpdate(
        image=parse_image(signed_image("1.2.0")),
        backend=bus.backend(),
        backup_dir=tmp_path,
        usb_serial="SIMUSB01",
        simulated=True,
        device_timeout_s=2.0,
    ).run()
    assert report.restarted and report.previous_firmware == "1.0.0"
    assert str(pen.installed_version) == "1.2.0" and pen.mode is UsbMode.APPLICATION
    assert any("could not be read over USB" in n for n in report.notes)
