"""Inline SVG for the HTML report: the scalp map and small charts. Plain strings, no
library and nothing fetched, so a report opens offline and prints as drawn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from smpctl import hard_limits

from .summary import ZoneRow
from .trace import TracePoint

ZONE_AREA_CM2: dict[str, float] = {
    "HL": 30.0,
    "TMP_L": 15.0,
    "TMP_R": 15.0,
    "FRN": 60.0,
    "MID": 80.0,
    "CRN": 60.0,
    "PAR_L": 60.0,
    "PAR_R": 60.0,
    "OCC": 80.0,
    "NAP": 40.0,
}
"""Starting estimates of zone areas (shared/domain.md, "Zone areas"), for strokes per cm²."""

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


def coverage(row: ZoneRow) -> float:
    """Strokes per cm² of the zone."""
    return row.strokes / ZONE_AREA_CM2.get(row.zone, 60.0)


def shade(fraction: float) -> str:
    f = min(1.0, max(0.0, fraction))
    r, g, b = (round(lo + (hi - lo) * f) for lo, hi in zip(LIGHT, DARK, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def scalp_map(rows: Mapping[str, ZoneRow]) -> str:
    top = max((coverage(r) for r in rows.values()), default=0.0)
    parts = [
        '<svg class="scalp" viewBox="0 0 300 384" role="img" '
        'aria-label="scalp map coloured by coverage per zone">',
        '<ellipse cx="150" cy="192" rx="146" ry="188" fill="none" stroke="#999" />',
        '<text x="150" y="14" text-anchor="middle" class="axis">front</text>',
    ]
    for zone, (x, y, w, h) in MAP_BOXES.items():
        row = rows.get(zone)
        if row is None or not row.passes:
            fill, ink, value = UNTREATED, "#555", "not treated"
        else:
            level = coverage(row) / top if top else 0.0
            fill = shade(0.15 + 0.85 * level)
            ink = "#fff" if level > 0.45 else "#111"
            value = f"{coverage(row):,.0f}/cm²"
        scars = f" +{','.join(row.scars)}" if row is not None and row.scars else ""
        parts.append(
            f'<g class="zone" id="map-{zone}" data-zone="{zone}">'
            f"<title>{escape(zone)}{escape(scars)}: {escape(value)}</title>"
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="{fill}" '
            'stroke="#fff" stroke-width="2" />'
            f'<text x="{x + w / 2:g}" y="{y + h / 2 - 3:g}" text-anchor="middle" '
            f'fill="{ink}" class="zcode">{escape(zone)}{escape(scars)}</text>'
            f'<text x="{x + w / 2:g}" y="{y + h / 2 + 11:g}" text-anchor="middle" '
            f'fill="{ink}" class="zval">{escape(value)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def map_legend(rows: Mapping[str, ZoneRow]) -> str:
    top = max((coverage(r) for r in rows.values()), default=0.0)
    stops = "".join(
        f'<stop offset="{i / 4:g}" stop-color="{shade(0.15 + 0.85 * i / 4)}" />' for i in range(5)
    )
    return (
        '<svg class="legend" viewBox="0 0 300 34" role="img" aria-label="coverage scale">'
        f'<defs><linearGradient id="cov">{stops}</linearGradient></defs>'
        '<rect x="0" y="4" width="220" height="12" fill="url(#cov)" />'
        f'<rect x="236" y="4" width="12" height="12" fill="{UNTREATED}" stroke="#999" />'
        '<text x="0" y="30" class="axis">0</text>'
        f'<text x="220" y="30" text-anchor="end" class="axis">{top:,.0f} strokes/cm²</text>'
        '<text x="252" y="14" class="axis">none</text></svg>'
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


def speed_trace(points: Sequence[TracePoint], width: int = 260, height: int = 56) -> str:
    """One pass: measured speed (solid) against setpoint (dashed), 0 to the hard limit."""
    top = max([hard_limits.MAX_SPEED_HZ, *(p.speed_hz for p in points)])
    if not points:
        return (
            f'<svg class="trace" viewBox="0 0 {width} {height}">'
            '<text x="4" y="30" class="axis">no telemetry</text></svg>'
        )
    end = points[-1].t_s or 1.0

    def xy(t: float, v: float) -> str:
        return f"{t / end * (width - 4) + 2:.1f},{height - 2 - v / top * (height - 4):.1f}"

    speed = " ".join(xy(p.t_s, p.speed_hz) for p in points)
    setpoint = " ".join(xy(p.t_s, p.setpoint_hz) for p in points)
    return (
        f'<svg class="trace" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="speed trace over {end:.1f} s">'
        f'<rect x="0" y="0" width="{width}" height="{height}" class="frame" />'
        f'<polyline points="{setpoint}" class="setp-line" />'
        f'<polyline points="{speed}" class="speed-line" /></svg>'
    )
