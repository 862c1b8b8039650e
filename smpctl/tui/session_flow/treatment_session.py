"""One open treatment session, as the dashboard runs it without any Textual: the journal
records, the recorder follows the pen, the meter and the guard follow the dose, and the
interlocks say what still keeps the needle off (an expired cartridge, no consent, no zone,
a zone at its ceiling, a journal that cannot record).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from smpctl.client import Pen
from smpctl.dose import (
    CartridgeKind,
    ContactSettings,
    DoseBounds,
    IntervalWarning,
    interval_warnings,
)
from smpctl.errors import JournalError, SmpctlError
from smpctl.journal import Journal, Recorded, Recorder, SessionSummary
from smpctl.journal.doses import (
    ZoneDoseHistory,
    client_dose_history,
    client_uid_of,
    session_areas,
    session_doses,
)
from smpctl.journal.endpoints import ZoneEndPoint, newest_end_points, record_end_point
from smpctl.profiles import LoadedProfile
from smpctl.profiles.bounds import cartridge_text
from smpctl.tui.alarms import WARN, HostAlarm
from smpctl.zones import ScarKind, ZoneCode

from .live_dose import HARD_MAX_PER_CM2, DoseAlarm, DoseGuard, DoseMeter, ZoneDoseView
from .start_form import SMP, SessionForm, parse_areas, parse_cartridge
from .zone_figures import ZoneFigures, zone_figures

INTERVAL_WARNING = "dose_interval_warning"
CARTRIDGE_WARNING = "cartridge_mismatch_warning"
"""The host event kinds the session's warnings are journaled as."""


@dataclass(frozen=True)
class ZoneSummary:
    """One zone at the end of the session."""

    zone: str
    figures: ZoneFigures
    per_cm2: float | None
    target_per_cm2: float | None
    total_per_cm2: float | None
    end_point: str | None


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
    cartridge_checked: set[str] = field(default_factory=set)
    """Zones whose expected cartridges were compared with the session's (once each)."""
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

    @property
    def cartridge(self) -> CartridgeKind:
        """The registered cartridge's kind (the form was checked when the session opened)."""
        return parse_cartridge(self.form.needle)

    def start_alarms(self) -> list[HostAlarm]:
        """Said as the session opens: each zone treated again before its minimum interval
        (a warning, not a block)."""
        return [
            HostAlarm(
                INTERVAL_WARNING,
                WARN,
                w.message,
                {
                    "zone": w.zone.value,
                    "last_treated": w.last_treated.isoformat(),
                    "today": w.today.isoformat(),
                    "min_interval_days": w.min_interval_days,
                    "earliest": w.earliest.isoformat(),
                },
            )
            for w in self.interval_warnings
        ]

    def cartridge_alarm(
        self, zone: ZoneCode, expected: Sequence[CartridgeKind]
    ) -> HostAlarm | None:
        """A warning, once per zone, when the profile expects other cartridge kinds on
        ``zone`` than the one registered. Not a block: the practitioner may have a reason
        (a 3RL on a small front patch, a 36-pin where 12-pin is listed); the dose is
        counted with the registered cartridge's needles either way."""
        if not expected or zone.value in self.cartridge_checked:
            return None
        self.cartridge_checked.add(zone.value)
        mine = self.cartridge
        if mine in expected:
            return None
        z = zone.value
        return HostAlarm(
            CARTRIDGE_WARNING,
            WARN,
            f"{z} expects a {cartridge_text(expected)} cartridge; the registered one is "
            f"{self.form.needle.strip()}: check it is the one you mean to use on {z}",
            {
                "zone": zone.value,
                "cartridge": mine.value,
                "expected": [k.value for k in expected],
                "profile": self.profile.name if self.profile is not None else None,
            },
        )

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
