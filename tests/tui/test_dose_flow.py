"""The dashboard's dose rules without a screen: the start form's cartridge and area checks,
the live dose arithmetic, the ceiling guard and the interval warnings at session start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from frozen_pen import FrozenPen

from smpctl import hard_limits
from smpctl.client import Pen
from smpctl.dose import DoseBounds
from smpctl.errors import JournalError
from smpctl.journal import Journal, Outcome, PassRecord
from smpctl.journal.endpoints import ZoneEndPoint, newest_end_points
from smpctl.profiles import ProfileLibrary
from smpctl.tui.alarms import STOP, WARN
from smpctl.tui.session_flow.dose_text import dose_bar, dose_shade
from smpctl.tui.session_flow.live_dose import DoseGuard, DoseMeter
from smpctl.tui.session_flow.start_form import SessionForm, default_profile, parse_areas
from smpctl.tui.session_flow.treatment_session import TreatmentSession
from smpctl.zones import ZoneCode

TODAY = dt.date(2026, 11, 25)
SMP_FORM = SessionForm(
    client="C-7",
    practitioner="AB",
    needle="3RL 0.25",
    cartridge_lot="L",
    cartridge_expiry="2027-01-01",
    pigment_lot="P",
    consent=True,
)
MN_FORM = replace(SMP_FORM, kind="microneedling", needle="36-pin", pigment_lot="")
KINDS = {
    "smp-base": "smp",
    "smp-conservative": "smp",
    "mn-gentle": "microneedling",
    "mn-scalp": "microneedling",
}
LIBRARY = ProfileLibrary.default(None)


# ---------------------------------------------------------------------- the start form


def test_a_needle_count_that_is_not_the_kinds_is_a_form_problem() -> None:
    form = replace(MN_FORM, cartridge_needles="12")
    problems = form.problems(TODAY)
    assert len(problems) == 1
    assert "36-pin cartridge has 36 needle(s), not 12" in problems[0]
    assert replace(MN_FORM, cartridge_needles="36").problems(TODAY) == []


def test_a_needle_count_must_be_a_whole_number() -> None:
    problems = replace(SMP_FORM, cartridge_needles="three").problems(TODAY)
    assert problems == ["enter the needles on the box as a whole number, or leave it empty"]


def test_an_unknown_cartridge_kind_is_named() -> None:
    problems = replace(SMP_FORM, needle="5RL 0.30").problems(TODAY)
    assert len(problems) == 1 and "'5RL 0.30'" in problems[0] and "36-pin" in problems[0]


def test_the_cartridge_must_suit_the_session_kind() -> None:
    smp = replace(SMP_FORM, needle="12-pin").problems(TODAY)
    assert len(smp) == 1 and "12-pin cartridge is for microneedling" in smp[0]
    mn = replace(MN_FORM, needle="1RL 0.20").problems(TODAY)
    assert len(mn) == 1 and "1RL cartridge is for SMP" in mn[0]


def test_microneedling_asks_no_pigment_and_smp_does() -> None:
    assert MN_FORM.problems(TODAY) == []
    assert replace(SMP_FORM, pigment_lot="").problems(TODAY) == ["enter the pigment lot"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("CRN=0", ("zone CRN", "is zero")),
        ("HL=-3", ("zone HL", "is negative")),
        ("OCC=900", ("zone OCC", "larger than a whole scalp")),
        ("HL=abc", ("HL", "not a number")),
        ("XX=20", ("unknown zone XX",)),
        ("HL 28 CRN", ("write zone areas as CODE=cm²",)),
        ("HL=28, HL=30", ("HL is given twice",)),
    ],
)
def test_a_bad_zone_area_is_a_form_problem_naming_the_zone_and_why(
    text: str, words: tuple[str, ...]
) -> None:
    problems = replace(SMP_FORM, areas=text).problems(TODAY)
    assert len(problems) == 1
    assert all(w in problems[0] for w in words), problems


def test_zone_areas_are_read_in_the_ways_a_practitioner_types_them() -> None:
    assert parse_areas("HL=28, crn: 55; NAP 31.5cm²") == (
        {"HL": 28.0, "CRN": 55.0, "NAP": 31.5},
        [],
    )
    assert parse_areas("  ") == ({}, [])


def test_the_profile_must_be_of_the_session_kind() -> None:
    problems = replace(SMP_FORM, profile="mn-scalp").problems(TODAY, profile_kinds=KINDS)
    assert problems == [
        "profile mn-scalp is for microneedling sessions, this is a SMP session: choose "
        "smp-base or smp-conservative"
    ]
    assert replace(MN_FORM, profile="mn-scalp").problems(TODAY, profile_kinds=KINDS) == []
    unknown = replace(SMP_FORM, profile="nope").problems(TODAY, profile_kinds=KINDS)
    assert len(unknown) == 1 and "no profile named 'nope'" in unknown[0]


def test_the_profile_offered_follows_the_kind() -> None:
    assert default_profile("microneedling", KINDS, "smp-conservative") == "mn-scalp"
    assert default_profile("smp", KINDS, "smp-conservative") == "smp-conservative"
    assert default_profile("microneedling", {"mn-gentle": "microneedling"}, None) == "mn-gentle"
    assert default_profile("microneedling", {"smp-base": "smp"}, "smp-base") == ""


# ---------------------------------------------------------------------- live dose


def a_pass(
    uid: str, zone: str, *, in_skin: int | None, closed: bool = True, needles: int = 3
) -> PassRecord:
    return PassRecord(
        uid=uid,
        session_uid="S",
        number=1,
        zone=zone,
        scar=None,
        started_wall=0.0,
        started_t_us=None,
        ended_wall=10.0 if closed else None,
        ended_t_us=None,
        outcome=Outcome.COMPLETE if closed else None,
        continues_uid=None,
        cartridge_uid="C",
        pigment_uid=None,
        setpoint_hz=100.0,
        depth_mm=1.0,
        samples=1000,
        speed_mean_hz=100.0,
        speed_min_hz=99.0,
        speed_max_hz=101.0,
        strokes=1000,
        peak_current_a=1.0,
        max_temp_c=30.0,
        events=(),
        flag=None,
        note=None,
        in_skin_strokes=in_skin if closed else None,
        needles=needles if closed else None,
        punctures=in_skin * needles if closed and in_skin is not None else None,
    )


def test_the_live_dose_is_closed_passes_plus_the_running_one_times_needles_over_area() -> None:
    meter = DoseMeter({"HL": 30.0, "FRN": 60.0}, needles=3)
    meter.load([a_pass("p1", "HL", in_skin=100), a_pass("p2", "FRN", in_skin=40)])
    meter.observe(("p3", 200, 50), "HL")
    # HL: (100 + 50) × 3 / 30; FRN: 40 × 3 / 60
    assert meter.punctures() == {"HL": 450, "FRN": 120}
    assert meter.per_cm2() == {"HL": 15.0, "FRN": 2.0}


def test_a_pass_is_never_counted_twice_nor_missed_as_it_closes() -> None:
    meter = DoseMeter({"HL": 30.0}, needles=1)
    meter.observe(("p1", 100, 60), "HL")
    # the journal row is there and the recorder still shows the pass live
    meter.load([a_pass("p1", "HL", in_skin=61, needles=1)])
    meter.observe(("p1", 100, 60), "HL")
    assert meter.punctures() == {"HL": 61}
    # the recorder no longer shows it, the journal was not read again yet: still counted
    meter2 = DoseMeter({"HL": 30.0}, needles=1)
    meter2.observe(("p1", 100, 60), "HL")
    meter2.observe((None, 0, 0), "HL")
    assert meter2.punctures() == {"HL": 60}
    meter2.load([a_pass("p1", "HL", in_skin=61, needles=1)])
    assert meter2.punctures() == {"HL": 61}


def test_a_running_pass_keeps_the_zone_it_began_on() -> None:
    meter = DoseMeter({"HL": 30.0, "CRN": 60.0}, needles=1)
    meter.observe(("p1", 10, 9), "HL")
    meter.observe(("p1", 20, 12), "CRN")  # the zone key pressed as the pass closes
    assert meter.punctures() == {"HL": 12}


def test_a_running_pass_of_a_zone_without_needles_counts_nothing() -> None:
    meter = DoseMeter({"HL": 30.0}, needles=None)
    meter.observe(("p1", 10, 9), "HL")
    assert meter.punctures() == {}


def test_the_bar_and_the_map_shade_follow_the_target() -> None:
    bounds = DoseBounds(ZoneCode.HL, 200.0, 480.0, 10)
    assert dose_bar(0.55) == "█████░░░░░"
    assert dose_bar(1.7) == "██████████"
    assert dose_shade(bounds.check(0.0)) is None
    assert dose_shade(bounds.check(60.0)) == ("low", 30)
    assert dose_shade(bounds.check(150.0)) == ("mid", 70)
    assert dose_shade(bounds.check(230.0)) == ("target", 110)
    assert dose_shade(bounds.check(440.0)) == ("near", 220)
    assert dose_shade(bounds.check(480.0)) == ("ceiling", 240)


# ---------------------------------------------------------------------- the guard


def guard() -> DoseGuard:
    bounds = {
        "HL": DoseBounds(ZoneCode.HL, 200.0, 480.0, 10),
        "FRN": DoseBounds(ZoneCode.FRN, 800.0, 1800.0, 10),
    }
    return DoseGuard(bounds, hard_limits.MAX_SMP_DOSE_CEILING_PER_CM2)


def test_near_the_ceiling_warns_once_per_zone() -> None:
    g = guard()
    assert g.assess({"HL": 300.0}, "HL") == []
    (near,) = g.assess({"HL": 440.0}, "HL")
    assert (near.severity, near.kind, near.zone) == (WARN, "dose_near_ceiling", "HL")
    assert near.message.startswith("HL at 91 % of its ceiling of 480")
    assert g.assess({"HL": 450.0}, "HL") == []
    assert [a.zone for a in g.assess({"HL": 450.0, "FRN": 1700.0}, "HL")] == ["FRN"]


def test_the_ceiling_stops_the_needle_on_the_chosen_zone_once_and_refuses_arming() -> None:
    g = guard()
    alarms = g.assess({"HL": 481.0}, "HL")
    assert [(a.severity, a.kind, a.stops) for a in alarms] == [(STOP, "dose_ceiling_stop", True)]
    assert alarms[0].message.startswith("HL has reached its ceiling of 480 punctures/cm²")
    assert g.assess({"HL": 482.0}, "HL") == []  # stopped once, not on every refresh
    refusal = g.refusal("HL", 482.0)
    assert refusal is not None and "HL reached its ceiling of 480" in refusal
    assert "d overrides" in refusal
    # other zones are not affected
    assert g.refusal("FRN", 100.0) is None
    assert g.assess({"HL": 482.0, "FRN": 100.0}, "FRN") == []


def test_a_zone_at_its_ceiling_not_being_treated_is_said_but_stopped_only_when_chosen() -> None:
    g = guard()
    (said,) = g.assess({"HL": 500.0}, "FRN")
    assert (said.severity, said.kind, said.treating, said.stops) == (
        STOP,
        "dose_ceiling_stop",
        False,
        False,
    )
    assert g.assess({"HL": 500.0}, "FRN") == []
    assert g.refusal("HL", 500.0) is not None
    assert [(a.kind, a.stops) for a in g.assess({"HL": 500.0}, "HL")] == [
        ("dose_ceiling_stop", True)
    ]


def test_an_override_lets_the_zone_go_on_up_to_the_hard_maximum() -> None:
    g = guard()
    g.assess({"HL": 481.0}, "HL")
    assert g.overridable("HL", 481.0) is not None
    with pytest.raises(JournalError):
        g.override("HL", "  ")
    g.override("HL", "scar tissue took little pigment")
    assert g.refusal("HL", 481.0) is None
    assert g.assess({"HL": 900.0}, "HL") == []
    hard = hard_limits.MAX_SMP_DOSE_CEILING_PER_CM2
    (stop,) = g.assess({"HL": hard}, "HL")
    assert (stop.kind, stop.limit_per_cm2) == ("dose_hard_maximum_stop", hard)
    assert "no override" in stop.message
    assert g.overridable("HL", hard) is None
    assert g.refusal("HL", hard) == stop.message


def test_without_bounds_only_the_hard_maximum_guards() -> None:
    hard = hard_limits.MAX_MICRONEEDLING_DOSE_CEILING_PER_CM2
    g = DoseGuard({}, hard)
    assert g.assess({"CRN": hard - 1}, "CRN") == []
    assert [a.kind for a in g.assess({"CRN": hard}, "CRN")] == ["dose_hard_maximum_stop"]


# ---------------------------------------------------------------------- session start


class Wall:
    def __init__(self, day: dt.date) -> None:
        self.t = dt.datetime(day.year, day.month, day.day, 10, 0).timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def wall() -> Wall:
    return Wall(dt.date(2026, 11, 10))


@pytest.fixture
def journal(tmp_path: Path, wall: Wall) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite3", wall=wall) as j:
        yield j


def earlier_session(journal: Journal, zones: dict[ZoneCode, int]) -> None:
    """C-7's session 1: in-skin strokes per zone with a 3RL."""
    journal.open_session("C-7", 1, "AB", consent=True, simulated=True)
    journal.register_cartridge("3RL 0.25", "L0", "2027-01-01")
    for zone, in_skin in zones.items():
        journal.set_zone(zone)
        uid = journal.begin_pass(started_t_us=None, wall=journal.now, pen_uid=None)
        journal.end_pass(
            uid,
            outcome=Outcome.COMPLETE,
            detail=None,
            ended_t_us=None,
            wall=journal.now + 30,
            aggregates={"strokes": in_skin * 2},
            events=[],
            in_skin_strokes=in_skin,
        )
    journal.close_session()


def start(journal: Journal, form: SessionForm, today: dt.date, profile: str) -> TreatmentSession:
    return TreatmentSession.start(
        journal,
        cast(Pen, FrozenPen()),
        form,
        simulated=True,
        today=lambda: today,
        profile=LIBRARY.load(profile),
    )


def test_a_zone_treated_again_too_soon_is_warned_about_with_its_dates(
    journal: Journal, wall: Wall
) -> None:
    earlier_session(journal, {ZoneCode.CRN: 400, ZoneCode.HL: 100})
    today = dt.date(2026, 11, 17)
    wall.t += 7 * 86400
    session = start(journal, replace(SMP_FORM, session_number=2), today, "smp-base")
    try:
        warnings = session.interval_warnings
        assert [w.zone.value for w in warnings] == ["HL", "CRN"]
        assert warnings[1].message == (
            "CRN last treated 2026-11-10, 7 days ago (today is 2026-11-17); this profile asks "
            "for at least 10 days between sessions on CRN (from 2026-11-20)"
        )
        # the history the start screen and the table show: session 1 only
        crn = session.history["CRN"]
        assert crn.cumulative_per_cm2 == pytest.approx(400 * 3 / 60)
        assert crn.days_since(today) == 7
    finally:
        session.end()


def test_no_interval_warning_once_the_minimum_has_passed(journal: Journal, wall: Wall) -> None:
    earlier_session(journal, {ZoneCode.CRN: 400})
    wall.t += 10 * 86400
    session = start(journal, replace(SMP_FORM, session_number=2), dt.date(2026, 11, 20), "smp-base")
    try:
        assert session.interval_warnings == []
    finally:
        session.end()


def test_a_microneedling_session_registers_its_cartridge_and_no_pigment(
    journal: Journal,
) -> None:
    form = replace(MN_FORM, cartridge_needles="36", areas="CRN=55")
    session = start(journal, form, TODAY, "mn-scalp")
    uid = session.session_uid
    try:
        assert session.meter.needles == 36
        assert session.meter.area("CRN") == 55.0
        assert session.guard.hard_max_per_cm2 == hard_limits.MAX_MICRONEEDLING_DOSE_CEILING_PER_CM2
        assert session.guard.bounds["CRN"].ceiling_per_cm2 == 300.0
        # end points cycle none -> erythema -> pinpoint bleeding -> none; the newest is kept
        points = [session.next_end_point(ZoneCode.CRN) for _ in range(4)]
        assert points == [
            ZoneEndPoint.ERYTHEMA,
            ZoneEndPoint.PINPOINT_BLEEDING,
            ZoneEndPoint.NONE,
            ZoneEndPoint.ERYTHEMA,
        ]
        assert newest_end_points(journal, uid) == {"CRN": ZoneEndPoint.ERYTHEMA}
    finally:
        session.end()
    store: Any = journal.store
    assert store.query("SELECT kind FROM sessions WHERE uid = ?", (uid,)) == [
        {"kind": "microneedling"}
    ]
    assert store.query("SELECT COUNT(*) AS n FROM pigments")[0]["n"] == 0
    assert store.query("SELECT kind, needles FROM cartridges WHERE session_uid = ?", (uid,)) == [
        {"kind": "36-pin", "needles": 36}
    ]


def test_end_points_are_refused_in_an_smp_session(journal: Journal) -> None:
    session = start(journal, SMP_FORM, TODAY, "smp-base")
    try:
        with pytest.raises(JournalError, match="microneedling sessions only"):
            session.next_end_point(ZoneCode.HL)
    finally:
        session.end()


def test_a_bad_form_or_a_profile_of_the_other_kind_records_nothing(journal: Journal) -> None:
    for form, profile in (
        (replace(MN_FORM, cartridge_needles="12"), "mn-scalp"),
        (replace(SMP_FORM, areas="HL=0"), "smp-base"),
        (MN_FORM, "smp-base"),
    ):
        with pytest.raises(JournalError, match="cannot start the session"):
            start(journal, form, TODAY, profile)
    assert journal.sessions() == []
