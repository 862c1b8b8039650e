"""The micro-injury dose of each zone while the session runs, against the profile's bounds:
a meter cheap enough for every screen refresh, and the guard that decides what is said and
when the needle stops (a 36-pin dose never counted as a 1RL one; the needle stopped at a
zone's ceiling until an override with a reason; the hard maximum never passed).

The guard only decides; the dashboard stops the needle and raises what it returns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from smpctl import hard_limits
from smpctl.dose import DoseBounds, DoseCheck, DoseState
from smpctl.errors import JournalError
from smpctl.journal import PassRecord
from smpctl.journal.doses import DEFAULT_AREA_FALLBACK
from smpctl.tui.alarms import STOP, WARN, HostAlarm

from .start_form import MICRONEEDLING, SMP

HARD_MAX_PER_CM2: dict[str, float] = {
    SMP: hard_limits.MAX_SMP_DOSE_CEILING_PER_CM2,
    MICRONEEDLING: hard_limits.MAX_MICRONEEDLING_DOSE_CEILING_PER_CM2,
}
"""No override goes past these (docs/dose.md, "Hard maxima")."""
UNIT = "punctures/cm²"
NEAR_CEILING = "dose_near_ceiling"
CEILING_STOP = "dose_ceiling_stop"
HARD_MAXIMUM_STOP = "dose_hard_maximum_stop"
"""The host event kinds the guard's alarms are journaled as."""


LiveDose = tuple[str | None, int, int]
"""``Recorder.live_dose()``: (pass running or None, its strokes, its in-skin strokes)."""


class DoseMeter:
    """This session's punctures per zone, cheap enough for every screen refresh.

    Closed passes come from the journal, re-read only when the recorder reports a pass
    opened or closed (``stale``); the pass running now comes from the recorder's live count.
    A pass is counted from the moment it is seen live until its journal row replaces it,
    so a dose never dips between the two (the recorder may report the row before it stops
    showing the pass live: the uid keeps it from being counted twice).
    """

    def __init__(self, areas: Mapping[str, float], needles: int | None) -> None:
        self.areas = dict(areas)
        self.needles = needles
        self.stale = True
        """Set from any thread when the journal's passes changed; cleared by ``load``."""
        self._closed: dict[str, int] = {}
        self._closed_uids: set[str] = set()
        self._running: dict[str, tuple[str, int]] = {}
        """Pass uid -> (zone, punctures so far), for passes not yet closed in the journal."""

    def mark_stale(self, _record: object = None) -> None:
        self.stale = True

    def load(self, passes: Iterable[PassRecord]) -> None:
        """The session's pass rows: the closed ones are counted from here on."""
        closed: dict[str, int] = {}
        uids: set[str] = set()
        for p in passes:
            if p.ended_wall is None or p.zone is None:
                continue
            uids.add(p.uid)
            punctures = p.punctures
            if punctures is None and p.in_skin_strokes is not None:
                needles = p.needles if p.needles is not None else self.needles
                punctures = p.in_skin_strokes * needles if needles is not None else None
            closed[p.zone] = closed.get(p.zone, 0) + (punctures or 0)
        self._closed, self._closed_uids = closed, uids
        for uid in [u for u in self._running if u in uids]:
            del self._running[uid]

    def observe(self, live: LiveDose, zone: str | None) -> None:
        """The recorder's running pass, on ``zone`` (the zone a pass runs on cannot change:
        a zone change splits it into a new pass)."""
        uid, _strokes, in_skin = live
        if uid is None or uid in self._closed_uids or self.needles is None:
            return
        known = self._running.get(uid)
        where = known[0] if known is not None else zone
        if where is not None:
            self._running[uid] = (where, in_skin * self.needles)

    def punctures(self) -> dict[str, int]:
        out = dict(self._closed)
        for zone, n in self._running.values():
            out[zone] = out.get(zone, 0) + n
        return out

    def area(self, zone: str) -> float:
        return self.areas.get(zone, DEFAULT_AREA_FALLBACK)

    def per_cm2(self) -> dict[str, float]:
        """Every zone with a pass this session -> punctures per cm² (closed + running)."""
        return {zone: n / self.area(zone) for zone, n in self.punctures().items()}


@dataclass(frozen=True)
class DoseAlarm:
    """Something the dose guard says once: a warning, or a stop of the needle."""

    kind: str
    """The host event kind it is journaled as."""
    severity: str
    zone: str
    message: str
    per_cm2: float
    limit_per_cm2: float
    treating: bool = True
    """``zone`` is the chosen zone. False: it crossed its limit while another zone was
    chosen (its last pass counted more once closed than live); said at the same level so
    the practitioner sees it before choosing it, while the needle goes on elsewhere."""

    @property
    def stops(self) -> bool:
        """The needle must stop now (a STOP on the zone being treated)."""
        return self.severity == STOP and self.treating

    def stop_status(self) -> str:
        """The status line once the needle was stopped for this alarm."""
        how = ", or d overrides with a reason." if self.kind == CEILING_STOP else "."
        return f"STOPPED: {self.zone} is at its dose limit. Choose another zone{how}"

    def host_alarm(self) -> HostAlarm:
        """As raised through the pen's notices (the recorder journals the same event)."""
        data = {
            "zone": self.zone,
            "per_cm2": round(self.per_cm2, 3),
            "limit_per_cm2": self.limit_per_cm2,
            "treating": self.treating,
        }
        return HostAlarm(self.kind, self.severity, self.message, data)


OVERRIDE_KEY = " (d)"
"""How a ceiling alarm on the chosen zone ends: the key that overrides it with a reason."""


class DoseGuard:
    """Per zone: NEAR warns once; AT_CEILING on the zone being treated stops the needle
    and refuses arming there until an override with a reason; the hard maximum stops it
    whatever the override. A zone that reaches a limit while not chosen is said at once, at
    the STOP level, without stopping the needle on the chosen zone."""

    def __init__(self, bounds: Mapping[str, DoseBounds], hard_max_per_cm2: float) -> None:
        self.bounds = dict(bounds)
        self.hard_max_per_cm2 = hard_max_per_cm2
        self.overrides: dict[str, str] = {}
        """Zone -> the practitioner's reason to go past its ceiling this session."""
        self._warned: set[str] = set()
        self._stopped: set[tuple[str, str]] = set()
        """(zone, kind) stops given on the chosen zone."""
        self._announced: set[tuple[str, str]] = set()
        """(zone, kind) limits said while the zone was not chosen."""

    def check(self, zone: str, per_cm2: float) -> DoseCheck | None:
        bounds = self.bounds.get(zone)
        return None if bounds is None else bounds.check(per_cm2)

    def assess(self, doses: Mapping[str, float], chosen: str | None) -> list[DoseAlarm]:
        """What to say (and whether to stop) now; each alarm is given once."""
        return [*self._near(doses), *self._off_zone(doses, chosen), *self._on_zone(doses, chosen)]

    def _near(self, doses: Mapping[str, float]) -> Iterable[DoseAlarm]:
        for zone, per_cm2 in doses.items():
            c = self.check(zone, per_cm2)
            if c is None or zone in self._warned or c.state is DoseState.BELOW:
                continue
            self._warned.add(zone)
            if c.state is DoseState.NEAR:
                yield DoseAlarm(NEAR_CEILING, WARN, zone, c.message, per_cm2, c.ceiling_per_cm2)
            # AT_CEILING straight away: the stop or the announcement says it

    def _off_zone(self, doses: Mapping[str, float], chosen: str | None) -> Iterable[DoseAlarm]:
        """Zones past a limit while another is chosen: a closed pass counts its in-skin
        strokes in full, and may land above what the live count showed."""
        for zone, per_cm2 in doses.items():
            blocked = self.blocked(zone, per_cm2) if zone != chosen else None
            if blocked is None:
                continue
            key = (zone, blocked.kind)
            if key in self._stopped or key in self._announced:
                continue
            self._announced.add(key)
            # ``d`` overrides the chosen zone's ceiling: from here it would find none
            said = blocked.message.removesuffix(OVERRIDE_KEY)
            if said != blocked.message:
                said += f" (choose {zone}, then d)"
            message = f"{said}; {zone} is not the chosen zone: arming there is refused"
            yield replace(blocked, message=message, treating=False)

    def _on_zone(self, doses: Mapping[str, float], chosen: str | None) -> Iterable[DoseAlarm]:
        """The stop on the chosen zone, even when announced before: the needle may still be
        armed from the zone before."""
        if chosen is None:
            return
        blocked = self.blocked(chosen, doses.get(chosen, 0.0))
        if blocked is not None and (chosen, blocked.kind) not in self._stopped:
            self._stopped.add((chosen, blocked.kind))
            yield blocked

    def blocked(self, zone: str, per_cm2: float) -> DoseAlarm | None:
        """Why the needle may not run on ``zone`` now (as the STOP alarm), or None."""
        hard = self.hard_max_per_cm2
        if per_cm2 >= hard:
            return DoseAlarm(
                HARD_MAXIMUM_STOP,
                STOP,
                zone,
                f"{zone} reached the hard maximum of {hard:g} {UNIT} a session "
                f"({math.floor(per_cm2)} this session): no more on {zone} this session, "
                "no override goes past it",
                per_cm2,
                hard,
            )
        c = self.check(zone, per_cm2)
        if c is not None and c.state is DoseState.AT_CEILING and zone not in self.overrides:
            return DoseAlarm(
                CEILING_STOP,
                STOP,
                zone,
                f"{c.message}{OVERRIDE_KEY}",
                per_cm2,
                c.ceiling_per_cm2,
            )
        return None

    def refusal(self, zone: str, per_cm2: float) -> str | None:
        """The interlock problem while ``zone`` is blocked, or None."""
        alarm = self.blocked(zone, per_cm2)
        if alarm is None:
            return None
        if alarm.kind == HARD_MAXIMUM_STOP:
            return alarm.message
        return (
            f"{zone} reached its ceiling of {alarm.limit_per_cm2:g} {UNIT} this session "
            f"({math.floor(per_cm2)}): choose another zone, or d overrides with a reason "
            "(recorded)"
        )

    def overridable(self, zone: str, per_cm2: float) -> DoseAlarm | None:
        """The ceiling stop an override would lift (None: nothing to override)."""
        alarm = self.blocked(zone, per_cm2)
        return alarm if alarm is not None and alarm.kind == CEILING_STOP else None

    def override(self, zone: str, reason: str) -> None:
        if not reason.strip():
            raise JournalError("an override needs a reason")
        self.overrides[zone] = reason.strip()


@dataclass(frozen=True)
class ZoneDoseView:
    """One zone's dose as the treatment screen shows it."""

    zone: str
    per_cm2: float
    """This session, closed passes and the one running."""
    check: DoseCheck | None
    """Against the profile's bounds (None: the profile sets none)."""
    total_per_cm2: float
    """Over the client's sessions, this one included."""
    days_since: int | None
    """Since the zone was last treated before this session (None: never)."""
