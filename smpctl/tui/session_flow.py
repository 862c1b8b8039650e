"""A treatment session from the dashboard's point of view, without any Textual: the start
form and its interlocks, the journal and its recorder, and the per-zone figures.

Kept apart from the widgets so every rule (expired cartridge refused, no consent no needle,
the figures of the last session beside this one) is tested without a screen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from smpctl.client import Pen
from smpctl.errors import JournalError
from smpctl.journal import Journal, PassRecord, Recorder, SessionSummary
from smpctl.profiles import SkinCondition
from smpctl.zones import ScarKind, ZoneCode

SKIN_CONDITIONS: tuple[str, ...] = tuple(c.value for c in SkinCondition)


@dataclass
class SessionForm:
    """What the practitioner enters before the needle may run."""

    client: str = ""
    session_number: int = 1
    practitioner: str = ""
    needle: str = "1RL 0.20"
    cartridge_lot: str = ""
    cartridge_expiry: str = ""
    pigment_shade: str = ""
    pigment_dilution: str = ""
    pigment_lot: str = ""
    consent: bool = False
    skin: tuple[str, ...] = ()

    @staticmethod
    def parse_skin(text: str) -> tuple[str, ...]:
        """``thin, oily`` -> ("thin", "oily"); order and case do not matter."""
        return tuple(
            sorted({w.strip().lower() for w in text.replace(";", ",").split(",") if w.strip()})
        )

    def problems(self, today: dt.date) -> list[str]:
        """Every reason the session cannot start yet, in the order of the form."""
        found = []
        if not self.client.strip():
            found.append("enter the client's pseudonym")
        if self.session_number < 1:
            found.append("session numbers start at 1")
        if not self.practitioner.strip():
            found.append("enter the practitioner")
        if not self.cartridge_lot.strip():
            found.append("enter the cartridge lot (printed on its pack)")
        expiry = self.expiry_date()
        if expiry is None:
            found.append("enter the cartridge expiry as YYYY-MM-DD")
        elif expiry < today:
            found.append(
                f"the cartridge expired on {expiry.isoformat()}: use a new, in-date cartridge"
            )
        if not self.pigment_lot.strip():
            found.append("enter the pigment lot")
        if not self.consent:
            found.append("record the client's consent")
        unknown = [w for w in self.skin if w not in SKIN_CONDITIONS]
        if unknown:
            found.append(
                f"unknown skin condition {', '.join(unknown)}: use {', '.join(SKIN_CONDITIONS)}"
            )
        return found

    def expiry_date(self) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.cartridge_expiry.strip())
        except ValueError:
            return None


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


@dataclass
class TreatmentSession:
    """One open session: the journal records, the recorder follows the pen."""

    journal: Journal
    pen: Pen
    form: SessionForm
    simulated: bool
    today: Callable[[], dt.date] = dt.date.today
    session_uid: str = ""
    recorder: Recorder | None = None
    previous: SessionSummary | None = None
    previous_figures: dict[str, ZoneFigures] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        journal: Journal,
        pen: Pen,
        form: SessionForm,
        *,
        simulated: bool,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> TreatmentSession:
        problems = form.problems(today())
        if problems:
            raise JournalError("cannot start the session: " + "; ".join(problems))
        previous = last_session_of(journal, form.client)
        pen_uid = journal.register_pen(pen.identity)
        uid = journal.open_session(
            form.client.strip(),
            form.session_number,
            form.practitioner.strip(),
            consent=form.consent,
            simulated=simulated,
            pen_uid=pen_uid,
        )
        journal.register_cartridge(
            form.needle.strip(), form.cartridge_lot.strip(), form.cartridge_expiry.strip()
        )
        journal.register_pigment(
            form.pigment_shade.strip(), form.pigment_dilution.strip(), form.pigment_lot.strip()
        )
        session = cls(journal, pen, form, simulated, today, uid)
        if previous is not None:
            session.previous = previous
            session.previous_figures = zone_figures(journal.passes(previous.uid))
        session.recorder = Recorder(journal, pen, pen_uid=pen_uid)
        session.recorder.start()
        return session

    def interlock_problems(self, zone: ZoneCode | None) -> list[str]:
        """What still stops the needle (shared/domain.md, "Interlocks")."""
        found = []
        expiry = self.form.expiry_date()
        if expiry is None or expiry < self.today():
            found.append("the cartridge has expired: register a new one")
        if not self.form.consent:
            found.append("consent is not recorded")
        if zone is None:
            found.append("choose a zone (1…0)")
        recorder = self.recorder
        if recorder is not None and recorder.error is not None:
            found.append(f"the journal cannot record: {recorder.error}")
        return found

    def set_zone(self, zone: ZoneCode, scar: ScarKind | None) -> None:
        self.journal.set_zone(zone, scar)

    def figures(self) -> dict[str, ZoneFigures]:
        return zone_figures(self.journal.passes(self.session_uid))

    def flag(self, note: str | None = None) -> str:
        return self.journal.flag_pass("flagged", note)

    def end(self) -> dict[str, ZoneFigures]:
        """Stop following the pen, close the session, return the per-zone summary."""
        if self.recorder is not None:
            self.recorder.stop()
            self.recorder = None
        summary = self.figures()
        self.journal.close_session()
        return summary


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
