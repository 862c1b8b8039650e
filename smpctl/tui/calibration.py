"""The pen's calibration as the dashboard needs it: is it there, and is it still valid.

The pen stores calibration dates as days since 1970 (docs/protocol.md, CALIBRATION table);
a speed or depth the dashboard shows is only as true as that calibration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from smpctl.client import Pen
from smpctl.protocol import CalibrationKey

EPOCH = dt.date(1970, 1, 1)


def _day(value: int) -> dt.date | None:
    return EPOCH + dt.timedelta(days=value) if value > 0 else None


@dataclass(frozen=True)
class Calibration:
    speed_on: dt.date | None
    speed_expires: dt.date | None
    depth_on: dt.date | None
    depth_expires: dt.date | None

    def problem(self, today: dt.date, *, simulated: bool) -> str | None:
        """Why the needle may not run on this calibration, or None.

        A simulated pen without calibration is allowed (there is nothing to calibrate);
        an expired calibration is refused on any pen.
        """
        for what, on, expires in (
            ("speed", self.speed_on, self.speed_expires),
            ("depth", self.depth_on, self.depth_expires),
        ):
            if on is None:
                if not simulated:
                    return (
                        f"the pen has no {what} calibration: run tools/calibrate_{what}.py "
                        "before treating"
                    )
                continue
            if expires is not None and expires < today:
                return (
                    f"the pen's {what} calibration expired on {expires.isoformat()}: "
                    f"run tools/calibrate_{what}.py"
                )
        return None

    def describe(self) -> str:
        def one(what: str, on: dt.date | None, expires: dt.date | None) -> str:
            if on is None:
                return f"{what}: never calibrated"
            until = f", valid until {expires.isoformat()}" if expires else ""
            return f"{what}: {on.isoformat()}{until}"

        return "; ".join(
            (
                one("speed", self.speed_on, self.speed_expires),
                one("depth", self.depth_on, self.depth_expires),
            )
        )


def read_calibration(pen: Pen) -> Calibration:
    return Calibration(
        speed_on=_day(pen.read_calibration(CalibrationKey.SPEED_CAL_DAY)),
        speed_expires=_day(pen.read_calibration(CalibrationKey.SPEED_CAL_EXPIRES_DAY)),
        depth_on=_day(pen.read_calibration(CalibrationKey.DEPTH_CAL_DAY)),
        depth_expires=_day(pen.read_calibration(CalibrationKey.DEPTH_CAL_EXPIRES_DAY)),
    )
