"""A zone's timeline as a text plot (plotext): cumulative dose as a step line on the left
axis, terminal and vellus hairs/cm² on the right, sessions marked by kind.

Built into a string with a figure of its own, at a size given by the caller, so it renders
the same with no terminal (tests, a pipe, a report) and no plotext global is touched.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap

from plotext._figure import _figure_class as PlotextFigure  # one figure per plot

from smpctl.zones import ZoneCode

from .timeline import MICRONEEDLING, ZoneSeries

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
MIN_WIDTH = 50
MIN_HEIGHT = 12

SESSION_MARKERS = {MICRONEEDLING: "M"}
"""Session points on the dose line: ``S`` for SMP (and any other kind), ``M`` microneedling."""


def zone_title(zone: str) -> str:
    try:
        return f"{zone} {ZoneCode(zone).label}"
    except ValueError:
        return zone


def zone_plot(
    series: ZoneSeries,
    origin: dt.date,
    *,
    until: dt.date | None = None,
    width: int = 100,
    height: int = 20,
) -> str:
    """The plot of one zone, days counted from ``origin`` (the client's first session) to
    ``until`` (the client's last event, so a client's zones share one time axis). The
    legend is printed under the plot: plotext draws its own over the first points."""

    def x(day: dt.date) -> int:
        return (day - origin).days

    measured = [p.measurement for p in series.measurements]
    last_day = max(
        [
            *(d.session.day for d in series.doses),
            *(m.day for m in measured),
            origin,
            until or origin,
        ]
    )
    span = max(1, x(last_day))
    steps_x: list[int] = [0]
    steps_y: list[float] = [0.0]
    for d in series.doses:
        steps_x += [x(d.session.day), x(d.session.day)]
        steps_y += [steps_y[-1], d.cumulative_per_cm2]
    steps_x.append(span)
    steps_y.append(steps_y[-1])

    fig = PlotextFigure()
    fig._limit_size(False, False)  # the caller's size, whatever the terminal (or none)
    fig.plot_size(max(MIN_WIDTH, width), max(MIN_HEIGHT, height))
    fig.theme("clear")
    fig.plot(steps_x, steps_y, marker="braille")
    legend = ["line: cumulative punctures/cm² (left axis)"]
    for kind in dict.fromkeys(d.session.kind for d in series.doses):
        mine = [d for d in series.doses if d.session.kind == kind]
        marker = SESSION_MARKERS.get(kind, "S")
        xs = [x(d.session.day) for d in mine]
        fig.scatter(xs, [d.cumulative_per_cm2 for d in mine], marker=marker)
        legend.append(f"{marker}: {kind} session")
    terminal = [m for m in measured if m.terminal_per_cm2 is not None]
    vellus = [m for m in measured if m.vellus_per_cm2 is not None]
    rated = [m for m in measured if m.rating is not None]
    right: list[float] = []
    right_label = "hairs/cm²"
    if terminal or vellus:  # points, not lines: nothing was measured between them
        for marker, label, values in (
            ("T", "terminal hairs/cm²", [(m.day, m.terminal_per_cm2) for m in terminal]),
            ("v", "vellus hairs/cm²", [(m.day, m.vellus_per_cm2) for m in vellus]),
        ):
            if values:
                ys = [float(v or 0.0) for _, v in values]
                right += ys
                fig.scatter([x(d) for d, _ in values], ys, marker=marker, yside="right")
                legend.append(f"{marker}: {label} (right axis)")
    elif rated:
        scales = ", ".join(dict.fromkeys(str(m.rating_scale) for m in rated))
        right_label = "rating"
        right = [float(m.rating or 0.0) for m in rated]
        fig.scatter([x(m.day) for m in rated], right, marker="R", yside="right")
        legend.append(f"R: rating, {scales} (right axis)")
    pad = max(1.0, span / 50)  # keep day 0 off the frame
    fig.xlim(-pad, span + pad)
    fig.xticks([round(span * i / 4) for i in range(5)])
    # both axes from 0, so a small change does not look like a large one
    fig.ylim(0, max(steps_y) * 1.1 or 1.0, yside="left")
    fig.title(zone_title(series.zone))
    fig.xlabel("days since first session")
    fig.ylabel("punctures/cm²", yside="left")
    if right:
        fig.ylim(0, max(right) * 1.1 or 1.0, yside="right")
        fig.ylabel(right_label, yside="right")
    text: str = fig.build()
    lines = [line.rstrip() for line in _ANSI.sub("", text).splitlines()]
    key = textwrap.wrap(" · ".join(legend), max(MIN_WIDTH, width) - 2)
    return "\n".join([*lines, *("  " + line for line in key)])
