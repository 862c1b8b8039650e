"""The session report: one self-contained HTML file a client or clinic can open offline
and print. Everything is inline (CSS, SVG); nothing is fetched, not even a font."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from smpctl import hard_limits
from smpctl.journal import Journal

from . import charts
from .dose import DOSE_UNIT, NANO_NOTE, SessionDose
from .source import installed_version
from .summary import (
    EventGroup,
    PassLine,
    SessionReview,
    ZoneRow,
    attention,
    pass_lines,
    passes_to_look,
    zone_label,
)
from .text import KIND_WORDS, pass_numbers, when
from .trace import DRIFT_OK, TraceColumns, session_traces, stored_strips, traces_of

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
.note { border-left: 3px solid var(--accent); padding-left: .5rem; font-size: .85rem; }
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
svg.strip { width: 100%; height: auto; display: block; margin: .2rem 0 .4rem; }
.attention { fill: #fde0d2; }
code { font-size: .8rem; background: #f4f4f4; padding: 0 .2rem; }
.frame { fill: #fafafa; stroke: var(--line); }
.speed-line { fill: none; stroke: #2171b5; stroke-width: 1.4; }
.setp-line { fill: none; stroke: #d94801; stroke-width: 1; stroke-dasharray: 4 3; }
footer { margin-top: 2rem; color: var(--muted); font-size: .75rem; }
@page { size: A4; margin: 14mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  .card, .pass, table, svg, .zone-passes h3 { break-inside: avoid; }
  h3 { break-after: avoid; }
  .banner { border: 2px solid #000; background: none; }
}
"""


def _num(value: float | None, fmt: str = ".1f", unit: str = "") -> str:
    return "–" if value is None else f"{value:{fmt}}{unit}"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def zone_table(rows: Sequence[ZoneRow], totals: ZoneRow, dose: SessionDose) -> str:
    """The zone table; its dose column is punctures/cm² (unknown: recorded before in-skin
    strokes were counted)."""
    head = (
        "<tr><th>zone</th><th class=text>name</th><th>passes</th><th>needle time</th>"
        f"<th>strokes</th><th>{DOSE_UNIT}</th><th>mean Hz</th><th>min Hz</th><th>max Hz</th>"
        "<th>set Hz</th><th>depth mm</th><th>interrupted</th><th class=text>flags</th></tr>"
    )
    body = []
    for r in [*rows, totals]:
        zone_dose = dose.zones.get(r.zone)
        per_cm2 = zone_dose.per_cm2 if zone_dose is not None else None
        flags = ", ".join([*r.flags, *(f"scar {s}" for s in r.scars)])
        body.append(
            f"<tr id='zone-{escape(r.zone)}'><td>{escape(r.zone)}</td>"
            f"<td class=text>{escape(r.label)}</td><td>{r.passes}</td>"
            f"<td>{_duration(r.needle_s)}</td><td>{r.strokes:,}</td>"
            f"<td class='dose'>{_num(per_cm2, ',.1f')}</td>"
            f"<td>{_num(r.mean_hz)}</td><td>{_num(r.min_hz)}</td><td>{_num(r.max_hz)}</td>"
            f"<td>{_num(r.setpoint_hz)}</td><td>{_num(r.depth_mm, '.2f')}</td>"
            f"<td>{r.interrupted or ''}</td><td class=text>{escape(flags)}</td></tr>"
        )
    return f"<table class='zones'>{head}{''.join(body)}</table>"


def _count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def dose_section(rows: Sequence[ZoneRow], dose: SessionDose) -> list[str]:
    """Per zone what the dose is made of: in-skin strokes, punctures, the area it is over
    and where that area came from; for microneedling the end point reached."""
    parts = ["<h2 id='dose'>Dose</h2>"]
    if not dose.known:
        return [
            *parts,
            "<p>Not recorded: this session's passes have no in-skin stroke counts (recorded "
            "before smpctl counted them), so no puncture dose can be given.</p>",
        ]
    end = dose.microneedling
    parts += [
        "<p class='muted'>Punctures are in-skin strokes (strokes into air are not counted) "
        "times the needles of the cartridge; per cm² of the zone's area in force for this "
        "session (default: an estimate; measured on the client; or entered at the start).</p>",
        "<table class='doses'><tr><th>zone</th><th>in-skin strokes</th><th>punctures</th>"
        f"<th>{DOSE_UNIT}</th><th>area cm²</th><th class=text>area</th>"
        + ("<th class=text>end point</th>" if end else "")
        + "</tr>",
    ]
    for r in rows:
        d = dose.zones.get(r.zone)
        if d is None:
            continue
        point = dose.end_points.get(r.zone)
        parts.append(
            f"<tr id='dose-{escape(r.zone)}'><td>{escape(r.zone)}</td>"
            f"<td>{_count(d.in_skin_strokes)}</td><td>{_count(d.punctures)}</td>"
            f"<td>{_num(d.per_cm2, ',.1f')}</td><td>{d.area_cm2:g}</td>"
            f"<td class=text>{escape(d.area_source)}</td>"
            + (
                f"<td class=text>{escape(point.words if point else 'not recorded')}</td>"
                if end
                else ""
            )
            + "</tr>"
        )
    parts.append(
        f"<tr><td>ALL</td><td>{_count(dose.in_skin_strokes)}</td>"
        f"<td>{_count(dose.punctures)}</td><td></td><td></td><td></td>"
        + ("<td></td>" if end else "")
        + "</tr></table>"
    )
    if dose.nano:
        parts.append(f"<p class='note'>{escape(NANO_NOTE)}</p>")
    return parts


def _pass_card(p: PassLine, trace: TraceColumns, why: list[str]) -> str:
    scar = f" +{escape(p.scar)}" if p.scar else ""
    short = escape(p.uid[:8])
    return (
        f"<div class='pass bad' id='pass-{short}'>"
        f"<b>#{p.number}</b> {escape(p.zone or '-')}{scar} · "
        f"{when(p.started_wall, '%H:%M:%S')}"
        f" · {p.needle_s:.1f} s · {p.strokes or 0:,} strokes · {_num(p.mean_hz)} Hz "
        f"(set {_num(p.setpoint_hz)}) · {escape(p.outcome or 'open')}"
        f"<br><b>{escape('; '.join(why))}</b> · id <code>{short}</code>"
        f"{charts.speed_trace(trace, max_hz=p.max_hz)}</div>"
    )


CARDS_PER_REASON = 2
"""Passes that need a look for the same machine reason (a stall, a speed below its
setpoint) repeat one story: the first ones get a card with their trace, the rest are
listed by number and id. A pass flagged or annotated by the practitioner always gets its
own card: what was written is about that pass."""


def _reason_key(why: list[str]) -> str | None:
    """What groups a pass with others like it (None: it keeps its own card)."""
    if any(w.startswith("flag: ") or w == "note" for w in why):
        return None
    first = why[0]
    if first.startswith(("mean ", "fell to ")):
        return "speed off its setpoint"
    return first


_Looks = list[tuple[PassLine, list[str]]]
"""Passes that need a look, each with why."""


def _cards_and_more(flagged: _Looks) -> tuple[_Looks, dict[str, _Looks]]:
    cards: _Looks = []
    more: dict[str, _Looks] = {}
    shown: dict[str, int] = {}
    for item in flagged:
        key = _reason_key(item[1])
        if key is None or shown.get(key, 0) < CARDS_PER_REASON:
            cards.append(item)
            if key is not None:
                shown[key] = shown.get(key, 0) + 1
        else:
            more.setdefault(key, []).append(item)
    return cards, more


def _zone_passes(
    row: ZoneRow,
    strip: str,
    flagged: _Looks,
    carded: tuple[_Looks, dict[str, _Looks]],
    traces: dict[str, TraceColumns],
) -> list[str]:
    """One zone: the strip of all its passes, then a card for each pass that needs a look."""
    zone = row.zone
    rest = row.passes - len(flagged)
    parts = [
        f"<section class='zone-passes' id='passes-{escape(zone)}'>"
        f"<h3>{escape(zone)} — {escape(zone_label(zone))} ({row.passes} passes"
        f"{f', {len(flagged)} to look at' if flagged else ''})</h3>",
        strip,
    ]
    if flagged:
        cards, more = carded
        parts.append("<div class='passes'>")
        parts += [_pass_card(p, traces[p.uid], why) for p, why in cards]
        parts.append("</div>")
        for reason, passes in more.items():
            listed = ", ".join(
                f"#{p.number} <code>{escape(p.uid[:8])}</code>" for p, _why in passes
            )
            parts.append(
                f"<p class='more-passes'>{len(passes)} more pass"
                f"{'es' if len(passes) != 1 else ''} for the same reason "
                f"(<b>{escape(reason)}</b>): {listed}. <code>smpctl logs pass ID</code> "
                "shows any one in full.</p>"
            )
    if rest:
        parts.append(
            f"<p class='muted'>{rest} other pass{'es' if rest != 1 else ''} ran as asked "
            f"(not interrupted, stopped or left open, no flag or note, mean speed within "
            f"{DRIFT_OK:.0%} of the setpoint and never below "
            f"{hard_limits.UNDERSPEED_WARN_FRACTION:.0%} of it), {row.strokes:,} strokes "
            "in the zone.</p>"
        )
    parts.append("</section>")
    return parts


class _ZoneDrawing:
    """Each zone's strip: the one the journal kept as the passes ended, else (a journal
    from before strips, a pass closed by crash recovery or still open) built here from
    the session's stored traces, read once for every such zone."""

    def __init__(self, journal: Journal, review: SessionReview) -> None:
        self.journal = journal
        self.review = review
        self.strips = stored_strips(journal, review.session.uid)
        self._lines: list[PassLine] | None = None
        self._traces: dict[str, TraceColumns] | None = None

    def strip(self, row: ZoneRow, looked: list[int]) -> str:
        stored = self.strips.get(row.zone)
        if stored is not None and stored.passes == row.passes:
            return charts.zone_strip(row.zone, stored, looked)
        uid = self.review.session.uid
        if self._lines is None:
            self._lines = list(self.review.passes) or pass_lines(self.journal, uid)
        mine = [p for p in self._lines if (p.zone or "-") == row.zone]
        if self._traces is None:
            self._traces = session_traces(self.journal, uid, [p.uid for p in self._lines])
        return charts.pass_strip(
            row.zone,
            [charts.StripPass(p.number, self._traces[p.uid], bool(attention(p))) for p in mine],
        )


def _event_rows(groups: list[EventGroup]) -> list[str]:
    """Notable events in time order; one that recurs (a stall forty times) is one row with
    its count, its passes and its first few times."""
    entries: list[tuple[float, str]] = []
    for g in groups:
        if not g.more:
            for e in g.first:
                in_pass = f"#{e.pass_number}" if e.pass_number is not None else ""
                entries.append(
                    (
                        e.wall,
                        f"<tr><td class=text>{when(e.wall, '%H:%M:%S')}</td><td class=text>"
                        f"{escape(e.source)}</td><td class=text>{escape(e.kind)}</td>"
                        f"<td class=text>{escape(e.detail)}</td><td class=text>{in_pass}</td></tr>",
                    )
                )
            continue
        times = ", ".join(when(e.wall, "%H:%M:%S") for e in g.first)
        entries.append(
            (
                g.first[0].wall,
                f"<tr class='group'><td class=text>{times}, …</td><td class=text>"
                f"{escape(g.source)}</td><td class=text>{escape(g.kind)} ×{g.count}</td>"
                f"<td class=text>{escape(g.detail)}</td>"
                f"<td class=text>{escape(pass_numbers(g.pass_numbers))}</td></tr>",
            )
        )
    entries.sort(key=lambda entry: entry[0])
    return [row for _wall, row in entries]


def _map_shading(review: SessionReview) -> tuple[dict[str, float | None], str, str]:
    """What the scalp map is shaded by: the dose when this session has one, else (passes
    from before in-skin counting) needle strokes per cm², said as such."""
    dose = review.dose
    if dose.known:
        return (
            {zone: d.per_cm2 for zone, d in dose.zones.items()},
            DOSE_UNIT,
            "Each zone is shaded by its micro-injury dose: punctures (in-skin strokes × "
            "needles) per cm² of the zone's area in force for this session, darkest for the "
            "highest of this session. Hatched zones were treated but their dose is unknown; "
            "grey zones were not treated." + (f" {escape(NANO_NOTE)}" if dose.nano else ""),
        )
    return (
        {r.zone: r.strokes / d.area_cm2 for r in review.zones if (d := dose.zones.get(r.zone))},
        "strokes/cm²",
        "No in-skin strokes were counted in this session (recorded before smpctl counted "
        "them), so each zone is shaded by needle strokes per cm² of its area, strokes into "
        "air included: coverage, not a dose. Grey zones were not treated.",
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
        f"<p class='muted'>{when(s.started_wall)} → {when(s.ended_wall)} · practitioner "
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
    shading, unit, how = _map_shading(review)
    unknown = any(r.passes and shading.get(r.zone) is None for r in rows if r.zone != "-")
    dose = review.dose
    parts += [
        "<h2>Summary</h2><div class='cards'>",
        f"<div class='card'>session<b>{escape(KIND_WORDS.get(s.kind, s.kind))}</b></div>",
        f"<div class='card'>zones treated<b>{len([r for r in rows if r.zone != '-'])}</b></div>",
        f"<div class='card'>passes<b>{t.passes}</b></div>",
        f"<div class='card'>needle time<b>{_duration(t.needle_s)}</b></div>",
        f"<div class='card'>strokes<b>{t.strokes:,}</b></div>",
        f"<div class='card'>mean speed<b>{_num(t.mean_hz, '.1f', ' Hz')}</b></div>",
        f"<div class='card'>depth<b>{_num(t.depth_min_mm, '.2f')}–"
        f"{_num(t.depth_max_mm, '.2f')} mm</b></div>",
        f"<div class='card'>interrupted passes<b>{t.interrupted}</b></div>",
        f"<div class='card'>flagged passes<b>{t.flagged}</b></div>",
        f"<div class='card'>punctures<b>{_count(dose.punctures)}</b></div>",
        "</div>",
        f"<p class='muted'>Pen: {pen_text}.</p>",
        "<h2>Scalp map</h2><div class='map'><div>",
        charts.scalp_map(by_zone, shading, unit),
        charts.map_legend(shading, unit, unknown=unknown),
        f"</div><div><p>{how}</p></div></div>",
        "<h2>Per zone</h2>",
        zone_table(rows, t, review.dose),
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
        *dose_section(rows, review.dose),
        "<h2>Passes</h2><p class='muted'>Each zone's passes side by side, in order: a "
        "segment per pass, its speed (blue) against its setpoint (orange, dashed), "
        f"0–{hard_limits.MAX_SPEED_HZ:g} Hz, downsampled to fit; passes that need a look are "
        "shaded and shown below their zone with their own trace (for a reason that repeats, "
        f"the first {CARDS_PER_REASON}, then a list of the rest). Any pass in full: "
        f"<code>smpctl logs pass PASS_ID</code> (ids: <code>smpctl logs show {escape(s.uid[:8])} "
        "--passes</code>); every sample: <code>smpctl logs export "
        f"{escape(s.uid[:8])} --format csv --telemetry -o FILE.csv</code>.</p>",
    ]
    looks = passes_to_look(journal, s.uid)
    looks_by_zone: dict[str, _Looks] = {row.zone: [] for row in rows}
    for look in looks:
        looks_by_zone.setdefault(look[0].zone or "-", []).append(look)
    carded = {zone: _cards_and_more(flagged) for zone, flagged in looks_by_zone.items()}
    traces = traces_of(journal, [p.uid for cards, _ in carded.values() for p, _why in cards])
    drawing = _ZoneDrawing(journal, review)
    for row in rows:
        flagged = looks_by_zone[row.zone]
        strip = drawing.strip(row, [p.number for p, _why in flagged])
        parts += _zone_passes(row, strip, flagged, carded[row.zone], traces)
    parts.append("<h2>Events</h2>")
    counts = ", ".join(f"{escape(k)} {v}" for k, v in review.event_counts.items())
    parts.append(f"<p class='muted'>All events: {counts or 'none'}.</p>")
    if review.events:
        parts.append(
            "<table><tr><th class=text>time</th><th class=text>source</th>"
            "<th class=text>event</th><th class=text>detail</th><th class=text>pass</th></tr>"
        )
        parts += _event_rows(review.event_groups)
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
                f"{when(c.registered_wall, '%H:%M')}</td><td>{c.passes}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No cartridge or pigment was registered.</p>")
    parts.append(
        f"<footer>Generated {when(journal.now)} by smpctl {escape(installed_version())} from "
        "the session journal. Client named by pseudonym only.</footer></body></html>"
    )
    return "\n".join(parts)
