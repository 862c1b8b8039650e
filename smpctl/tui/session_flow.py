"""A treatment session from the dashboard's point of view, without any Textual: the start
form and its interlocks, the journal and its recorder, the per-zone figures, and the
micro-injury dose of each zone against the profile's bounds.

Kept apart from the widgets so every rule (expired cartridge refused, no consent no needle,
a 36-pin dose never counted as a 1RL one, the needle stopped at a zone's ceiling until an
override with a reason) is tested without a screen.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from smpctl import hard_limits
from smpctl.client import Pen
from smpctl.dose import (
    CartridgeKind,
    ContactSettings,
    DoseBounds,
    DoseCheck,
    DoseState,
    IntervalWarning,
    interval_warnings,
    needle_count,
    validate_area,
    zone_areas,
)
from smpctl.errors import (
    JournalError,
    NeedleCountMismatchError,
    SmpctlError,
    UnknownCartridgeKindError,
    ZoneAreaError,
)
from smpctl.journal import Journal, PassRecord, Recorded, Recorder, SessionSummary
from smpctl.journal.doses import (
    DEFAULT_AREA_FALLBACK,
    ZoneDoseHistory,
    client_dose_history,
    client_uid_of,
    session_areas,
    session_doses,
)
from smpctl.journal.endpoints import ZoneEndPoint, newest_end_points, record_end_point
from smpctl.journal.records import SessionKind
from smpctl.profiles import LoadedProfile, SkinCondition
from smpctl.tui.alarms import STOP, WARN
from smpctl.zones import ScarKind, ZoneCode

SKIN_CONDITIONS: tuple[str, ...] = tuple(c.value for c in SkinCondition)
SMP = SessionKind.SMP.value
MICRONEEDLING = SessionKind.MICRONEEDLING.value
KIND_NAMES: dict[str, str] = {SMP: "SMP", MICRONEEDLING: "microneedling"}
STANDARD_PROFILES: dict[str, str] = {SMP: "smp-base", MICRONEEDLING: "mn-scalp"}
"""The profile offered first for a session kind when the dashboard was started with a
profile of the other kind."""
DEFAULT_NEEDLES: dict[str, str] = {SMP: "1RL 0.20", MICRONEEDLING: "12-pin"}
HARD_MAX_PER_CM2: dict[str, float] = {
    SMP: hard_limits.MAX_SMP_DOSE_CEILING_PER_CM2,
    MICRONEEDLING: hard_limits.MAX_MICRONEEDLING_DOSE_CEILING_PER_CM2,
}
"""No override goes past these (docs/dose.md, "Hard maxima")."""
UNIT = "punctures/cm²"

_AREA_ITEM = re.compile(r"^\s*([A-Za-z_]+)\s*(?:=|:|\s)\s*(\S+?)\s*(?:cm²|cm2)?\s*$")


# ---------------------------------------------------------------------- the start form


def parse_areas(text: str) -> tuple[dict[str, float], list[str]]:
    """``HL=28, CRN=55`` -> ({"HL": 28.0, "CRN": 55.0}, problems). Every item is checked
    like a measurement; a problem names the zone and why, and no area is used unless all
    of them are good (the caller refuses the form)."""
    areas: dict[str, float] = {}
    problems: list[str] = []
    for item in re.split(r"[,;]", text):
        if not item.strip():
            continue
        match = _AREA_ITEM.match(item)
        if match is None:
            problems.append(
                f"write zone areas as CODE=cm², e.g. HL=28, CRN=55 (not {item.strip()!r})"
            )
            continue
        code, value_text = match.group(1).upper(), match.group(2)
        if code not in ZoneCode.__members__:
            problems.append(
                f"unknown zone {code} in the zone areas: use {', '.join(z.value for z in ZoneCode)}"
            )
            continue
        try:
            value = float(value_text)
        except ValueError:
            problems.append(f"the area of {code} ({value_text!r}) is not a number of cm²")
            continue
        if code in areas:
            problems.append(f"{code} is given twice in the zone areas")
            continue
        try:
            areas[code] = validate_area(code, value)
        except ZoneAreaError as exc:
            problems.append(str(exc))
    if areas and not problems:
        try:
            zone_areas(dict(areas))
        except ZoneAreaError as exc:
            problems.append(str(exc))
    return areas, problems


def parse_cartridge(needle: str) -> CartridgeKind:
    """The kind from the first word of the cartridge text (``3RL 0.25``, ``36-pin``, ``nano``),
    as the journal reads it; UnknownCartridgeKindError otherwise."""
    words = needle.split()
    if not words:
        raise UnknownCartridgeKindError(needle, [k.value for k in CartridgeKind])
    try:
        return CartridgeKind.parse(words[0])
    except UnknownCartridgeKindError:
        raise UnknownCartridgeKindError(needle.strip(), [k.value for k in CartridgeKind]) from None


def profiles_of_kind(kind: str, profile_kinds: Mapping[str, str]) -> list[str]:
    return sorted(name for name, k in profile_kinds.items() if k == kind)


def default_profile(kind: str, profile_kinds: Mapping[str, str], preferred: str | None) -> str:
    """The profile to offer for ``kind``: the preferred one if it is of that kind, else the
    standard one, else the first; "" (none) when no profile of the kind is available."""
    names = profiles_of_kind(kind, profile_kinds)
    if preferred in names:
        return str(preferred)
    standard = STANDARD_PROFILES.get(kind)
    if standard in names:
        return str(standard)
    return names[0] if names else ""


@dataclass
class SessionForm:
    """What the practitioner enters before the needle may run."""

    client: str = ""
    session_number: int = 1
    practitioner: str = ""
    needle: str = DEFAULT_NEEDLES[SMP]
    """The cartridge: its kind first (1RL 0.20, 3RL, 12-pin, 36-pin, nano ...)."""
    cartridge_lot: str = ""
    cartridge_expiry: str = ""
    pigment_shade: str = ""
    pigment_dilution: str = ""
    pigment_lot: str = ""
    consent: bool = False
    skin: tuple[str, ...] = ()
    kind: str = SMP
    """``smp`` or ``microneedling`` (no pigment)."""
    profile: str = ""
    """The profile for the session by name; "": none (the pen's own setpoints). In an
    initial form, "" leaves the dashboard's own choice."""
    cartridge_needles: str = ""
    """Needles as printed on the box (optional): checked against the kind."""
    areas: str = ""
    """Zone areas measured today (optional): ``HL=28, CRN=55``."""

    @staticmethod
    def parse_skin(text: str) -> tuple[str, ...]:
        """``thin, oily`` -> ("thin", "oily"); order and case do not matter."""
        return tuple(
            sorted({w.strip().lower() for w in text.replace(";", ",").split(",") if w.strip()})
        )

    @property
    def microneedling(self) -> bool:
        return self.kind == MICRONEEDLING

    def problems(
        self, today: dt.date, *, profile_kinds: Mapping[str, str] | None = None
    ) -> list[str]:
        """Every reason the session cannot start yet, in the order of the form.
        ``profile_kinds`` (name -> session kind) checks the chosen profile against the
        session kind."""
        found = []
        if not self.client.strip():
            found.append("enter the client's pseudonym")
        if self.session_number < 1:
            found.append("session numbers start at 1")
        if not self.practitioner.strip():
            found.append("enter the practitioner")
        if self.kind not in KIND_NAMES:
            found.append(f"choose the session kind: {' or '.join(KIND_NAMES.values())}")
        elif profile_kinds is not None:
            found.extend(self.profile_problems(profile_kinds))
        found.extend(self.cartridge_problems())
        if not self.cartridge_lot.strip():
            found.append("enter the cartridge lot (printed on its pack)")
        expiry = self.expiry_date()
        if expiry is None:
            found.append("enter the cartridge expiry as YYYY-MM-DD")
        elif expiry < today:
            found.append(
                f"the cartridge expired on {expiry.isoformat()}: use a new, in-date cartridge"
            )
        if not self.microneedling and not self.pigment_lot.strip():
            found.append("enter the pigment lot")
        if not self.consent:
            found.append("record the client's consent")
        unknown = [w for w in self.skin if w not in SKIN_CONDITIONS]
        if unknown:
            found.append(
                f"unknown skin condition {', '.join(unknown)}: use {', '.join(SKIN_CONDITIONS)}"
            )
        found.extend(parse_areas(self.areas)[1])
        return found

    def profile_problems(self, profile_kinds: Mapping[str, str]) -> list[str]:
        name = self.profile
        if not name:
            return []
        kind = profile_kinds.get(name)
        if kind is None:
            return [f"no profile named {name!r}: choose one of {', '.join(sorted(profile_kinds))}"]
        if kind == self.kind:
            return []
        others = profiles_of_kind(self.kind, profile_kinds)
        choose = f"choose {' or '.join(others)}" if others else "start without a profile"
        return [
            f"profile {name} is for {KIND_NAMES[kind]} sessions, this is a "
            f"{KIND_NAMES[self.kind]} session: {choose}"
        ]

    def cartridge_problems(self) -> list[str]:
        """The cartridge's kind known, right for the session kind, and the needles on the
        box (if given) what that kind has: a wrong count would scale every dose."""
        if not self.needle.strip():
            return [f"enter the cartridge (e.g. {DEFAULT_NEEDLES[self.kind]})"]
        try:
            cartridge = parse_cartridge(self.needle)
        except UnknownCartridgeKindError as exc:
            return [str(exc)]
        found = []
        if self.microneedling and not cartridge.microneedling:
            found.append(
                f"a {cartridge.value} cartridge is for SMP: microneedling takes a multi-needle "
                "cartridge (9-pin … 42-pin, nano)"
            )
        elif not self.microneedling and cartridge.microneedling:
            found.append(
                f"a {cartridge.value} cartridge is for microneedling: an SMP session takes 1RL "
                "or 3RL (or choose the session kind microneedling)"
            )
        text = self.cartridge_needles.strip()
        if text:
            if not text.isdigit():
                found.append("enter the needles on the box as a whole number, or leave it empty")
            else:
                try:
                    needle_count(cartridge, int(text))
                except NeedleCountMismatchError as exc:
                    found.append(str(exc))
        return found

    def needles_given(self) -> int | None:
        text = self.cartridge_needles.strip()
        return int(text) if text.isdigit() else None

    def expiry_date(self) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.cartridge_expiry.strip())
        except ValueError:
            return None


# ---------------------------------------------------------------------- figures per zone


@dataclass(frozen=True)
class ZoneFigures:
    passes: int
    needle_s: float
    strokes: int
    mean_hz: float | None
    depth_mm: float | None
    flags: int
    interrupted: int


def zone_figures(passes: list[PassRecord]) -> dict[str, ZoneFigures]:
    """Per zone: the figures a practitioner compares session to session."""
    by_zone: dict[str, list[PassRecord]] = {}
    for p in passes:
        if p.zone is not None:
            by_zone.setdefault(p.zone, []).append(p)
    out = {}
    for zone, items in by_zone.items():
        needle = sum((p.ended_wall - p.started_wall) for p in items if p.ended_wall is not None)
        weighted = [(p.speed_mean_hz, p.samples or 0) for p in items if p.speed_mean_hz]
        total = sum(w for _v, w in weighted)
        mean = sum(v * w for v, w in weighted) / total if total else None
        depths = [p.depth_mm for p in items if p.depth_mm is not None]
        out[zone] = ZoneFigures(
            passes=len(items),
            needle_s=needle,
            strokes=sum(p.strokes or 0 for p in items),
            mean_hz=mean,
            depth_mm=sum(depths) / len(depths) if depths else None,
            flags=sum(1 for p in items if p.flag),
            interrupted=sum(1 for p in items if p.outcome and "interrupted" in p.outcome.value),
        )
    return out


# ---------------------------------------------------------------------- dose, live


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

    @property
    def stops(self) -> bool:
        return self.severity == STOP


class DoseGuard:
    """Per zone: NEAR warns once; AT_CEILING on the zone being treated stops the needle
    and refuses arming there until an override with a reason; the hard maximum stops it
    whatever the override. Other zones go on as before."""

    def __init__(self, bounds: Mapping[str, DoseBounds], hard_max_per_cm2: float) -> None:
        self.bounds = dict(bounds)
        self.hard_max_per_cm2 = hard_max_per_cm2
        self.overrides: dict[str, str] = {}
        """Zone -> the practitioner's reason to go past its ceiling this session."""
        self._warned: set[str] = set()
        self._stopped: set[tuple[str, str]] = set()

    def check(self, zone: str, per_cm2: float) -> DoseCheck | None:
        bounds = self.bounds.get(zone)
        return None if bounds is None else bounds.check(per_cm2)

    def assess(self, doses: Mapping[str, float], chosen: str | None) -> list[DoseAlarm]:
        """What to say (and whether to stop) now; each alarm is given once."""
        out = []
        for zone, per_cm2 in doses.items():
            c = self.check(zone, per_cm2)
            if c is None or zone in self._warned or c.state is DoseState.BELOW:
                continue
            self._warned.add(zone)
            if c.state is DoseState.NEAR:
                out.append(
                    DoseAlarm(
                        "dose_near_ceiling", WARN, zone, c.message, per_cm2, c.ceiling_per_cm2
                    )
                )
            # AT_CEILING straight away: the stop below (if treated now) says it
        if chosen is not None:
            blocked = self.blocked(chosen, doses.get(chosen, 0.0))
            if blocked is not None and (chosen, blocked.kind) not in self._stopped:
                self._stopped.add((chosen, blocked.kind))
                out.append(blocked)
        return out

    def blocked(self, zone: str, per_cm2: float) -> DoseAlarm | None:
        """Why the needle may not run on ``zone`` now (as the STOP alarm), or None."""
        hard = self.hard_max_per_cm2
        if per_cm2 >= hard:
            return DoseAlarm(
                "dose_hard_maximum_stop",
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
                "dose_ceiling_stop",
                STOP,
                zone,
                f"{c.message} (d)",
                per_cm2,
                c.ceiling_per_cm2,
            )
        return None

    def refusal(self, zone: str, per_cm2: float) -> str | None:
        """The interlock problem while ``zone`` is blocked, or None."""
        alarm = self.blocked(zone, per_cm2)
        if alarm is None:
            return None
        if alarm.kind == "dose_hard_maximum_stop":
            return alarm.message
        return (
            f"{zone} reached its ceiling of {alarm.limit_per_cm2:g} {UNIT} this session "
            f"({math.floor(per_cm2)}): choose another zone, or d overrides with a reason "
            "(recorded)"
        )

    def overridable(self, zone: str, per_cm2: float) -> DoseAlarm | None:
        """The ceiling stop an override would lift (None: nothing to override)."""
        alarm = self.blocked(zone, per_cm2)
        return alarm if alarm is not None and alarm.kind == "dose_ceiling_stop" else None

    def override(self, zone: str, reason: str) -> None:
        if not reason.strip():
            raise JournalError("an override needs a reason")
        self.overrides[zone] = reason.strip()


def dose_bar(fraction: float, width: int = 10) -> str:
    """``██████░░░░``: the share of the target done (full at the target and beyond)."""
    filled = max(0, min(width, math.floor(fraction * width + 1e-9)))
    return "█" * filled + "░" * (width - filled)


def dose_shade(check: DoseCheck | None) -> tuple[str, int] | None:
    """The scalp map's shading of a zone: (band, whole tens of % of the target), or None
    for a zone without dose or bounds. Bands: low (< 50 % of the target), mid, target
    (reached), near (the ceiling), ceiling."""
    if check is None or check.per_cm2 <= 0:
        return None
    tens = min(990, math.floor(check.fraction_of_target * 10 + 1e-9) * 10)
    if check.state is DoseState.AT_CEILING:
        return "ceiling", tens
    if check.state is DoseState.NEAR:
        return "near", tens
    if check.target_reached:
        return "target", tens
    return ("low" if check.fraction_of_target < 0.5 else "mid"), tens


def percent_of(per_cm2: float, target_per_cm2: float) -> int:
    """Whole percent of the target, rounded down like the guard's messages (a zone shown
    at 100 % has reached its target)."""
    return min(999, math.floor(per_cm2 / target_per_cm2 * 100 + 1e-9))


def dose_text(per_cm2: float | None) -> str:
    """A dose as shown everywhere on the dashboard: a tenth under 10, whole above."""
    if per_cm2 is None:
        return "—"
    return f"{per_cm2:.1f}" if 0 < per_cm2 < 10 else f"{per_cm2:.0f}"


def days_text(days: int | None) -> str:
    if days is None:
        return "never"
    if days == 0:
        return "today"
    return f"{days} d ago" if days > 0 else f"in {-days} d?"


def dose_history_lines(history: Mapping[str, ZoneDoseHistory], today: dt.date) -> list[str]:
    """Per treated zone: cumulative punctures/cm² over the client's sessions and when last
    treated (a floor, marked ≥, when some session's dose is unknown)."""
    lines = []
    for zone, h in history.items():
        if h.sessions == 0:
            continue
        floor = "≥" if h.unknown_sessions else " "
        last = h.last_treated_day.isoformat() if h.last_treated_day else "—"
        lines.append(
            f"  {zone:6}{floor}{dose_text(h.cumulative_per_cm2):>6}/cm² {h.sessions}× "
            f"last {last} ({days_text(h.days_since(today))})"
        )
    return lines


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


@dataclass(frozen=True)
class ZoneSummary:
    """One zone at the end of the session."""

    zone: str
    figures: ZoneFigures
    per_cm2: float | None
    target_per_cm2: float | None
    total_per_cm2: float | None
    end_point: str | None


# ---------------------------------------------------------------------- the session


@dataclass
class TreatmentSession:
    """One open session: the journal records, the recorder follows the pen, the meter and
    the guard follow the dose."""

    journal: Journal
    pen: Pen
    form: SessionForm
    simulated: bool
    today: Callable[[], dt.date] = dt.date.today
    session_uid: str = ""
    recorder: Recorder | None = None
    previous: SessionSummary | None = None
    previous_figures: dict[str, ZoneFigures] = field(default_factory=dict)
    profile: LoadedProfile | None = None
    history: dict[str, ZoneDoseHistory] = field(default_factory=dict)
    """Per zone, the client's dose before this session."""
    meter: DoseMeter = field(default_factory=lambda: DoseMeter({}, None))
    guard: DoseGuard = field(default_factory=lambda: DoseGuard({}, HARD_MAX_PER_CM2[SMP]))
    interval_warnings: list[IntervalWarning] = field(default_factory=list)
    end_points: dict[str, ZoneEndPoint] = field(default_factory=dict)
    _figures: dict[str, ZoneFigures] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def start(
        cls,
        journal: Journal,
        pen: Pen,
        form: SessionForm,
        *,
        simulated: bool,
        today: Callable[[], dt.date] = dt.date.today,
        profile: LoadedProfile | None = None,
        contact: ContactSettings | None = None,
    ) -> TreatmentSession:
        day = today()
        problems = form.problems(day)
        if profile is not None:
            named = replace(form, profile=profile.name)
            problems += named.profile_problems({profile.name: profile.kind.value})
        if problems:
            raise JournalError("cannot start the session: " + "; ".join(problems))
        # everything is checked above: nothing below is refused half-way
        areas, _ = parse_areas(form.areas)
        cartridge = parse_cartridge(form.needle)
        client = form.client.strip()
        previous = last_session_of(journal, client)
        client_uid = client_uid_of(journal, client)
        history = client_dose_history(journal, client_uid) if client_uid is not None else {}
        pen_uid = journal.register_pen(pen.identity)
        uid = journal.open_session(
            client,
            form.session_number,
            form.practitioner.strip(),
            consent=form.consent,
            simulated=simulated,
            pen_uid=pen_uid,
            kind=form.kind,
            areas=areas or None,
        )
        try:
            journal.register_cartridge(
                form.needle.strip(),
                form.cartridge_lot.strip(),
                form.cartridge_expiry.strip(),
                kind=cartridge.value,
                needles=form.needles_given(),
            )
            if not form.microneedling:
                journal.register_pigment(
                    form.pigment_shade.strip(),
                    form.pigment_dilution.strip(),
                    form.pigment_lot.strip(),
                )
        except SmpctlError as exc:
            journal.close_session(notes=f"not started: {exc}")
            raise
        session = cls(journal, pen, form, simulated, today, uid, profile=profile)
        session.history = history
        if previous is not None:
            session.previous = previous
            session.previous_figures = zone_figures(journal.passes(previous.uid))
        session.meter = DoseMeter(
            {zone: area for zone, (area, _source) in session_areas(journal, uid).items()},
            journal.cartridge_needles(journal.cartridge_uid),
        )
        bounds: dict[str, DoseBounds] = {}
        if profile is not None:
            bounds = {z.value: b for z, b in profile.zone_bounds(form.session_number).items()}
            session.interval_warnings = interval_warnings(
                {zone: h.last_treated_day for zone, h in history.items()},
                profile.min_intervals(),
                day,
            )
        session.guard = DoseGuard(bounds, HARD_MAX_PER_CM2[form.kind])
        recorder = Recorder(journal, pen, pen_uid=pen_uid, contact=contact, wall=journal.store.wall)
        recorder.subscribe(session._on_recorded)
        session.recorder = recorder.start()
        return session

    @property
    def kind(self) -> str:
        return self.form.kind

    @property
    def microneedling(self) -> bool:
        return self.form.microneedling

    def _on_recorded(self, record: Recorded) -> None:
        """On the recorder's thread: only note that the passes changed."""
        if record.kind != "event":
            self.meter.mark_stale()

    def interlock_problems(self, zone: ZoneCode | None) -> list[str]:
        """What still stops the needle (shared/domain.md, "Interlocks"; the dose ceiling)."""
        found = []
        expiry = self.form.expiry_date()
        if expiry is None or expiry < self.today():
            found.append("the cartridge has expired: register a new one")
        if not self.form.consent:
            found.append("consent is not recorded")
        if zone is None:
            found.append("choose a zone (1…0)")
        else:
            refusal = self.dose_refusal(zone)
            if refusal is not None:
                found.append(refusal)
        recorder = self.recorder
        if recorder is not None and recorder.error is not None:
            found.append(f"the journal cannot record: {recorder.error}")
        return found

    def set_zone(self, zone: ZoneCode, scar: ScarKind | None) -> None:
        self.journal.set_zone(zone, scar)

    # ------------------------------------------------------------------ figures and dose

    def figures(self) -> dict[str, ZoneFigures]:
        return zone_figures(self.journal.passes(self.session_uid))

    def reload(self, *, force: bool = False) -> dict[str, ZoneFigures]:
        """Re-read the session's passes when the recorder said they changed (or ``force``):
        one query feeds the zone table and the meter."""
        if self.meter.stale or force:
            self.meter.stale = False  # before the read: a change during it marks it again
            passes = self.journal.passes(self.session_uid)
            self.meter.load(passes)
            self._figures = zone_figures(passes)
        return self._figures

    def doses(self, zone: ZoneCode | None) -> dict[str, float]:
        """Punctures per cm² this session per zone, the running pass (on ``zone``) included."""
        recorder = self.recorder
        if recorder is not None:
            self.meter.observe(recorder.live_dose(), zone.value if zone is not None else None)
        return self.meter.per_cm2()

    def dose_alarms(self, zone: ZoneCode | None) -> list[DoseAlarm]:
        return self.guard.assess(self.doses(zone), zone.value if zone is not None else None)

    def dose_refusal(self, zone: ZoneCode) -> str | None:
        """Why the zone's dose keeps the needle off it now (None: it does not)."""
        return self.guard.refusal(zone.value, self.meter.per_cm2().get(zone.value, 0.0))

    def dose_view(self, zone: str, per_cm2: float) -> ZoneDoseView:
        h = self.history.get(zone)
        before = h.cumulative_per_cm2 if h is not None else 0.0
        return ZoneDoseView(
            zone=zone,
            per_cm2=per_cm2,
            check=self.guard.check(zone, per_cm2),
            total_per_cm2=before + per_cm2,
            days_since=h.days_since(self.today()) if h is not None else None,
        )

    # ------------------------------------------------------------------ microneedling

    def next_end_point(self, zone: ZoneCode) -> ZoneEndPoint:
        """Record the end point after the zone's current one (none → erythema → pinpoint
        bleeding → none); returns it once it is on disk."""
        if not self.microneedling:
            raise JournalError("end points are recorded in microneedling sessions only")
        point = self.end_points.get(zone.value, ZoneEndPoint.NONE).following()
        record_end_point(self.journal, self.session_uid, zone, point)
        self.end_points[zone.value] = point
        return point

    # ------------------------------------------------------------------ notes and end

    def flag(self, note: str | None = None) -> str:
        return self.journal.flag_pass("flagged", note)

    def end(self) -> list[ZoneSummary]:
        """Stop following the pen, close the session, return the per-zone summary."""
        if self.recorder is not None:
            self.recorder.stop()
            self.recorder = None
        figures = self.figures()
        doses = session_doses(self.journal, self.session_uid)
        points = newest_end_points(self.journal, self.session_uid)
        self.journal.close_session()
        rows = []
        for zone in ZoneCode:
            f = figures.get(zone.value)
            if f is None:
                continue
            dose = doses.get(zone.value)
            per_cm2 = dose.per_cm2 if dose is not None else None
            bounds = self.guard.bounds.get(zone.value)
            h = self.history.get(zone.value)
            before = h.cumulative_per_cm2 if h is not None else 0.0
            point = points.get(zone.value)
            rows.append(
                ZoneSummary(
                    zone=zone.value,
                    figures=f,
                    per_cm2=per_cm2,
                    target_per_cm2=bounds.target_per_cm2 if bounds is not None else None,
                    total_per_cm2=before + per_cm2 if per_cm2 is not None else None,
                    end_point=point.words if point is not None else None,
                )
            )
        return rows


def last_session_of(journal: Journal, client: str) -> SessionSummary | None:
    """The client's most recent earlier session (pseudonyms are matched exactly)."""
    mine = [s for s in journal.sessions() if s.client == client.strip()]
    return max(mine, key=lambda s: s.started_wall) if mine else None


def sessions_of(journal: Journal, client: str) -> list[SessionSummary]:
    return sorted(
        (s for s in journal.sessions() if s.client == client.strip()),
        key=lambda s: s.started_wall,
    )


def merge_sessions(
    local: list[SessionSummary], remote: list[SessionSummary]
) -> list[SessionSummary]:
    """This chair's sessions and those pulled from the clinic server, once each, in order."""
    seen = {s.uid for s in local}
    merged = local + [s for s in remote if s.uid not in seen]
    return sorted(merged, key=lambda s: s.started_wall)
