"""Inline SVG for the HTML report: the scalp map and small charts. Plain strings, no
library and nothing fetched, so a report opens offline and prints as drawn.

``STRIP_POINTS`` and ``STRIP_SEGMENTS`` (a zone strip's budget) live with the strip
builder in smpctl.journal.strip_codec: the journal builds each zone's strip as passes end.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import NamedTuple

from smpctl import hard_limits
from smpctl.journal.strip_codec import STRIP_POINTS as STRIP_POINTS
from smpctl.journal.strip_codec import STRIP_SEGMENTS as STRIP_SEGMENTS
from smpctl.journal.strip_codec import StripView, ZoneStrip, centi_hz, mean_points

from .summary import ZoneRow
from .trace import TraceColumns

MAP_BOXES: dict[str, tuple[int, int, int, int]] = {
    "HL": (60, 22, 180, 40),
    "TMP_L": (24, 70, 68, 60),
    "FRN": (100, 70, 100, 60),
    "TMP_R": (208, 70, 68, 60),
    "PAR_L": (16, 138, 76, 110),
    "MID": (100, 138, 100, 52),
    "PAR_R": (208, 138, 76, 110),
    "CRN": (100, 196, 100, 52),
    "OCC": (60, 256, 180, 56),
    "NAP": (90, 320, 120, 40),
}
"""The scalp from above, front at the top: (x, y, width, height) of each zone."""

LIGHT = (232, 241, 251)
DARK = (8, 48, 107)
UNTREATED = "#eeeeee"


def shade(fraction: float) -> str:
    f = min(1.0, max(0.0, fraction))
    r, g, b = (round(lo + (hi - lo) * f) for lo, hi in zip(LIGHT, DARK, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def scalp_map(rows: Mapping[str, ZoneRow], values: Mapping[str, float | None], unit: str) -> str:
    """Each zone shaded by ``values`` (per cm²), darkest for the session's highest; a
    treated zone without a value (its dose unknown) is hatched, an untreated one grey."""
    top = max((v for v in values.values() if v is not None), default=0.0)
    parts = [
        '<svg class="scalp" viewBox="0 0 300 384" role="img" '
        f'aria-label="scalp map shaded by {escape(unit)} per zone">',
        '<defs><pattern id="unknown" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{UNTREATED}" />'
        '<path d="M0,6 6,0" stroke="#999" /></pattern></defs>',
        '<ellipse cx="150" cy="192" rx="146" ry="188" fill="none" stroke="#999" />',
        '<text x="150" y="14" text-anchor="middle" class="axis">front</text>',
    ]
    for zone, (x, y, w, h) in MAP_BOXES.items():
        row = rows.get(zone)
        value = values.get(zone)
        if row is None or not row.passes:
            fill, ink, text = UNTREATED, "#555", "not treated"
        elif value is None:
            fill, ink, text = "url(#unknown)", "#111", "unknown"
        else:
            level = value / top if top else 0.0
            fill = shade(0.15 + 0.85 * level)
            ink = "#fff" if level > 0.45 else "#111"
            text = f"{value:,.0f}/cm²"
        scars = f" +{','.join(row.scars)}" if row is not None and row.scars else ""
        title = text if text.startswith(("not", "unknown")) else f"{value:,.1f} {unit}"
        parts.append(
            f'<g class="zone" id="map-{zone}" data-zone="{zone}">'
            f"<title>{escape(zone)}{escape(scars)}: {escape(title)}</title>"
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="{fill}" '
            'stroke="#fff" stroke-width="2" />'
            f'<text x="{x + w / 2:g}" y="{y + h / 2 - 3:g}" text-anchor="middle" '
            f'fill="{ink}" class="zcode">{escape(zone)}{escape(scars)}</text>'
            f'<text x="{x + w / 2:g}" y="{y + h / 2 + 11:g}" text-anchor="middle" '
            f'fill="{ink}" class="zval">{escape(text)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def map_legend(values: Mapping[str, float | None], unit: str, *, unknown: bool = False) -> str:
    top = max((v for v in values.values() if v is not None), default=0.0)
    stops = "".join(
        f'<stop offset="{i / 4:g}" stop-color="{shade(0.15 + 0.85 * i / 4)}" />' for i in range(5)
    )
    hatched = (
        '<rect x="236" y="22" width="12" height="12" fill="url(#unknown)" stroke="#999" />'
        '<text x="252" y="32" class="axis">unknown</text>'
        if unknown
        else ""
    )
    return (
        f'<svg class="legend" viewBox="0 0 300 40" role="img" aria-label="{escape(unit)} scale">'
        f'<defs><linearGradient id="cov">{stops}</linearGradient></defs>'
        '<rect x="0" y="4" width="220" height="12" fill="url(#cov)" />'
        f'<rect x="236" y="4" width="12" height="12" fill="{UNTREATED}" stroke="#999" />'
        '<text x="0" y="30" class="axis">0</text>'
        f'<text x="220" y="30" text-anchor="end" class="axis">{top:,.0f} {escape(unit)}</text>'
        f'<text x="252" y="14" class="axis">none</text>{hatched}</svg>'
    )


def bar_chart(
    title: str, rows: Sequence[ZoneRow], values: Sequence[float], unit: str, fmt: str = ",.0f"
) -> str:
    height = 18 * len(rows) + 28
    top = max(values, default=0.0) or 1.0
    parts = [
        f'<svg class="chart" viewBox="0 0 340 {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="12" class="title">{escape(title)}</text>',
    ]
    for i, (row, value) in enumerate(zip(rows, values, strict=True)):
        y = 22 + i * 18
        w = 200 * value / top
        parts.append(
            f'<text x="52" y="{y + 11}" text-anchor="end" class="axis">{escape(row.zone)}</text>'
            f'<rect x="58" y="{y}" width="{w:.1f}" height="13" class="bar" />'
            f'<text x="{62 + w:.1f}" y="{y + 11}" class="axis">{value:{fmt}} {escape(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def range_chart(
    title: str,
    rows: Sequence[ZoneRow],
    spans: Sequence[tuple[float | None, float | None, float | None, float | None]],
    unit: str,
    top: float,
) -> str:
    """Per zone: min-max as a bar, the mean as a dot, the setpoint as a tick."""
    height = 18 * len(rows) + 28
    scale = 230 / top if top else 1.0
    parts = [
        f'<svg class="chart" viewBox="0 0 340 {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="12" class="title">{escape(title)}</text>',
    ]
    for i, (row, (lo, mean, hi, setpoint)) in enumerate(zip(rows, spans, strict=True)):
        y = 22 + i * 18
        parts.append(
            f'<text x="52" y="{y + 11}" text-anchor="end" class="axis">{escape(row.zone)}</text>'
        )
        if lo is not None and hi is not None:
            parts.append(
                f'<rect x="{58 + lo * scale:.1f}" y="{y + 4}" '
                f'width="{max(1.0, (hi - lo) * scale):.1f}" height="5" class="span" />'
            )
        if setpoint is not None:
            x = 58 + setpoint * scale
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + 13}" class="setp" />')
        if mean is not None:
            parts.append(
                f'<circle cx="{58 + mean * scale:.1f}" cy="{y + 6.5}" r="3.5" class="mean" />'
            )
            parts.append(
                f'<text x="296" y="{y + 11}" class="axis">{mean:.2f} {escape(unit)}</text>'
                if top < 10
                else f'<text x="296" y="{y + 11}" class="axis">{mean:.0f} {escape(unit)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def speed_trace(trace: TraceColumns, width: int = 260, height: int = 56) -> str:
    """One pass: measured speed (solid) against setpoint (dashed), 0 to the hard limit."""
    t, speed = trace.t_ms, trace.speed_chz
    if not t:
        return (
            f'<svg class="trace" viewBox="0 0 {width} {height}">'
            '<text x="4" y="30" class="axis">no telemetry</text></svg>'
        )
    top = max(hard_limits.MAX_SPEED_HZ * 100, max(speed))
    t0 = t[0]
    end = (t[-1] - t0) or 1.0
    x_scale, y_scale, base = (width - 4) / end, (height - 4) / top, height - 2
    line = " ".join(
        [
            f"{(x - t0) * x_scale + 2:.1f},{base - v * y_scale:.1f}"
            for x, v in zip(t, speed, strict=True)
        ]
    )
    steps = _steps(
        2.0, (width - 4) / max(1, len(t) - 1), width - 4, trace.setpoint_chz, height, y_scale
    )
    return (
        f'<svg class="trace" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="speed trace over {end / 1000:.1f} s">'
        f'<rect x="0" y="0" width="{width}" height="{height}" class="frame" />'
        f'<path d="{steps}" class="setp-line" />'
        f'<polyline points="{line}" class="speed-line" /></svg>'
    )


STRIP_WIDTH = 720
STRIP_HEIGHT = 60
STRIP_GAP = 2.0
LABEL_EVERY = 36.0
"""Pass numbers are written under the strip where the last one is at least this far back."""


class StripPass(NamedTuple):
    number: int
    trace: TraceColumns
    attention: bool


def pass_strip(zone: str, passes: Sequence[StripPass]) -> str:
    """A zone's strip built here from each pass's trace (a zone without a stored strip:
    a journal from before strips were kept, a pass closed by crash recovery). The same
    builder as the journal's, so the picture is the one a stored strip gives."""
    strip = ZoneStrip()
    for p in passes:
        strip.add(p.number, centi_hz(p.trace.speed_chz), centi_hz(p.trace.setpoint_chz))
    return zone_strip(zone, strip.view(), [p.number for p in passes if p.attention])


def zone_strip(zone: str, strip: StripView, attention: Iterable[int]) -> str:
    """Every pass of a zone side by side, each its own speed trace (solid) against its
    setpoint (dashed), segments holding a pass that needs attention (by number) shaded.
    Its size is bounded: at most ``STRIP_POINTS`` speed points, ``STRIP_SEGMENTS``
    segments and one label per ``LABEL_EVERY`` units, however many passes the zone had.
    Drawn column-wise, a few operations per segment: a long session's zone has four
    times the segments of a short one's, and the same points."""
    strip = _within_budget(strip)
    firsts, lasts, sizes = strip.firsts, strip.lasts, strip.sizes
    count = len(firsts)
    width, height = STRIP_WIDTH, STRIP_HEIGHT
    seg_w = (width - STRIP_GAP * (count - 1)) / count if count else float(width)
    pitch = seg_w + STRIP_GAP
    top_chz = max(hard_limits.MAX_SPEED_HZ * 100, max(strip.speed, default=0))
    y_scale = (height - 4) / top_chz
    base = height - 2
    x0s = [i * pitch for i in range(count)]
    steps = [seg_w / (n - 1) if n > 1 else 0.0 for n in sizes]
    xs = [x0 + j * step for x0, step, n in zip(x0s, steps, sizes, strict=True) for j in range(n)]
    points = [f"{x:.1f},{base - v * y_scale:.1f}" for x, v in zip(xs, strip.speed, strict=True)]
    starts = list(itertools.accumulate(sizes, initial=0))
    for at, n in zip(starts, sizes, strict=False):
        if n:
            points[at] = "M" + points[at]
    setp = strip.setpoint
    levels: dict[int, str] = {}  # a setpoint's height, formatted once
    setpoint: list[str] = []
    for x0, step, at, n in zip(x0s, steps, starts, sizes, strict=False):
        if not n:
            continue
        values = setp[at : at + n]
        first = values[0]
        if values.count(first) == n:  # the usual pass: one setpoint throughout
            level = levels.get(first)
            if level is None:
                level = levels[first] = f"{base - first * y_scale:.1f}"
            setpoint.append(f"M{x0:.1f},{level} {x0 + seg_w:.1f},{level}")
        else:
            setpoint.append(_steps(x0, step, seg_w, values, height, y_scale))
    shade: dict[int, str] = {}
    for number in attention:
        i = bisect.bisect_right(firsts, number) - 1
        if i >= 0 and number <= lasts[i] and i not in shade:
            shade[i] = f"M{x0s[i]:.1f} 0h{seg_w:.1f}v{height}h{-seg_w:.1f}z"
    labels: list[str] = []
    last_label = -LABEL_EVERY
    for i, x0 in enumerate(x0s):
        if x0 - last_label >= LABEL_EVERY:
            last_label = x0
            first, last = firsts[i], lasts[i]
            text = f"#{first}" if first == last else f"#{first}–{last}"
            labels.append(f'<text x="{x0:.1f}" y="{height + 11}" class="axis">{text}</text>')
    passes = strip.passes
    numbers = f"#{firsts[0]}–#{lasts[-1]}" if count else "none"
    title = f"{zone}: {passes} passes ({numbers}) in {count} segments; speed against setpoint"
    parts = [
        f'<svg class="strip" id="strip-{escape(zone)}" data-passes="{passes}" '
        f'data-segments="{count}" viewBox="0 0 {width} {height + 14}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" class="frame" />',
    ]
    if shade:
        parts.append(f'<path d="{" ".join(shade[i] for i in sorted(shade))}" class="attention" />')
    if setpoint:
        parts.append(f'<path d="{" ".join(setpoint)}" class="setp-line" />')
    if points:
        parts.append(f'<path d="{" ".join(points)}" class="speed-line" />')
    parts += labels
    parts.append("</svg>")
    return "".join(parts)


def _within_budget(strip: StripView) -> StripView:
    """A strip holds its budget of points per segment already; one from elsewhere (or an
    older release) may not."""
    budget = strip.budget()
    if max(strip.sizes, default=0) <= budget:
        return strip
    speed: list[float] = []
    setpoint: list[int] = []
    sizes: list[int] = []
    at = 0
    for n in strip.sizes:
        s, p = mean_points(strip.speed[at : at + n], strip.setpoint[at : at + n], budget)
        speed += s
        setpoint += p
        sizes.append(len(s))
        at += n
    return strip._replace(sizes=sizes, speed=speed, setpoint=setpoint)


def _steps(
    x0: float, step: float, seg_w: float, values: Sequence[float], height: int, y_scale: float
) -> str:
    """A setpoint as steps: a point only where it changes, so a constant one costs two."""
    if values.count(values[0]) == len(values):  # the usual pass: one setpoint throughout
        level = height - 2 - values[0] * y_scale
        return f"M{x0:.1f},{level:.1f} {x0 + seg_w:.1f},{level:.1f}"
    y = [height - 2 - v * y_scale for v in values]
    out = [f"M{x0:.1f},{y[0]:.1f}"]
    for j in range(1, len(y)):
        if y[j] != y[j - 1]:
            x = x0 + j * step
            out.append(f"{x:.1f},{y[j - 1]:.1f} {x:.1f},{y[j]:.1f}")
    out.append(f"{x0 + seg_w:.1f},{y[-1]:.1f}")
    return " ".join(out)
