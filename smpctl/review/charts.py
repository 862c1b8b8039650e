"""Inline SVG for the HTML report: the scalp map and small charts. Plain strings, no
library and nothing fetched, so a report opens offline and prints as drawn.

``STRIP_POINTS`` and ``STRIP_SEGMENTS`` (a zone strip's budget) live with the strip
builder in smpctl.journal.strip_codec: the journal builds each zone's strip as passes end.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import operator
from array import array
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


SPEED_STROKE = 1.4
SETPOINT_STROKE = 1.0
SETPOINT_DASH = (4, 3)


class _Plot(NamedTuple):
    """Speed lines are drawn in centi-Hz up and the same unit across (one isotropic,
    flipped scale: strokes draw alike in every SVG renderer), so a speed is written as
    stored, a whole number, and the xs of evenly spaced points come from a template: a
    report draws a card per pass that needs a look and a strip per zone, and formatting
    scaled decimals was most of their cost."""

    scale: float
    """Chart units per centi-Hz."""
    left: float
    base: float

    @classmethod
    def of(cls, left: float, height: float, top_chz: float) -> _Plot:
        return cls((height - 4) / top_chz, left, height - 2)

    def units(self, chart: float) -> int:
        """A length across the chart in plot units."""
        return round(chart / self.scale)

    def group(self, setpoint: str, speed: str, tag: str = "path") -> str:
        head, setpoint_style, speed_style = _plot_markup(self)
        attr = "points" if tag == "polyline" else "d"
        return (
            f'{head}<path d="{setpoint}" class="setp-line" {setpoint_style} />'
            f'<{tag} {attr}="{speed}" class="speed-line" {speed_style} /></g>'
        )


@functools.lru_cache(maxsize=64)
def _plot_markup(plot: _Plot) -> tuple[str, str, str]:
    """The group's transform and the strokes' widths in plot units (a report's cards
    share one plot, its strips another)."""
    k = plot.scale
    dash = " ".join(f"{d / k:.0f}" for d in SETPOINT_DASH)
    return (
        f'<g transform="matrix({k:.6g} 0 0 {-k:.6g} {plot.left:g} {plot.base:g})">',
        f'style="stroke-width:{SETPOINT_STROKE / k:.0f};stroke-dasharray:{dash}"',
        f'style="stroke-width:{SPEED_STROKE / k:.0f}"',
    )


def speed_trace(
    trace: TraceColumns, width: int = 260, height: int = 56, *, max_hz: float | None = None
) -> str:
    """One pass: measured speed (solid) against setpoint (dashed), 0 to the hard limit or
    the pass's fastest sample (``max_hz``, its aggregate, when known: no trace point, a
    mean of samples, is above it)."""
    t, speed = trace.t_ms, trace.speed_chz
    if not t:
        return (
            f'<svg class="trace" viewBox="0 0 {width} {height}">'
            '<text x="4" y="30" class="axis">no telemetry</text></svg>'
        )
    n = len(t)
    t0 = t[0]
    duration = t[-1] - t0
    fastest = max(speed) if max_hz is None else max_hz * 100
    frame = _trace_frame(width, height, max(hard_limits.MAX_SPEED_HZ * 100, fastest))
    xs: Sequence[int]
    if _evenly_spaced(t):  # a pen's regular samples: xs by index, from a shared template
        template, xs = _indexed(n, frame.span)
        line = template % tuple(speed)
    else:
        across = frame.span / (duration or 1)
        xs = [round((x - t0) * across) for x in t]
        line = _pairs(xs, speed)
    return (
        f"{frame.head}{duration / 1000:.1f}{frame.body}{_steps(xs, trace.setpoint_chz)}"
        f"{frame.middle}{line}{frame.tail}"
    )


class _TraceFrame(NamedTuple):
    """A card's chart around its two lines, written once per size and scale (a report's
    cards share one): the head awaits the trace's length in seconds."""

    span: int
    head: str
    body: str
    middle: str
    tail: str


@functools.lru_cache(maxsize=64)
def _trace_frame(width: int, height: int, top_chz: float) -> _TraceFrame:
    plot = _Plot.of(2, height, top_chz)
    group = plot.group("\0", "\1", "polyline")
    before, rest = group.split("\0")
    middle, after = rest.split("\1")
    return _TraceFrame(
        plot.units(width - 4),
        f'<svg class="trace" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="speed trace over ',
        f' s"><rect x="0" y="0" width="{width}" height="{height}" class="frame" />{before}',
        middle,
        f"{after}</svg>",
    )


def _evenly_spaced(t: Sequence[float]) -> bool:
    """Whole milliseconds a whole step apart (one comparison in C for a stored trace)."""
    n = len(t)
    if n < 2 or t[0] != int(t[0]) or t[1] <= t[0] or t[1] != int(t[1]):
        return False
    t0, step = int(t[0]), int(t[1] - t[0])
    if isinstance(t, array):
        return t == _even_times(t.typecode, t0, step, n)
    return all(a == b for a, b in zip(t, range(t0, t0 + step * n, step), strict=True))


@functools.lru_cache(maxsize=256)
def _even_times(typecode: str, t0: int, step: int, n: int) -> array:  # type: ignore[type-arg]
    """Evenly spaced times to compare a stored trace with (a stored trace starts at 0 and
    its step is a power of two of the sample period: a few shapes)."""
    return array(typecode, range(t0, t0 + step * n, step))


@functools.lru_cache(maxsize=256)
def _indexed(n: int, span: int) -> tuple[str, tuple[int, ...]]:
    """``x,%d x,%d …`` for ``n`` points evenly across ``span``, each awaiting its speed,
    and the xs (a stored trace has between one and twice ``TRACE_POINTS`` points, and a
    chart one span: a few dozen shapes)."""
    xs = tuple(j * span // (n - 1) if n > 1 else 0 for j in range(n))
    return " ".join(f"{x},%d" for x in xs), xs


def _pairs(xs: Sequence[float], ys: Sequence[float]) -> str:
    """``x,y x,y …``, each a whole number."""
    return ("%d,%d " * len(xs)).rstrip() % _flat(xs, ys)


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
    The lines are drawn in plot units (``_Plot``) and column-wise: every coordinate is an
    integer and
    each line is one format over all its numbers, so a segment costs a few list items (a
    long session's zone has four times the segments of a short one's, and the same
    points)."""
    strip = _within_budget(strip)
    firsts, lasts = strip.firsts, strip.lasts
    count = len(firsts)
    width, height = STRIP_WIDTH, STRIP_HEIGHT
    seg_w = (width - STRIP_GAP * (count - 1)) / count if count else float(width)
    pitch = seg_w + STRIP_GAP
    top_chz = max(hard_limits.MAX_SPEED_HZ * 100, max(strip.speed, default=0))
    title = escape(_strip_title(zone, strip))
    parts = [
        f'<svg class="strip" id="strip-{escape(zone)}" data-passes="{strip.passes}" '
        f'data-segments="{count}" viewBox="0 0 {width} {height + 14}" role="img" '
        f'aria-label="{title}"><title>{title}</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" class="frame" />',
    ]
    shade: dict[int, str] = {}
    for number in attention:
        i = bisect.bisect_right(firsts, number) - 1
        if i >= 0 and number <= lasts[i] and i not in shade:
            shade[i] = f"M{i * pitch:.1f} 0h{seg_w:.1f}v{height}h{-seg_w:.1f}z"
    if shade:
        parts.append(f'<path d="{" ".join(shade[i] for i in sorted(shade))}" class="attention" />')
    if strip.speed:
        plot = _Plot.of(0, height, top_chz)
        parts.append(plot.group(*_strip_lines(strip, plot.units(pitch), plot.units(seg_w))))
    every = max(1, math.ceil(LABEL_EVERY / pitch - 1e-9)) if count else 1
    for i in range(0, count, every):
        first, last = firsts[i], lasts[i]
        text = f"#{first}" if first == last else f"#{first}–{last}"
        parts.append(f'<text x="{i * pitch:.1f}" y="{height + 11}" class="axis">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _strip_title(zone: str, strip: StripView) -> str:
    count = len(strip.firsts)
    numbers = f"#{strip.firsts[0]}–#{strip.lasts[-1]}" if count else "none"
    return f"{zone}: {strip.passes} passes ({numbers}) in {count} segments; speed against setpoint"


def _strip_lines(strip: StripView, pitch: int, span: int) -> tuple[str, str]:
    """A strip's setpoint and speed paths in plot units (``_Plot``), column-wise: segments
    ``pitch`` apart, each ``span`` wide."""
    sizes, speed, setp = strip.sizes, strip.speed, strip.setpoint
    every_segment_drawn = all(sizes)
    if every_segment_drawn:  # the usual strip: every segment has points
        x0s = [i * pitch for i in range(len(sizes))]
        drawn = sizes
    else:
        x0s = [i * pitch for i, n in enumerate(sizes) if n]
        drawn = [n for n in sizes if n]
    offsets = {n: [j * span // (n - 1) for j in range(n)] if n > 1 else [0] for n in set(drawn)}
    formats = {n: "M" + "%d,%d " * n for n in offsets}
    xs = [x0 + o for x0, n in zip(x0s, drawn, strict=True) for o in offsets[n]]
    speed_d = "".join([formats[n] for n in drawn]) % _flat(xs, speed)
    starts = list(itertools.accumulate(drawn, initial=0))
    changes = [k for k, moved in enumerate(map(operator.ne, setp, setp[1:]), 1) if moved]
    if changes and not set(changes) <= set(starts):
        # a setpoint that changed within a pass: steps, segment by segment (rare)
        setpoint_d = " ".join(
            _steps([x0 + o for o in offsets[n]], setp[at : at + n], x0 + span)
            for x0, n, at in zip(x0s, drawn, starts, strict=False)
        )
    elif every_segment_drawn:  # one setpoint per segment, neighbours a pitch apart:
        # a line across each, written once per run of segments at one level
        step = f" m{pitch - span},0 h{span}"
        pieces: list[str] = []
        segment = 0
        for level, run in itertools.groupby([setp[at] for at in starts[:-1]]):
            length = len(list(run))
            pieces.append(f"M{segment * pitch},{int(level)} h{span}{step * (length - 1)}")
            segment += length
        setpoint_d = " ".join(pieces)
    else:  # one setpoint per segment: a line across each
        levels = [setp[at] for at in starts[:-1]]
        setpoint_d = (f"M%d,%d h{span} " * len(drawn)) % _flat(x0s, levels)
    return setpoint_d.rstrip(), speed_d.rstrip()


def _flat(*columns: Sequence[float]) -> tuple[float, ...]:
    """Columns interleaved row by row, as one format's arguments."""
    flat: list[float] = [0] * (len(columns) * len(columns[0]))
    for i, column in enumerate(columns):
        flat[i :: len(columns)] = column
    return tuple(flat)


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


def _steps(xs: Sequence[float], levels: Sequence[float], end: float | None = None) -> str:
    """A setpoint as steps (whole numbers): a point only where it changes, so a constant
    one costs two (the last runs on to ``end``, else to the last x)."""
    last_x = int(xs[-1] if end is None else end)
    level = int(levels[0])
    if levels.count(levels[0]) == len(levels):  # the usual pass: one setpoint throughout
        return f"M{int(xs[0])},{level} {last_x},{level}"
    out = [f"M{int(xs[0])},{level}"]
    for x, v in zip(xs, levels, strict=True):
        if int(v) != level:
            out.append(f"{int(x)},{level} {int(x)},{int(v)}")
            level = int(v)
    out.append(f"{last_x},{level}")
    return " ".join(out)
