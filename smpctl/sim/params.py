"""The firmware's parameter table: every READ_PARAM / WRITE_PARAM key with its range.

Out-of-range writes are refused (NAK INVALID_VALUE), not clamped: a configuration value is
deliberate, and silently storing another one would hide a mistake in a calibration tool.
"""

from __future__ import annotations

from typing import NamedTuple

from smpctl.protocol import CalibrationKey, ConfigKey, ParamTable

I32_MAX = 0x7FFF_FFFF


class ParamSpec(NamedTuple):
    default: int
    minimum: int
    maximum: int
    read_only: bool = False

    def accepts(self, value: int) -> bool:
        return self.minimum <= value <= self.maximum


def config_specs(max_speed_chz: int, max_telemetry_hz: int) -> dict[int, ParamSpec]:
    return {
        ConfigKey.WATCHDOG_MS: ParamSpec(250, 200, 500),
        ConfigKey.SLEW_HZ_PER_S: ParamSpec(400, 50, 2000),
        ConfigKey.SPEED_CAP_CHZ: ParamSpec(max_speed_chz, 0, max_speed_chz),
        ConfigKey.TELEMETRY_HZ: ParamSpec(200, 1, max_telemetry_hz),
        ConfigKey.BAUD: ParamSpec(0, 0, I32_MAX, read_only=True),
    }


CALIBRATION_SPECS: dict[int, ParamSpec] = {
    CalibrationKey.SPEED_GAIN_PPM: ParamSpec(1_000_000, 800_000, 1_200_000),
    CalibrationKey.SPEED_OFFSET_CHZ: ParamSpec(0, -1000, 1000),
    CalibrationKey.SPEED_CAL_DAY: ParamSpec(0, 0, I32_MAX),
    CalibrationKey.SPEED_CAL_EXPIRES_DAY: ParamSpec(0, 0, I32_MAX),
    CalibrationKey.DEPTH_GAIN_PPM: ParamSpec(1_000_000, 800_000, 1_200_000),
    CalibrationKey.DEPTH_OFFSET_UM: ParamSpec(0, -500, 500),
    CalibrationKey.DEPTH_CAL_DAY: ParamSpec(0, 0, I32_MAX),
    CalibrationKey.DEPTH_CAL_EXPIRES_DAY: ParamSpec(0, 0, I32_MAX),
}


def key_name(table: int, key: int) -> str | None:
    """The stored name of a key (the enum member name), None if there is no such key."""
    try:
        if table == ParamTable.CONFIG:
            return ConfigKey(key).name
        if table == ParamTable.CALIBRATION:
            return CalibrationKey(key).name
    except ValueError:
        return None
    return None
