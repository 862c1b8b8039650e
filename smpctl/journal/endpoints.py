"""Microneedling end points: how far the skin of a zone went in a session (none, erythema,
pinpoint bleeding), as the practitioner saw it.

The hair-loss trials needled to an end point rather than to a puncture count
(shared/domain.md, "Micro-injury"), so a clinic comparing doses with regrowth needs both.
Each change is a new chained record; the newest per session and zone is the one in force,
so a correction never rewrites what was recorded first.
"""

from __future__ import annotations

from enum import StrEnum

from smpctl.errors import JournalError

from .journal import Journal
from .records import zone_code
from .store import Insert


class ZoneEndPoint(StrEnum):
    """The value is the code written in ``zone_endpoints.end_point``."""

    NONE = "none"
    ERYTHEMA = "erythema"
    PINPOINT_BLEEDING = "pinpoint_bleeding"

    @property
    def words(self) -> str:
        return self.value.replace("_", " ")

    @property
    def short(self) -> str:
        """One word, for a narrow column: none, erythema, bleeding."""
        return "bleeding" if self is ZoneEndPoint.PINPOINT_BLEEDING else self.value

    def following(self) -> ZoneEndPoint:
        """The next one in the order a session reaches them, back to none after the last
        (a key that cycles, so a wrong press is corrected by pressing on)."""
        order = list(ZoneEndPoint)
        return order[(order.index(self) + 1) % len(order)]

    @classmethod
    def parse(cls, text: str) -> ZoneEndPoint:
        code = text.strip().lower().replace(" ", "_").replace("-", "_")
        for point in cls:
            if point.value == code:
                return point
        raise JournalError(
            f"unknown end point {text!r}: use one of {', '.join(p.value for p in cls)}"
        )


def record_end_point(
    journal: Journal,
    session_uid: str,
    zone: object,
    end_point: ZoneEndPoint | str,
    note: str | None = None,
) -> str:
    """Record the end point reached on ``zone`` in the session; on disk on return."""
    code = zone_code(zone)
    point = end_point if isinstance(end_point, ZoneEndPoint) else ZoneEndPoint.parse(end_point)
    uid = journal.store.new_uid()
    journal.store.write(
        [
            Insert(
                "zone_endpoints",
                {
                    "uid": uid,
                    "session_uid": session_uid,
                    "zone": code,
                    "end_point": point.value,
                    "note": note,
                    "recorded_wall": journal.now,
                },
            )
        ]
    )
    return uid


def newest_end_points(journal: Journal, session_uid: str) -> dict[str, ZoneEndPoint]:
    """Per zone, the end point most recently recorded for the session."""
    found: dict[str, ZoneEndPoint] = {}
    for r in journal.store.query(
        "SELECT zone, end_point FROM zone_endpoints WHERE session_uid = ? "
        "ORDER BY recorded_wall, rowid",
        (session_uid,),
    ):
        try:
            found[str(r["zone"])] = ZoneEndPoint(r["end_point"])
        except ValueError:  # a value from a newer smpctl: shown as recorded elsewhere
            continue
    return found
