"""Client-side records of the micro-injury work (issue 12): measured zone areas, adjunct
treatments, hair measurements with their photos, and what they show over time -- per
client, and across the journal's clients as an association, never as proof.

Everything is read from and written to the session journal (chained records); nothing
here drives a pen or imports Textual.
"""

from __future__ import annotations

from .adjuncts import (
    AdjunctCourse,
    Treatment,
    active_during,
    active_on,
    client_adjuncts,
    find_course,
    start_adjunct,
    stop_adjunct,
)
from .areas import ZoneArea, client_areas, record_areas
from .client_ref import ClientRef, client_for_reading, client_for_record, first_session_day
from .cohort import DOSE_BINS, WORDING, Cohort, CohortPoint, DoseBin, GroupSummary, cohort
from .journal_access import open_for_records
from .measurements import METHODS, HairMeasurement, client_outcomes, record_outcome
from .photos import PhotoCheck, PhotoRef, PhotoState, check_photo, reference_photo
from .timeline import ClientTimeline, DosePoint, MeasurementPoint, ZoneSeries, client_timeline

__all__ = [
    "DOSE_BINS",
    "METHODS",
    "WORDING",
    "AdjunctCourse",
    "ClientRef",
    "ClientTimeline",
    "Cohort",
    "CohortPoint",
    "DoseBin",
    "DosePoint",
    "GroupSummary",
    "HairMeasurement",
    "MeasurementPoint",
    "PhotoCheck",
    "PhotoRef",
    "PhotoState",
    "Treatment",
    "ZoneArea",
    "ZoneSeries",
    "active_during",
    "active_on",
    "check_photo",
    "client_adjuncts",
    "client_areas",
    "client_for_reading",
    "client_for_record",
    "client_outcomes",
    "client_timeline",
    "cohort",
    "find_course",
    "first_session_day",
    "open_for_records",
    "record_areas",
    "record_outcome",
    "reference_photo",
    "start_adjunct",
    "stop_adjunct",
]
