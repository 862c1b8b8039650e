"""A hair measurement entered in the dashboard: the dialog's text turned into what
``smpctl outcomes add`` records, and recorded through the same function
(``smpctl.outcomes.record_outcome``), on the dashboard's own journal.

Only the typing is checked here (a day that is not a date, a count that is not a number);
what a measurement must be (a figure at all, counts a scalp can hold, a rating with its
scale, a photo that is there, a day from the first session to today) is the outcomes
module's to say, so the dashboard and the command line refuse the same entries with the
same words, and nothing is written when either refuses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from smpctl.errors import ClientRecordError
from smpctl.journal import Journal
from smpctl.outcomes import ClientRef, HairMeasurement, client_outcomes, record_outcome

AUTO_METHOD = ""
"""The method left to ``record_outcome``: trichoscope with counts, photo with a rating."""


@dataclass(frozen=True)
class MeasurementForm:
    """The dialog's fields as typed."""

    zone: str
    day: str
    terminal: str = ""
    vellus: str = ""
    rating: str = ""
    scale: str = ""
    photo: str = ""
    method: str = AUTO_METHOD
    note: str = ""

    def parsed(self) -> tuple[dict[str, Any], list[str]]:
        """(``record_outcome``'s keyword arguments, the typing problems), in the form's
        order; an empty field is left out."""
        problems: list[str] = []
        values: dict[str, Any] = {"zone": self.zone}
        if not self.zone.strip():
            problems.append("choose the zone measured")
        try:
            values["day"] = dt.date.fromisoformat(self.day.strip())
        except ValueError:
            problems.append(f"the day {self.day.strip()!r} is not a date: write YYYY-MM-DD")
        for name, text, what in (
            ("terminal_per_cm2", self.terminal, "terminal hairs/cm²"),
            ("vellus_per_cm2", self.vellus, "vellus hairs/cm²"),
            ("rating", self.rating, "the rating"),
        ):
            number = _number(text, what, problems)
            if number is not None:
                values[name] = number
        optional = {
            "rating_scale": self.scale,
            "photo": self.photo,
            "method": self.method,
            "note": self.note,
        }
        values.update({k: v.strip() for k, v in optional.items() if v.strip()})
        return values, problems


def _number(text: str, what: str, problems: list[str]) -> float | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        problems.append(f"{what} {text!r} is not a number")
        return None


def record_measurement(
    journal: Journal, client: ClientRef, form: MeasurementForm, *, today: dt.date
) -> HairMeasurement:
    """Record the measurement as ``smpctl outcomes add`` does, on ``journal`` (the
    dashboard's, open as writer); ClientRecordError (nothing written) when it cannot be."""
    values, problems = form.parsed()
    if problems:
        raise ClientRecordError("; ".join(problems) + ". Nothing was recorded.")
    uid = record_outcome(journal, client, today=today, **values)
    return next(m for m in client_outcomes(journal, client.uid, check_photos=False) if m.uid == uid)


def figures_text(m: HairMeasurement) -> str:
    """``terminal 62, vellus 18 /cm²; rating 3 (Norwood)``: what was measured, briefly."""
    counts = [
        f"{label} {value:g}"
        for label, value in (("terminal", m.terminal_per_cm2), ("vellus", m.vellus_per_cm2))
        if value is not None
    ]
    parts = [", ".join(counts) + " /cm²"] if counts else []
    if m.rating is not None:
        parts.append(f"rating {m.rating:g} ({m.rating_scale})")
    return "; ".join(parts)


def short_figures(m: HairMeasurement) -> str:
    """For one line of the history panel: the counts, else the rating."""
    if m.counted or m.vellus_per_cm2 is not None:
        return figures_text(replace(m, rating=None))
    return figures_text(m)


def latest_per_zone(measurements: list[HairMeasurement]) -> dict[str, HairMeasurement]:
    """The newest measurement of each zone (``client_outcomes`` gives them oldest first)."""
    return {m.zone: m for m in measurements}
