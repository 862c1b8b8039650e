"""A client's outcomes as one self-contained, printable HTML file: per zone a chart (inline
SVG: cumulative dose, hair density, sessions by kind, adjunct courses) and its figures.
Nothing is fetched (no script, font or image); photos are listed by path and state, not
embedded, since the journal holds them by reference only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from smpctl.review.report import CSS as REPORT_CSS
from smpctl.review.source import installed_version

from .adjuncts import AdjunctCourse
from .photos import PhotoState
from .terminal_plot import zone_title
from .timeline import MICRONEEDLING, ClientTimeline, ZoneSeries

CSS = (
    REPORT_CSS
    + """
svg.outcome { width: 100%; max-width: 44rem; display: block; }
.dose-line { fill: none; stroke: #08306b; stroke-width: 2; }
.terminal-line { fill: none; stroke: #238b45; stroke-width: 1.6; }
.vellus-line { fill: none; stroke: #74c476; stroke-width: 1.2; stroke-dasharray: 4 3; }
.rating-line { fill: none; stroke: #6a51a3; stroke-width: 1.4; }
.terminal-dot { fill: #238b45; } .vellus-dot { fill: #74c476; } .rating-dot { fill: #6a51a3; }
.smp-mark { fill: #08306b; } .mn-mark { fill: #d94801; }
.course { fill: #fdd0a2; stroke: #d94801; stroke-width: .5; }
.grid { stroke: #eee; }
.photo-bad { color: #b30000; font-weight: 600; }
.note { border-left: 3px solid var(--accent); padding: .3rem .6rem; background: #f5f8fc; }
"""
)

W, H = 640, 250
LEFT, RIGHT, TOP, BOTTOM = 56, 584, 16, 176
"""The plot area inside the SVG; adjunct courses are drawn as bands below it."""


CHART_KEY = (
    "<p class='muted'>Dark blue steps: cumulative punctures/cm² (left axis), with each "
    "session (S SMP, M microneedling). Green: terminal hairs/cm²; light green, dashed: vellus "
    "hairs/cm² (or purple: a rating), right axis. Orange bands: adjunct courses. Both axes "
    "start at 0.</p>"
)


def _ticks(top: float, count: int = 4) -> list[float]:
    return [top * i / count for i in range(count + 1)]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def zone_chart(
    series: ZoneSeries,
    origin: dt.date,
    adjuncts: Sequence[AdjunctCourse],
    until: dt.date | None = None,
) -> str:
    """One zone from ``origin`` to ``until`` (a client's zones share one time axis)."""
    measured = [p.measurement for p in series.measurements]
    last = max(
        [
            origin,
            until or origin,
            *(d.session.day for d in series.doses),
            *(m.day for m in measured),
        ]
    )
    span = max(1, (last - origin).days)
    dose_top = max([d.cumulative_per_cm2 for d in series.doses] or [0.0]) * 1.1 or 1.0
    counts = [v for m in measured for v in (m.terminal_per_cm2, m.vellus_per_cm2) if v is not None]
    rated = [m for m in measured if m.rating is not None]
    use_ratings = not counts and bool(rated)
    right_values = [float(m.rating or 0.0) for m in rated] if use_ratings else counts
    right_top = max([*right_values, 0.0]) * 1.1 or 1.0

    def x(day: dt.date) -> float:
        return LEFT + (day - origin).days / span * (RIGHT - LEFT)

    def y_dose(v: float) -> float:
        return BOTTOM - v / dose_top * (BOTTOM - TOP)

    def y_right(v: float) -> float:
        return BOTTOM - v / right_top * (BOTTOM - TOP)

    right_label = "rating" if use_ratings else "hairs/cm²"
    parts = [
        f'<svg class="outcome" viewBox="0 0 {W} {H}" role="img" aria-label="'
        f'{escape(series.zone)}: cumulative dose and {right_label} over time">',
        f'<rect x="{LEFT}" y="{TOP}" width="{RIGHT - LEFT}" height="{BOTTOM - TOP}" '
        'class="frame" />',
    ]
    for v in _ticks(dose_top / 1.1):
        yy = y_dose(v)
        parts.append(
            f'<line x1="{LEFT}" x2="{RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}" class="grid" />'
            f'<text x="{LEFT - 4}" y="{yy + 3:.1f}" text-anchor="end" class="axis">'
            f"{_fmt(v)}</text>"
        )
    for v in _ticks(right_top / 1.1) if right_values else []:
        parts.append(
            f'<text x="{RIGHT + 4}" y="{y_right(v) + 3:.1f}" class="axis">{_fmt(v)}</text>'
        )
    for i in range(5):
        day = origin + dt.timedelta(days=round(span * i / 4))
        parts.append(
            f'<text x="{x(day):.1f}" y="{BOTTOM + 12}" text-anchor="middle" class="axis">'
            f"{(day - origin).days} d</text>"
        )
    parts.append(f'<text x="{LEFT}" y="10" class="axis">punctures/cm² (cumulative)</text>')
    if right_values:
        parts.append(
            f'<text x="{RIGHT}" y="10" text-anchor="end" class="axis">{right_label}</text>'
        )
    # cumulative dose: a step at each treating session
    steps = [(x(origin), y_dose(0.0))]
    level = 0.0
    for d in series.doses:
        steps += [
            (x(d.session.day), y_dose(level)),
            (x(d.session.day), y_dose(d.cumulative_per_cm2)),
        ]
        level = d.cumulative_per_cm2
    steps.append((x(last), y_dose(level)))
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in steps)
    parts.append(f'<polyline points="{points}" class="dose-line" />')
    for d in series.doses:
        mark = "mn-mark" if d.session.kind == MICRONEEDLING else "smp-mark"
        letter = "M" if d.session.kind == MICRONEEDLING else "S"
        cx, cy = x(d.session.day), y_dose(d.cumulative_per_cm2)
        dose = "unknown" if d.per_cm2 is None else f"{d.per_cm2:,.0f}/cm²"
        parts.append(
            f"<g><title>session #{d.session.number} {escape(d.session.kind)} "
            f"{d.session.day.isoformat()}: {dose}, cumulative "
            f"{d.cumulative_per_cm2:,.0f}/cm²</title>"
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" class="{mark}" />'
            f'<text x="{cx:.1f}" y="{cy + 3:.1f}" text-anchor="middle" fill="#fff" '
            f'class="zval">{letter}</text></g>'
        )
    lines = (
        [("rating", [(m.day, float(m.rating or 0.0)) for m in rated])]
        if use_ratings
        else [
            (
                "terminal",
                [(m.day, m.terminal_per_cm2) for m in measured if m.terminal_per_cm2 is not None],
            ),
            (
                "vellus",
                [(m.day, m.vellus_per_cm2) for m in measured if m.vellus_per_cm2 is not None],
            ),
        ]
    )
    for name, values in lines:
        if not values:
            continue
        pts = " ".join(f"{x(day):.1f},{y_right(float(v)):.1f}" for day, v in values)
        parts.append(f'<polyline points="{pts}" class="{name}-line" />')
        for day, v in values:
            parts.append(
                f'<circle cx="{x(day):.1f}" cy="{y_right(float(v)):.1f}" r="3" '
                f'class="{name}-dot"><title>{name} {float(v):g} on {day.isoformat()}'
                "</title></circle>"
            )
    for i, course in enumerate(adjuncts[:4]):
        y0 = BOTTOM + 20 + i * 14
        start = max(course.started, origin)
        end = min(course.stopped or last, last)
        if end < origin or start > last:
            continue
        x0, x1 = x(start), max(x(end), x(start) + 2)
        parts.append(
            f'<rect x="{x0:.1f}" y="{y0}" width="{x1 - x0:.1f}" height="9" class="course">'
            f"<title>{escape(course.name)}</title></rect>"
            f'<text x="{LEFT - 4}" y="{y0 + 8}" text-anchor="end" class="axis">'
            f"{escape(course.treatment)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _zone_table(series: ZoneSeries) -> str:
    rows: list[tuple[dt.date, int, str]] = []
    for d in series.doses:
        dose = "unknown" if d.per_cm2 is None else f"{d.per_cm2:,.1f}"
        floor = "" if d.complete else " (floor)"
        rows.append(
            (
                d.session.day,
                1,
                f"<tr><td>{d.session.day.isoformat()}</td><td class=text>session "
                f"#{d.session.number} {escape(d.session.kind)}</td><td>{dose}</td>"
                f"<td>{d.cumulative_per_cm2:,.1f}{floor}</td><td></td><td></td><td></td>"
                "<td></td><td></td></tr>",
            )
        )
    for p in series.measurements:
        m = p.measurement
        rating = f"{m.rating:g} {escape(m.rating_scale or '')}" if m.rating is not None else "–"
        if m.photo is None:
            photo = "–"
        else:
            bad = m.photo.state is not PhotoState.OK
            photo = (
                f"<span class='{'photo-bad' if bad else ''}' title='{escape(m.photo.path)}'>"
                f"{m.photo.state.value}</span>"
            )
        rows.append(
            (
                m.day,
                0,
                f"<tr><td>{m.day.isoformat()}</td><td class=text>measurement "
                f"({escape(m.method or '–')})</td><td></td><td>{p.cumulative_per_cm2:,.1f}"
                f"{'' if p.complete else ' (floor)'}</td>"
                f"<td>{'–' if m.terminal_per_cm2 is None else f'{m.terminal_per_cm2:.1f}'}</td>"
                f"<td>{'–' if m.vellus_per_cm2 is None else f'{m.vellus_per_cm2:.1f}'}</td>"
                f"<td class=text>{rating}</td><td class=text>{photo}</td>"
                f"<td class=text>{escape(', '.join(p.adjuncts) or '–')}</td></tr>",
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    head = (
        "<tr><th>day</th><th class=text>event</th><th>dose/cm²</th><th>cumulative/cm²</th>"
        "<th>terminal/cm²</th><th>vellus/cm²</th><th class=text>rating</th>"
        "<th class=text>photo</th><th class=text>adjuncts active</th></tr>"
    )
    return f"<table>{head}{''.join(r for _, _, r in rows)}</table>"


def render_outcomes(timeline: ClientTimeline, generated: dt.datetime) -> str:
    title = f"Outcomes — client {timeline.client.pseudonym}"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<p class='note'>The clinic's records of one client over time: the micro-injury dose "
        "each zone received and the hair measured there. A change over time is an "
        "association in these records, with many possible causes (adjunct treatments, "
        "season, measurement); it does not show that a treatment works.</p>",
        "<h2>Sessions</h2>",
    ]
    if timeline.sessions:
        parts.append("<table><tr><th>#</th><th>day</th><th class=text>kind</th></tr>")
        parts += [
            f"<tr><td>{s.number}</td><td>{s.day.isoformat()}</td>"
            f"<td class=text>{escape(s.kind)}</td></tr>"
            for s in timeline.sessions
        ]
        parts.append("</table>")
    else:
        parts.append("<p>No session recorded.</p>")
    parts.append("<h2>Adjunct treatments</h2>")
    if timeline.adjuncts:
        parts.append(
            "<table><tr><th class=text>treatment</th><th>started</th><th>stopped</th></tr>"
        )
        parts += [
            f"<tr><td class=text>{escape(c.name)}</td><td>{c.started.isoformat()}</td>"
            f"<td>{c.stopped.isoformat() if c.stopped else 'ongoing'}</td></tr>"
            for c in timeline.adjuncts
        ]
        parts.append("</table>")
    else:
        parts.append("<p>None recorded.</p>")
    origin = timeline.sessions[0].day if timeline.sessions else None
    for series in timeline.zones.values():
        parts.append(f"<h2 id='zone-{escape(series.zone)}'>{escape(zone_title(series.zone))}</h2>")
        if origin is not None:
            parts.append(zone_chart(series, origin, timeline.adjuncts, timeline.last_day))
            parts.append(CHART_KEY)
        parts.append(_zone_table(series))
    parts.append(
        "<p class='muted'>Dose: punctures per cm² (in-skin strokes × needles over the zone's "
        "area in force for each session). Days count from the first session. S: SMP "
        "session, M: microneedling session; bands under a chart: adjunct courses. A "
        "measurement on a session day was taken before that session. Photos are kept by "
        "path and SHA-256: OK matches, CHANGED differs, MISSING cannot be read.</p>"
    )
    parts.append(
        f"<footer>Generated {generated:%Y-%m-%d %H:%M} by smpctl "
        f"{escape(installed_version())} from the session journal. Client named by pseudonym "
        "only.</footer></body></html>"
    )
    return "\n".join(parts)
