"""The fields every client record checks the same way: its zone and its day."""

from __future__ import annotations

import datetime as dt

from smpctl.errors import RecordDayError, UnknownZoneError
from smpctl.zones import ZoneCode


def parse_zone(text: str) -> ZoneCode:
    """A zone code as typed (``hl``, `` CRN``); an overlay or unknown code is refused."""
    try:
        return ZoneCode(text.strip().upper())
    except ValueError:
        raise UnknownZoneError(
            f"unknown zone {text!r}: use one of {', '.join(z.value for z in ZoneCode)} "
            "(a scar is an overlay on one of them, not a zone)."
        ) from None


def check_not_future(day: dt.date, today: dt.date, what: str) -> None:
    if day > today:
        raise RecordDayError(
            f"{what} {day.isoformat()} is in the future (today is {today.isoformat()}): "
            "record it on or after the day it happens. Nothing was recorded."
        )
