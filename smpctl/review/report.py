"""The session report: one self-contained HTML file a client or clinic can open offline
and print. Everything is inline (CSS, SVG); nothing is fetched, not even a font."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from smpctl import hard_limits
from smpctl.journal import Journal

from . import charts
from .source import installed_version
from .summary import PassLine, SessionReview, ZoneRow, zone_label
from .trace import pass_trace

CSS = """
:root { --ink: #111; --muted: #666; --line: #ddd; --accent: #08306b; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--ink); margin: 2rem auto; max-width: 62rem; padding: 0 1rem; line-height: 1.35; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; border-bottom: 2px solid var(--accent); padding-bottom: .2rem;
     margin-top: 2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.muted, .axis { color: var(--muted); fill: var(--muted); font-size: 10px; }
.banner { background: #fff3cd; border: 1px solid #e0b400; padding: .4rem .6rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .4rem; text-align: right; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; margin: .75rem 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; min-width: 8rem; }
.card b { display: block; font-size: 1.2rem; }
.map { display: flex; gap: 2rem; align-items: flex-start; flex-wrap: wrap; }
svg.scalp { width: 18rem; }
svg.legend { width: 18rem; display: block; }
svg.chart { width: 100%; max-width: 21rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); gap: 1rem; }
.zcode { font: 600 12px system-ui, sans-serif; }
.zval { font: 10px system-ui, sans-serif; }
.title { font: 600 11px system-ui, sans-serif; fill: var(--ink); }
.bar { fill: #4a7ab5; }
.span { fill: #9ecae1; }
.mean { fill: var(--accent); }
.setp { stroke: #d94801; stroke-width: 2; }
.passes { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: .6rem; }
.pass { border: 1px solid var(--line); border-radius: 6px; padding: .35rem .5rem; font-size: .8rem;
        break-inside: avoid; }
.pass.bad { border-color: #d94801; }
svg.trace { width: 100%; height: auto; display: block; }
.frame { fill: #fafafa; stroke: var(--line); }
.speed-line { fill: none; stroke: #2171b5; stroke-width: 1.4; }
.setp-line { fill: none; stroke: #d94801; stroke-width: 1; stroke-dasharray: 4 3; }
footer { margin-top: 2rem; color: var(--muted); font-size: .75rem; }
@page { size: A4; margin: 14mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  .card, .pass, table, svg { break-inside: avoid; }
  .banner { border: 2px solid #000; background: none; }
}
"""


def _when(wall: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return dt.datetime.fromtimestamp(wall).strftime(fmt) if wall is not None else "open"


def _num(value: float | None, fmt: str = ".1f", unit: str = "") -> str:
    return "–" if value is None else f"{value:{fmt}}{unit}"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def zone_table(rows: Sequence[ZoneRow], totals: ZoneRow) -> str:
    head = (
        "<tr><th>zone</th><th class=text>name</th><th>passes</th><th>needle time</th>"
        "<th>strokes</th><th>strokes/cm²</th><th>mean Hz</th><th>min Hz</th><th>max Hz</th>"
        "<th>set Hz</th><th>depth mm</th><th>interrupted</th><th class=text>flags</th></tr>"
    )
    body = []
    for r in [*rows, totals]:
        cov = charts.coverage(r) if r.zone in charts.ZONE_AREA_CM2 else None
        flags = ", ".join([*r.flags, *(f"scar {s}" for s in r.scars)])
        body.append(
            f"<tr id='zone-{escape(r.zone)}'><td>{escape(r.zone)}</td>"
            f"<td class=text>{escape(r.label)}</td><td>{r.passes}</td>"
            f"<td>{_duration(r.needle_s)}</td><td>{r.strokes:,}</td><td>{_num(cov, ',.0f')}</td>"
            f"<td>{_num(r.mean_hz)}</td><td>{_num(r.min_hz)}</td><td>{_num(r.max_hz)}</td>"
            f"<td>{_num(r.setpoint_hz)}</td><td>{_num(r.depth_mm, '.2f')}</td>"
            f"<td>{r.interrupted or ''}</td><td class=text>{escape(flags)}</td></tr>"
        )
    return f"<table class='zones'>{head}{''.join(body)}</table>"


def _pass_card(journal: Journal, p: PassLine) -> str:
    bad = p.outcome is None or p.outcome.startswith("interrupted") or p.outcome == "stopped"
    scar = f" +{p.scar}" if p.scar else ""
    flag = f" · flag: {escape(p.flag)}" if p.flag else ""
    return (
        f"<div class='pass{' bad' if bad else ''}' id='pass-{escape(p.uid[:8])}'>"
        f"<b>#{p.number}</b> {escape(p.zone or '-')}{escape(scar)} · "
        f"{_when(p.started_wall, '%H:%M:%S')}"
        f" · {p.needle_s:.1f} s · {p.strokes or 0:,} strokes · {_num(p.mean_hz)} Hz "
        f"(set {_num(p.setpoint_hz)}) · {escape(p.outcome or 'open')}{flag}"
        f"{charts.speed_trace(pass_trace(journal, p.uid))}</div>"
    )


def render_report(journal: Journal, review: SessionReview) -> str:
    s = review.session
    rows = list(review.zones)
    by_zone = {r.zone: r for r in rows}
    t = review.totals
    title = f"Session report — client {s.client}, session #{s.session_number}"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p class='muted'>{_when(s.started_wall)} → {_when(s.ended_wall)} · practitioner "
        f"{escape(s.practitioner or '–')} · session id {escape(s.uid)}</p>",
    ]
    if s.simulated:
        parts.append(
            "<p class='banner'>SIMULATED session: recorded against the simulated pen; no "
            "needle was driven.</p>"
        )
    if not s.consent:
        parts.append("<p class='banner'>No consent was recorded for this session.</p>")
    pen = review.pen
    pen_text = (
        f"{escape(str(pen['model']))} serial {escape(str(pen['serial']))}, firmware "
        f"{escape(str(pen['firmware']))}"
        if pen
        else "not recorded"
    )
    parts += [
        "<h2>Summary</h2><div class='cards'>",
        f"<div class='card'>zones treated<b>{len([r for r in rows if r.zone != '-'])}</b></div>",
        f"<div class='card'>passes<b>{t.passes}</b></div>",
        f"<div class='card'>needle time<b>{_duration(t.needle_s)}</b></div>",
        f"<div class='card'>strokes<b>{t.strokes:,}</b></div>",
        f"<div class='card'>mean speed<b>{_num(t.mean_hz, '.1f', ' Hz')}</b></div>",
        f"<div class='card'>depth<b>{_num(t.depth_min_mm, '.2f')}–"
        f"{_num(t.depth_max_mm, '.2f')} mm</b></div>",
        f"<div class='card'>interrupted passes<b>{t.interrupted}</b></div>",
        f"<div class='card'>flagged passes<b>{t.flagged}</b></div>",
        "</div>",
        f"<p class='muted'>Pen: {pen_text}.</p>",
        "<h2>Scalp map</h2><div class='map'><div>",
        charts.scalp_map(by_zone),
        charts.map_legend(by_zone),
        "</div><div><p>Each zone is coloured by coverage: needle strokes per cm² of the zone "
        "(from estimated zone areas), darkest for the most-covered zone of this session. "
        "Grey zones were not treated.</p></div></div>",
        "<h2>Per zone</h2>",
        zone_table(rows, t),
        "<div class='charts'>",
        charts.bar_chart("strokes per zone", rows, [float(r.strokes) for r in rows], ""),
        charts.bar_chart(
            "needle time per zone", rows, [r.needle_s / 60 for r in rows], "min", ",.1f"
        ),
        charts.range_chart(
            "speed per zone: min–max, mean (dot), setpoint (tick)",
            rows,
            [(r.min_hz, r.mean_hz, r.max_hz, r.setpoint_hz) for r in rows],
            "Hz",
            hard_limits.MAX_SPEED_HZ,
        ),
        charts.range_chart(
            "depth per zone: min–max, mean (dot)",
            rows,
            [(r.depth_min_mm, r.depth_mm, r.depth_max_mm, None) for r in rows],
            "mm",
            hard_limits.MAX_DEPTH_MM,
        ),
        "</div>",
        "<h2>Passes</h2><p class='muted'>Speed over each pass (blue) against its setpoint "
        f"(orange, dashed), 0–{hard_limits.MAX_SPEED_HZ:g} Hz, downsampled.</p>",
    ]
    for zone in [r.zone for r in rows]:
        mine = [p for p in review.passes if (p.zone or "-") == zone]
        parts.append(
            f"<h3 id='passes-{escape(zone)}'>{escape(zone)} — {escape(zone_label(zone))}"
            f" ({len(mine)} passes)</h3><div class='passes'>"
        )
        parts += [_pass_card(journal, p) for p in mine]
        parts.append("</div>")
    parts.append("<h2>Events</h2>")
    counts = ", ".join(f"{escape(k)} {v}" for k, v in review.event_counts.items())
    parts.append(f"<p class='muted'>All events: {counts or 'none'}.</p>")
    if review.events:
        parts.append(
            "<table><tr><th class=text>time</th><th class=text>source</th>"
            "<th class=text>event</th><th class=text>detail</th><th class=text>pass</th></tr>"
        )
        for e in review.events:
            in_pass = f"#{e.pass_number}" if e.pass_number is not None else ""
            parts.append(
                f"<tr><td class=text>{_when(e.wall, '%H:%M:%S')}</td><td class=text>"
                f"{escape(e.source)}</td><td class=text>{escape(e.kind)}</td>"
                f"<td class=text>{escape(e.detail)}</td><td class=text>{in_pass}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No faults, stops or other notable events.</p>")
    parts.append("<h2>Consumables</h2>")
    if review.consumables:
        parts.append(
            "<table><tr><th class=text>kind</th><th class=text>product</th><th class=text>lot"
            "</th><th class=text>expiry</th><th class=text>registered</th><th>passes</th></tr>"
        )
        for c in review.consumables:
            parts.append(
                f"<tr><td class=text>{escape(c.kind)}</td><td class=text>"
                f"{escape(c.description)}</td><td class=text>{escape(c.lot)}</td>"
                f"<td class=text>{escape(c.expiry or '–')}</td><td class=text>"
                f"{_when(c.registered_wall, '%H:%M')}</td><td>{c.passes}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No cartridge or pigment was registered.</p>")
    parts.append(
        f"<footer>Generated {_when(journal.now)} by smpctl {escape(installed_version())} from "
        "the session journal. Client named by pseudonym only.</footer></body></html>"
    )
    return "\n".join(parts)
