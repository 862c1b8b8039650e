"""Configuration and calibration survive a reboot in the EEPROM file."""

from __future__ import annotations

import json

from smpctl.protocol import (
    CalibrationKey,
    ConfigKey,
    EventKind,
    Nak,
    NakCode,
    ParamTable,
    ReadParam,
    SimAction,
    SimControl,
    Status,
    WriteParam,
)
from smpctl.sim.eeprom import Eeprom


def test_calibration_is_persisted_in_the_eeprom_file_across_a_reboot(host_factory, tmp_path):
    path = tmp_path / "pen.json"
    host = host_factory(eeprom=path)
    host.hello()
    host.ok(WriteParam(ParamTable.CALIBRATION, CalibrationKey.SPEED_GAIN_PPM, 985_000))
    host.ok(WriteParam(ParamTable.CALIBRATION, CalibrationKey.SPEED_CAL_DAY, 20_000))
    host.ok(WriteParam(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS, 400))
    stored = json.loads(path.read_text())
    assert stored["calibration"]["SPEED_GAIN_PPM"] == 985_000
    assert stored["config"]["WATCHDOG_MS"] == 400

    host.ok(SimControl(SimAction.LINK_DROP_MS, 100))
    host.run(0.2)
    assert host.pen.link_up
    reply = host.hello()
    assert reply.watchdog_ms == 400
    value = host.command(ReadParam(ParamTable.CALIBRATION, CalibrationKey.SPEED_GAIN_PPM))
    assert value.value == 985_000
    host.run(0.02)
    assert host.last_telemetry().status & Status.CALIBRATED
    assert host.events(EventKind.BOOT)[-1].value == 2


def test_a_new_pen_on_the_same_file_reads_the_stored_values(host_factory, tmp_path):
    path = tmp_path / "pen.json"
    first = host_factory(eeprom=path)
    first.hello()
    first.ok(WriteParam(ParamTable.CALIBRATION, CalibrationKey.DEPTH_OFFSET_UM, -30))
    second = host_factory(eeprom=path)
    second.hello()
    reply = second.command(ReadParam(ParamTable.CALIBRATION, CalibrationKey.DEPTH_OFFSET_UM))
    assert reply.value == -30
    second.run(0.01)
    assert second.events(EventKind.BOOT)[0].value == 2  # the boot counter is stored too


def test_unwritable_eeprom_naks_storage_error_and_keeps_the_old_value(host_factory, tmp_path):
    path = tmp_path / "missing-dir" / "pen.json"
    host = host_factory(eeprom=path)
    host.hello()
    nak = host.command(WriteParam(ParamTable.CONFIG, ConfigKey.SLEW_HZ_PER_S, 800))
    assert isinstance(nak, Nak) and nak.code == NakCode.STORAGE_ERROR
    assert host.command(ReadParam(ParamTable.CONFIG, ConfigKey.SLEW_HZ_PER_S)).value == 400


def test_damaged_eeprom_file_boots_on_defaults(tmp_path):
    path = tmp_path / "pen.json"
    path.write_text("{not json")
    eeprom = Eeprom(path)
    assert eeprom.damaged is not None
    assert eeprom.get(ParamTable.CONFIG, "WATCHDOG_MS") is None
    eeprom.put(ParamTable.CONFIG, "WATCHDOG_MS", 250)
    assert Eeprom(path).get(ParamTable.CONFIG, "WATCHDOG_MS") == 250


def test_in_memory_eeprom_writes_no_file(host, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    host.hello()
    host.ok(WriteParam(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS, 250))
    assert list(tmp_path.iterdir()) == []
