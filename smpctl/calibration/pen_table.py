"""The pen's CALIBRATION table (docs/protocol.md, section 13): reading the correction in
force, and writing a new one all or nothing.

A pen range-checks each WRITE_PARAM and refuses (never clamps) a value outside its range,
so a correction is checked against the same ranges before anything is sent. If a write is
refused part way, the values written so far are put back: a pen never keeps half a
calibration (a new gain with the old offset would be wrong at every speed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from smpctl.client import Pen
from smpctl.errors import SmpctlError
from smpctl.protocol import CalibrationKey

EPOCH = dt.date(1970, 1, 1)
PPM = 1_000_000

GAIN_PPM_RANGE = (800_000, 1_200_000)
SPEED_OFFSET_CHZ_RANGE = (-1000, 1000)
DEPTH_OFFSET_UM_RANGE = (-500, 500)

SPEED_KEYS = (
    CalibrationKey.SPEED_GAIN_PPM,
    CalibrationKey.SPEED_OFFSET_CHZ,
    CalibrationKey.SPEED_CAL_DAY,
    CalibrationKey.SPEED_CAL_EXPIRES_DAY,
)
DEPTH_KEYS = (
    CalibrationKey.DEPTH_GAIN_PPM,
    CalibrationKey.DEPTH_OFFSET_UM,
    CalibrationKey.DEPTH_CAL_DAY,
    CalibrationKey.DEPTH_CAL_EXPIRES_DAY,
)


def day_number(day: dt.date) -> int:
    """Whole days since 1970-01-01, as the pen stores dates."""
    return (day - EPOCH).days


def day_of(number: int) -> dt.date | None:
    return EPOCH + dt.timedelta(days=number) if number > 0 else None


@dataclass(frozen=True)
class Correction:
    """``reported = raw * gain_ppm / 10^6 + offset``, in the pen's stored units (offset in
    0.01 Hz for speed, µm for depth)."""

    gain_ppm: int = PPM
    offset: int = 0

    @property
    def gain(self) -> float:
        return self.gain_ppm / PPM

    def raw(self, reported: float, unit: float) -> float:
        """The sensor's own value behind a reported one; ``unit`` is the offset's size in
        the reported unit (0.01 for a speed in Hz, 0.001 for a depth in mm)."""
        return (reported - self.offset * unit) / self.gain

    def apply(self, raw: float, unit: float) -> float:
        return raw * self.gain + self.offset * unit

    def problem(self, offset_range: tuple[int, int], offset_unit: str) -> str | None:
        """Why the pen cannot store this correction, or None."""
        lo, hi = GAIN_PPM_RANGE
        if not lo <= self.gain_ppm <= hi:
            return (
                f"the gain ×{self.gain:.4f} is outside what the pen stores "
                f"(×{lo / PPM:g} … ×{hi / PPM:g})"
            )
        lo, hi = offset_range
        if not lo <= self.offset <= hi:
            return (
                f"the offset {self.offset} {offset_unit} is outside what the pen stores "
                f"({lo} … {hi} {offset_unit})"
            )
        return None


def read_values(pen: Pen, keys: tuple[CalibrationKey, ...]) -> dict[CalibrationKey, int]:
    return {key: pen.read_calibration(key) for key in keys}


def speed_in_force(pen: Pen) -> Correction:
    return Correction(
        pen.read_calibration(CalibrationKey.SPEED_GAIN_PPM),
        pen.read_calibration(CalibrationKey.SPEED_OFFSET_CHZ),
    )


def depth_in_force(pen: Pen) -> Correction:
    return Correction(
        pen.read_calibration(CalibrationKey.DEPTH_GAIN_PPM),
        pen.read_calibration(CalibrationKey.DEPTH_OFFSET_UM),
    )


def write_values(pen: Pen, values: Mapping[CalibrationKey, int]) -> dict[CalibrationKey, int]:
    """Write ``values`` (motor stopped); returns the values they replaced. On a refusal the
    keys already written are restored and the error is raised."""
    before = read_values(pen, tuple(values))
    written: list[CalibrationKey] = []
    try:
        for key, value in values.items():
            pen.write_calibration(key, value)
            written.append(key)
    except SmpctlError:
        restore_values(pen, {k: before[k] for k in written})
        raise
    return before


def restore_values(pen: Pen, values: Mapping[CalibrationKey, int]) -> None:
    """Best effort: put ``values`` back (used only on the way out of a failure)."""
    for key, value in values.items():
        with contextlib.suppress(SmpctlError):
            pen.write_calibration(key, value)


def calibration_values(
    keys: tuple[CalibrationKey, ...], correction: Correction, day: dt.date, expires: dt.date
) -> dict[CalibrationKey, int]:
    """The four keys of one calibration (gain, offset, day, expiry day), in write order."""
    gain, offset, day_key, expires_key = keys
    return {
        gain: correction.gain_ppm,
        offset: correction.offset,
        day_key: day_number(day),
        expires_key: day_number(expires),
    }
