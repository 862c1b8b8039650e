"""Hair measurements per client, zone and day: terminal and vellus hairs per cm² from a
trichoscope count, and/or a rating from standard photographs on a named scale, with the
photo stored by reference.

A measurement is refused, with nothing written, when it cannot be true: no figure at all,
a negative or impossible count, an unknown zone or client, a photo that is not there, a
day in the future or before the client's first session. A measurement taken on the day
of a session counts as taken before that session's needle (a baseline is measured first).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smpctl.errors import ClientRecordError, RecordDayError
from smpctl.journal import Insert, Journal

from .client_ref import ClientRef, first_session_day
from .photos import PhotoCheck, check_photo, reference_photo
from .record_fields import check_not_future, parse_zone

METHODS = ("trichoscope", "photo")
"""How the figures were taken: a trichoscope count, or standard photographs."""

MAX_HAIRS_PER_CM2 = 1000.0
"""No scalp comes near this (a dense one holds a few hundred hairs per cm²): a larger
figure is a typing or unit error (per field of view instead of per cm²)."""


@dataclass(frozen=True)
class HairMeasurement:
    uid: str
    client_uid: str
    zone: str
    day: dt.date
    terminal_per_cm2: float | None
    vellus_per_cm2: float | None
    rating: float | None
    rating_scale: str | None
    method: str | None
    note: str | None
    photo_path: str | None
    photo_sha256: str | None
    photo: PhotoCheck | None
    """The photo hashed again when read; None without a photo, or when not checked."""
    recorded_wall: float

    @property
    def counted(self) -> bool:
        return self.terminal_per_cm2 is not None

    def as_dict(self) -> dict[str, Any]:
        photo: dict[str, Any] | None = None
        if self.photo is not None:
            photo = self.photo.as_dict()
        elif self.photo_path is not None:
            photo = {"path": self.photo_path, "sha256": self.photo_sha256, "state": None}
        return {
            "id": self.uid,
            "zone": self.zone,
            "day": self.day.isoformat(),
            "terminal_per_cm2": self.terminal_per_cm2,
            "vellus_per_cm2": self.vellus_per_cm2,
            "rating": self.rating,
            "rating_scale": self.rating_scale,
            "method": self.method,
            "note": self.note,
            "photo": photo,
        }


def _count(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value):
        raise ClientRecordError(f"{name} {value} is not a number. Nothing was recorded.")
    if value < 0:
        raise ClientRecordError(
            f"{name} {value:g} is negative: enter the hairs counted per cm² (0 or more). "
            "Nothing was recorded."
        )
    if value > MAX_HAIRS_PER_CM2:
        raise ClientRecordError(
            f"{name} {value:g} per cm² is more than any scalp holds (< {MAX_HAIRS_PER_CM2:g}): "
            "enter the count per cm², not per field of view. Nothing was recorded."
        )
    return float(value)


def _rating(rating: float | None, scale: str | None) -> tuple[float | None, str | None]:
    scale = (scale or "").strip() or None
    if rating is None:
        if scale is not None:
            raise ClientRecordError(
                f"--scale {scale!r} without --rating: give the rating read on that scale. "
                "Nothing was recorded."
            )
        return None, None
    if not math.isfinite(rating):
        raise ClientRecordError(f"rating {rating} is not a number. Nothing was recorded.")
    if scale is None:
        raise ClientRecordError(
            "a rating needs its scale (--scale, e.g. 'Norwood' or '7-point global photo'): a "
            "number alone cannot be compared later. Nothing was recorded."
        )
    return float(rating), scale


def record_outcome(
    journal: Journal,
    client: ClientRef,
    *,
    zone: str,
    day: dt.date,
    today: dt.date,
    terminal_per_cm2: float | None = None,
    vellus_per_cm2: float | None = None,
    rating: float | None = None,
    rating_scale: str | None = None,
    photo: str | os.PathLike[str] | None = None,
    method: str | None = None,
    note: str | None = None,
) -> str:
    """Check everything, then write the measurement in one record; its uid."""
    code = parse_zone(zone)
    terminal = _count("terminal hairs", terminal_per_cm2)
    vellus = _count("vellus hairs", vellus_per_cm2)
    rated, scale = _rating(rating, rating_scale)
    if terminal is None and vellus is None and rated is None:
        raise ClientRecordError(
            "no measurement given: add --terminal and/or --vellus (hairs per cm² from a "
            "trichoscope count), or --rating with --scale (from standard photographs); a "
            "photo alone is not a measurement. Nothing was recorded."
        )
    if method is None:
        method = "trichoscope" if terminal is not None or vellus is not None else "photo"
    if method not in METHODS:
        raise ClientRecordError(
            f"unknown method {method!r}: use {' or '.join(METHODS)}. Nothing was recorded."
        )
    check_not_future(day, today, "the measurement day")
    first = None if client.new else first_session_day(journal, client.uid)
    if first is None:
        raise RecordDayError(
            f"client {client.pseudonym} has no session recorded yet: an outcome is recorded "
            "from the day of the first session on (a baseline is measured that day, before "
            "the needle). Nothing was recorded."
        )
    if day < first:
        raise RecordDayError(
            f"{day.isoformat()} is before client {client.pseudonym}'s first session "
            f"({first.isoformat()}): record a baseline on the day of the first session, "
            "before the needle. Nothing was recorded."
        )
    ref = reference_photo(photo) if photo is not None else None
    uid = journal.store.new_uid()
    journal.store.write(
        [
            Insert(
                "outcomes",
                {
                    "uid": uid,
                    "client_uid": client.uid,
                    "zone": code.value,
                    "measured_day": day.isoformat(),
                    "terminal_per_cm2": terminal,
                    "vellus_per_cm2": vellus,
                    "rating": rated,
                    "rating_scale": scale,
                    "photo_path": ref.path if ref else None,
                    "photo_sha256": ref.sha256 if ref else None,
                    "method": method,
                    "note": (note or "").strip() or None,
                    "recorded_wall": journal.now,
                },
            )
        ]
    )
    return uid


def _measurement(r: Mapping[str, Any], *, check: bool) -> HairMeasurement:
    path, sha = r["photo_path"], r["photo_sha256"]
    return HairMeasurement(
        uid=str(r["uid"]),
        client_uid=str(r["client_uid"]),
        zone=str(r["zone"]),
        day=dt.date.fromisoformat(r["measured_day"]),
        terminal_per_cm2=r["terminal_per_cm2"],
        vellus_per_cm2=r["vellus_per_cm2"],
        rating=r["rating"],
        rating_scale=r["rating_scale"],
        method=r["method"],
        note=r["note"],
        photo_path=path,
        photo_sha256=sha,
        photo=check_photo(path, sha or "") if check and path else None,
        recorded_wall=float(r["recorded_wall"]),
    )


_ORDER = "ORDER BY measured_day, recorded_wall, rowid"


def client_outcomes(
    journal: Journal, client_uid: str, *, check_photos: bool = True
) -> list[HairMeasurement]:
    """The client's measurements, oldest first, each photo hashed again."""
    rows = journal.store.query(
        f"SELECT * FROM outcomes WHERE client_uid = ? {_ORDER}", (client_uid,)
    )
    return [_measurement(r, check=check_photos) for r in rows]


def all_outcomes(journal: Journal) -> dict[str, list[HairMeasurement]]:
    """Every client's measurements by client uid, oldest first (photos not checked)."""
    out: dict[str, list[HairMeasurement]] = {}
    for r in journal.store.query(f"SELECT * FROM outcomes {_ORDER}"):
        out.setdefault(str(r["client_uid"]), []).append(_measurement(r, check=False))
    return out
