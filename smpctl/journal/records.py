"""The vocabulary of the journal: zones, outcomes, and the read-side record types."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from smpctl.errors import JournalError, UnknownSessionKindError
from smpctl.zones import ScarKind, ZoneCode

ZONE_CODES: tuple[str, ...] = tuple(z.value for z in ZoneCode)
SCAR_KINDS: tuple[str, ...] = tuple(s.value for s in ScarKind)


class Outcome(StrEnum):
    """How a pass ended."""

    COMPLETE = "complete"
    """Pedal released with the needle running as asked."""
    STOPPED = "stopped"
    """The host or an emergency stop stopped the needle during the pass."""
    ZONE_CHANGED = "zone_changed"
    """The practitioner changed zone mid-pass: the pass continues as a new one."""
    INTERRUPTED_LINK = "interrupted_link"
    """The link to the pen was lost; the pass after reconnection links back to it."""
    INTERRUPTED_FAULT = "interrupted_fault"
    """A stop fault or the pen's watchdog stopped the needle."""
    INTERRUPTED_CRASH = "interrupted_crash"
    """smpctl ended without closing the pass; closed on the next open at its last sample."""


INTERRUPTED = frozenset(
    {Outcome.INTERRUPTED_LINK, Outcome.INTERRUPTED_FAULT, Outcome.INTERRUPTED_CRASH}
)


class SessionKind(StrEnum):
    """What a session treats with: pigment (SMP) or needles alone (microneedling)."""

    SMP = "smp"
    MICRONEEDLING = "microneedling"

    @classmethod
    def parse(cls, text: str) -> SessionKind:
        code = str(text).strip().lower()
        for kind in cls:
            if kind.value == code:
                return kind
        raise UnknownSessionKindError(str(text), [k.value for k in cls])


class AreaSource(StrEnum):
    """Where a session's zone area came from (``session_areas.source``)."""

    DEFAULT = "default"
    """domain.md's starting estimate: nothing measured on this client."""
    MEASURED = "measured"
    """The client's newest measurement (``client_areas``)."""
    ENTERED = "entered"
    """Entered when the session was started."""


class EventSource(StrEnum):
    PEN = "pen"
    LINK = "link"
    HOST = "host"


def zone_code(value: object) -> str:
    """A zone code from a ZoneCode member or its text; refused if unknown."""
    code = str(getattr(value, "name", value))
    if code not in ZONE_CODES:
        raise JournalError(f"unknown zone {code!r}: use one of {', '.join(ZONE_CODES)}")
    return code


def scar_kind(value: object | None) -> str | None:
    if value is None:
        return None
    code = str(getattr(value, "name", value))
    if code not in SCAR_KINDS:
        raise JournalError(f"unknown scar kind {code!r}: use one of {', '.join(SCAR_KINDS)}")
    return code


@dataclass(frozen=True)
class SessionSummary:
    """One line of ``smpctl logs list``: no display name, no notes."""

    uid: str
    client: str
    """The client's pseudonym."""
    session_number: int
    practitioner: str | None
    started_wall: float
    ended_wall: float | None
    simulated: bool
    consent: bool
    passes: int
    interrupted: int
    zones: tuple[str, ...]
    strokes: int
    kind: str = SessionKind.SMP.value
    """``smp`` or ``microneedling`` (sessions recorded before the kind existed: ``smp``)."""

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "zones": list(self.zones)}


@dataclass(frozen=True)
class PassRecord:
    uid: str
    session_uid: str | None
    number: int
    zone: str | None
    scar: str | None
    started_wall: float
    started_t_us: int | None
    ended_wall: float | None
    ended_t_us: int | None
    outcome: Outcome | None
    continues_uid: str | None
    cartridge_uid: str | None
    pigment_uid: str | None
    setpoint_hz: float | None
    depth_mm: float | None
    samples: int | None
    speed_mean_hz: float | None
    speed_min_hz: float | None
    speed_max_hz: float | None
    strokes: int | None
    peak_current_a: float | None
    max_temp_c: float | None
    events: tuple[str, ...]
    flag: str | None
    note: str | None = field(repr=False)
    profile_hash: str | None = None
    setpoints: str | None = None
    in_skin_strokes: int | None = None
    """Strokes made with the needle in skin (None: recorded before doses were kept)."""
    needles: int | None = None
    """Needles of the pass's cartridge (None: no cartridge, or recorded before)."""
    punctures: int | None = None
    """``in_skin_strokes × needles``; None when either is unknown."""


@dataclass(frozen=True)
class VerifyReport:
    records: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems
