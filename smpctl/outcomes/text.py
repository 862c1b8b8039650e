"""What the ``clients`` and ``outcomes`` commands print in a terminal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .adjuncts import AdjunctCourse
from .areas import ZoneArea
from .cohort import DOSE_BINS, LEFT_OUT_REASONS, WORDING, Cohort, GroupSummary
from .photos import PhotoState
from .terminal_plot import zone_plot, zone_title
from .timeline import ClientTimeline, MeasurementPoint, SessionMark, ZoneSeries


def num(value: float | None, fmt: str = ".1f") -> str:
    return "-" if value is None else f"{value:{fmt}}"


def signed(value: float) -> str:
    return f"{value:+.1f}"


def areas_text(pseudonym: str, areas: Sequence[ZoneArea]) -> str:
    out = [
        f"Zone areas in force for client {pseudonym} (used by the next session's doses):",
        f"  {'zone':<6} {'cm²':>7}  {'source':<9} {'measured':<10}  method",
    ]
    for a in areas:
        day = a.measured_day.isoformat() if a.measured_day else "-"
        out.append(f"  {a.zone:<6} {a.area_cm2:>7.1f}  {a.source:<9} {day:<10}  {a.method or '-'}")
    return "\n".join(out)


def course_line(c: AdjunctCourse, today: dt.date | None = None) -> str:
    until = c.stopped.isoformat() if c.stopped else "ongoing"
    active = "  active" if today is not None and c.active_on(today) else ""
    return f"{c.uid[:8]}  {c.name:<28} {c.started.isoformat()} -> {until}{active}".rstrip()


def adjuncts_text(pseudonym: str, courses: Sequence[AdjunctCourse], on: dt.date) -> str:
    if not courses:
        return f"No adjunct treatment recorded for client {pseudonym}."
    out = [f"Adjunct treatments of client {pseudonym} (active = on {on.isoformat()}):"]
    out += ["  " + course_line(c, on) for c in courses]
    return "\n".join(out)


def _session_text(s: SessionMark) -> str:
    return f"#{s.number} {s.day.isoformat()} {s.kind}"


def _measure_cells(p: MeasurementPoint) -> str:
    m = p.measurement
    rating = f"{m.rating:g} {m.rating_scale}" if m.rating is not None else "-"
    photo = m.photo.state.value if m.photo is not None else "-"
    return (
        f"{num(m.terminal_per_cm2):>8} {num(m.vellus_per_cm2):>7}  {rating:<14} {photo:<8}"
        f" {', '.join(p.adjuncts) or '-'}"
    )


def zone_rows(series: ZoneSeries) -> list[str]:
    """Sessions and measurements by day; a measurement on a session day comes first."""
    head = (
        f"  {'day':<10}  {'event':<24} {'dose/cm²':>9} {'cumul./cm²':>10}  "
        f"{'terminal':>8} {'vellus':>7}  {'rating':<14} {'photo':<8} adjuncts"
    )
    events: list[tuple[dt.date, int, str]] = []
    for d in series.doses:
        floor = "" if d.complete else "+"
        events.append(
            (
                d.session.day,
                1,
                f"  {d.session.day.isoformat():<10}  "
                f"{f'session #{d.session.number} {d.session.kind}':<24} "
                f"{num(d.per_cm2):>9} {num(d.cumulative_per_cm2) + floor:>10}",
            )
        )
    for p in series.measurements:
        m = p.measurement
        floor = "" if p.complete else "+"
        events.append(
            (
                m.day,
                0,
                f"  {m.day.isoformat():<10}  {'measurement (' + (m.method or '-') + ')':<24} "
                f"{'':>9} {num(p.cumulative_per_cm2) + floor:>10}  {_measure_cells(p)}",
            )
        )
    events.sort(key=lambda e: (e[0], e[1]))
    return [head, *(line.rstrip() for _, _, line in events)]


def timeline_text(timeline: ClientTimeline, *, plots: bool = True, width: int = 100) -> str:
    out = [f"Outcomes of client {timeline.client.pseudonym}"]
    sessions = " · ".join(_session_text(s) for s in timeline.sessions) or "none recorded"
    out.append(f"Sessions: {sessions}")
    if timeline.adjuncts:
        out.append("Adjunct treatments:")
        out += ["  " + course_line(c) for c in timeline.adjuncts]
    else:
        out.append("Adjunct treatments: none recorded")
    if not timeline.zones:
        out.append("No zone treated or measured yet.")
        return "\n".join(out)
    origin = timeline.sessions[0].day if timeline.sessions else None
    until = timeline.last_day
    for series in timeline.zones.values():
        out += ["", zone_title(series.zone), *zone_rows(series)]
        if plots and origin is not None:
            out += ["", zone_plot(series, origin, until=until, width=width)]
    changed = [
        p.measurement
        for s in timeline.zones.values()
        for p in s.measurements
        if p.measurement.photo is not None and p.measurement.photo.state is not PhotoState.OK
    ]
    out += [
        "",
        "dose/cm²: punctures per cm² in the session (each with the zone area in force then); "
        "cumul.: the total reached, before the day's session for a measurement. '+': a floor "
        "(a session's dose unknown).",
    ]
    for m in changed:
        assert m.photo is not None
        why = f" ({m.photo.detail})" if m.photo.detail else ""
        out.append(
            f"PHOTO {m.photo.state.value}: {m.photo.path}{why} -- recorded {m.day.isoformat()} "
            f"for {m.zone}; its bytes no longer match the recorded hash or it cannot be read."
        )
    return "\n".join(out)


def _group_line(g: GroupSummary) -> str:
    return (
        f"    {g.group:<16} {g.n:>3}  {signed(g.median_change):>8}  "
        f"{signed(g.min_change) + ' .. ' + signed(g.max_change):<16} "
        f"{g.median_dose:>10,.0f}  {g.median_days:>6.0f}"
    )


SPLIT_TITLES = {
    "dose": "by cumulative dose at follow-up (punctures/cm²)",
    "session kind": "by session kind (sessions before follow-up)",
    "adjunct": "by adjunct treatment (active between baseline and follow-up; a client-zone "
    "counts under each)",
}


def cohort_text(result: Cohort) -> str:
    out = [
        "Hair density against micro-injury dose across the journal's clients",
        WORDING,
        "",
        f"Clients: {result.clients}; {result.clients_included} with at least one zone counted "
        f"at baseline and follow-up; {result.clients_left_out} left out "
        f"({result.clients_without_measurement} with no hair measurement at all).",
    ]
    skipped = [f"{n} {LEFT_OUT_REASONS[k]}" for k, n in result.left_out.items() if n]
    if skipped:
        out.append("Client-zones left out: " + "; ".join(skipped) + ".")
    late = sum(1 for p in result.points if not p.baseline_before_treatment)
    if late:
        out.append(
            f"{late} client-zone(s) have no count before treatment began: their baseline is "
            "their first count, taken after."
        )
    out.append(
        "Change = follow-up minus baseline terminal hairs/cm² (baseline: last count on or "
        "before the zone's first treated day, else the first; follow-up: the latest). "
        "Dose bins (punctures/cm²): " + ", ".join(b.label for b in DOSE_BINS) + "."
    )
    if not result.points:
        out += ["", "No client-zone has both a baseline and a follow-up count yet."]
        return "\n".join(out)
    out.append(
        "Columns: n; change in terminal hairs/cm², median and range (min .. max); median "
        "cumulative dose at follow-up (punctures/cm²); median days from baseline to follow-up."
    )
    head = f"    {'group':<16} {'n':>3}  {'median':>8}  {'range':<16} {'dose/cm²':>10}  {'days':>6}"
    for zone in result.zones:
        groups = [g for g in result.groups if g.zone == zone]
        total = next(g for g in groups if g.split == "all")
        count = f"n = {total.n} client-zone{'s' if total.n != 1 else ''}"
        out += ["", f"{zone_title(zone)}  ({count})", head, _group_line(total)]
        for split, title in SPLIT_TITLES.items():
            mine = [g for g in groups if g.split == split]
            if mine:
                out.append(f"  {title}")
                out += [_group_line(g) for g in mine]
    return "\n".join(line.rstrip() for line in out)
