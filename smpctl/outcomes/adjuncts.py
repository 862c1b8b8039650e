"""Treatments a client takes alongside SMP or microneedling (minoxidil, finasteride, PRP,
low-level light, other), with the days they ran.

Any change in hair density may come from these as much as from the needle, so the outcome
views list the ones active around each measurement and the cohort splits by them. A
course runs from its start day through its stop day (the last day taken, inclusive);
stopping is an update of that one field, so the start stays as first recorded. Two
courses of the same treatment never overlap: it would count the same days twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from smpctl.errors import AdjunctError, RecordDayError
from smpctl.journal import Insert, Journal, Update

from .client_ref import ClientRef
from .record_fields import check_not_future

SHORT_ID = 8


class Treatment(StrEnum):
    """An adjunct treatment; the value is the code written in records."""

    MINOXIDIL = "minoxidil"
    FINASTERIDE = "finasteride"
    PRP = "prp"
    LLLT = "lllt"
    OTHER = "other"

    @property
    def label(self) -> str:
        return TREATMENT_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Treatment:
        code = text.strip().lower()
        for t in cls:
            if t.value == code:
                return t
        raise AdjunctError(
            f"unknown treatment {text!r}: use one of {', '.join(t.value for t in cls)} "
            "(other needs --detail saying what it is)."
        )


TREATMENT_LABELS: dict[Treatment, str] = {
    Treatment.MINOXIDIL: "minoxidil",
    Treatment.FINASTERIDE: "finasteride",
    Treatment.PRP: "platelet-rich plasma (PRP)",
    Treatment.LLLT: "low-level light (LLLT)",
    Treatment.OTHER: "other",
}


@dataclass(frozen=True)
class AdjunctCourse:
    uid: str
    client_uid: str
    treatment: str
    """A ``Treatment`` value (kept as text: a newer journal may know more)."""
    detail: str | None
    started: dt.date
    stopped: dt.date | None
    """The last day taken; None while ongoing."""
    recorded_wall: float

    @property
    def name(self) -> str:
        """``minoxidil``, or ``other: <detail>``."""
        return f"{self.treatment}: {self.detail}" if self.treatment == "other" else self.treatment

    def active_on(self, day: dt.date) -> bool:
        return self.started <= day and (self.stopped is None or day <= self.stopped)

    def overlaps(self, first: dt.date, last: dt.date | None) -> bool:
        """Whether the course ran on any day from ``first`` to ``last`` (None: open)."""
        return (last is None or self.started <= last) and (
            self.stopped is None or self.stopped >= first
        )

    def as_dict(self, today: dt.date | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.uid,
            "treatment": self.treatment,
            "detail": self.detail,
            "started": self.started.isoformat(),
            "stopped": self.stopped.isoformat() if self.stopped else None,
        }
        if today is not None:
            out["active_today"] = self.active_on(today)
        return out


def _course(r: Mapping[str, Any]) -> AdjunctCourse:
    stopped = r["stopped_day"]
    return AdjunctCourse(
        uid=str(r["uid"]),
        client_uid=str(r["client_uid"]),
        treatment=str(r["treatment"]),
        detail=r["detail"],
        started=dt.date.fromisoformat(r["started_day"]),
        stopped=dt.date.fromisoformat(stopped) if stopped else None,
        recorded_wall=float(r["recorded_wall"]),
    )


def client_adjuncts(journal: Journal, client_uid: str) -> list[AdjunctCourse]:
    """The client's courses, earliest start first."""
    rows = journal.store.query(
        "SELECT * FROM adjuncts WHERE client_uid = ? ORDER BY started_day, recorded_wall, rowid",
        (client_uid,),
    )
    return [_course(r) for r in rows]


def all_adjuncts(journal: Journal) -> dict[str, list[AdjunctCourse]]:
    """Every client's courses, by client uid."""
    out: dict[str, list[AdjunctCourse]] = {}
    for r in journal.store.query(
        "SELECT * FROM adjuncts ORDER BY started_day, recorded_wall, rowid"
    ):
        out.setdefault(str(r["client_uid"]), []).append(_course(r))
    return out


def active_on(courses: Sequence[AdjunctCourse], day: dt.date) -> list[AdjunctCourse]:
    return [c for c in courses if c.active_on(day)]


def active_during(
    courses: Sequence[AdjunctCourse], first: dt.date, last: dt.date
) -> list[AdjunctCourse]:
    return [c for c in courses if c.overlaps(first, last)]


def _same(course: AdjunctCourse, treatment: Treatment, detail: str | None) -> bool:
    if course.treatment != treatment.value:
        return False
    if treatment is not Treatment.OTHER:
        return True
    return (course.detail or "").strip().lower() == (detail or "").strip().lower()


def _refuse_overlap(
    courses: Sequence[AdjunctCourse],
    treatment: Treatment,
    detail: str | None,
    first: dt.date,
    last: dt.date | None,
    *,
    skip: str | None = None,
) -> None:
    for c in courses:
        if c.uid != skip and _same(c, treatment, detail) and c.overlaps(first, last):
            until = c.stopped.isoformat() if c.stopped else "ongoing"
            raise AdjunctError(
                f"{c.name} is already recorded from {c.started.isoformat()} to {until} "
                f"(id {c.uid[:SHORT_ID]}), which overlaps: stop that course first, or give "
                "days outside it. Nothing was recorded."
            )


def start_adjunct(
    journal: Journal,
    client: ClientRef,
    treatment: str,
    *,
    started: dt.date,
    today: dt.date,
    stopped: dt.date | None = None,
    detail: str | None = None,
) -> str:
    """Record a course from ``started`` (through ``stopped`` for a past course); its uid."""
    kind = Treatment.parse(treatment)
    detail = (detail or "").strip() or None
    if kind is Treatment.OTHER and detail is None:
        raise AdjunctError(
            "an 'other' treatment needs --detail saying what it is (e.g. --detail "
            "'ketoconazole shampoo'). Nothing was recorded."
        )
    check_not_future(started, today, "the start day")
    if stopped is not None:
        check_not_future(stopped, today, "the stop day")
        _check_order(started, stopped)
    courses = [] if client.new else client_adjuncts(journal, client.uid)
    _refuse_overlap(courses, kind, detail, started, stopped)
    uid = journal.store.new_uid()
    journal.store.write(
        [
            *client.registration(journal),
            Insert(
                "adjuncts",
                {
                    "uid": uid,
                    "client_uid": client.uid,
                    "treatment": kind.value,
                    "detail": detail,
                    "started_day": started.isoformat(),
                    "stopped_day": stopped.isoformat() if stopped else None,
                    "recorded_wall": journal.now,
                },
            ),
        ]
    )
    return uid


def _check_order(started: dt.date, stopped: dt.date) -> None:
    if stopped < started:
        raise RecordDayError(
            f"the stop day {stopped.isoformat()} is before the start day "
            f"{started.isoformat()}: give the last day the treatment was taken. Nothing was "
            "recorded."
        )


def find_course(courses: Sequence[AdjunctCourse], which: str) -> AdjunctCourse:
    """The course ``which`` names: a treatment (its one ongoing course) or an id prefix."""
    text = which.strip().lower()
    by_id = [c for c in courses if text and c.uid.lower().startswith(text)]
    if len(by_id) == 1:
        return by_id[0]
    if len(by_id) > 1:
        raise AdjunctError(
            f"{which!r} starts more than one course id: "
            + "; ".join(c.uid[:SHORT_ID] for c in by_id)
            + ". Type more of the id."
        )
    try:
        kind = Treatment.parse(text)
    except AdjunctError:
        raise AdjunctError(
            f"no course {which!r} for this client: give a treatment "
            f"({', '.join(t.value for t in Treatment)}) or a course id; `smpctl clients "
            "adjunct CLIENT list` shows them."
        ) from None
    ongoing = [c for c in courses if c.treatment == kind.value and c.stopped is None]
    if len(ongoing) == 1:
        return ongoing[0]
    if not ongoing:
        raise AdjunctError(
            f"no ongoing {kind.value} course for this client: `smpctl clients adjunct CLIENT "
            "list` shows its courses."
        )
    listed = "; ".join(f"{c.uid[:SHORT_ID]} ({c.name})" for c in ongoing)
    raise AdjunctError(f"several ongoing {kind.value} courses: {listed}. Stop one by its id.")


def stop_adjunct(
    journal: Journal,
    client: ClientRef,
    which: str,
    *,
    stopped: dt.date,
    today: dt.date,
) -> AdjunctCourse:
    """Set the stop day of the course ``which`` names; the course as now recorded."""
    courses = client_adjuncts(journal, client.uid)
    course = find_course(courses, which)
    if course.stopped is not None:
        raise AdjunctError(
            f"{course.name} (id {course.uid[:SHORT_ID]}) was already stopped on "
            f"{course.stopped.isoformat()}. Nothing was recorded."
        )
    check_not_future(stopped, today, "the stop day")
    _check_order(course.started, stopped)
    journal.store.write([Update("adjuncts", course.uid, {"stopped_day": stopped.isoformat()})])
    return replace(course, stopped=stopped)
