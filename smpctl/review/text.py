"""The review as terminal text: what ``smpctl logs show|compare|pass`` print."""

from __future__ import annotations

import time
from collections.abc import Sequence

from smpctl import hard_limits

from .compare import ClientComparison, SessionColumn
from .dose import DOSE_UNIT, NANO_NOTE, SessionDose, ZoneDoseSeries
from .pass_view import PassDetail
from .summary import EventGroup, EventRow, SessionReview, ZoneRow, attention
from .trace import TracePoint, TraceSummary

BLOCKS = "▁▂▃▄▅▆▇█"
KIND_WORDS = {"smp": "SMP", "microneedling": "microneedling"}
PASS_NUMBERS_SHOWN = 12
"""A recurring event names at most this many of its passes (the JSON names all)."""


def when(wall: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Local time, as the practitioner's clock read; "open" for a time not yet recorded
    (``time.strftime``: a report has one per card and event row, and it costs a third of
    a datetime's)."""
    return time.strftime(fmt, time.localtime(wall)) if wall is not None else "open"


def num(value: float | None, fmt: str = ".1f") -> str:
    return "-" if value is None else f"{value:{fmt}}"


def duration(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def sparkline(points: Sequence[TracePoint], top: float = hard_limits.MAX_SPEED_HZ) -> str:
    top = max([top, *(p.speed_hz for p in points)])
    return "".join(
        BLOCKS[min(len(BLOCKS) - 1, int(p.speed_hz / top * len(BLOCKS)))] for p in points
    )


ZONE_HEAD = (
    f"{'zone':<6} {'passes':>6} {'needle':>8} {'strokes':>9} {'mean Hz':>7} {'min':>6} "
    f"{'max':>6} {'set':>6} {'depth':>5} {'intr':>4}  flags"
)


def zone_line(r: ZoneRow) -> str:
    flags = ", ".join([*r.flags, *(f"scar {s}" for s in r.scars)])
    if r.open_passes:
        flags = ", ".join(filter(None, [flags, f"{r.open_passes} open"]))
    return (
        f"{r.zone:<6} {r.passes:>6} {duration(r.needle_s):>8} {r.strokes:>9,} "
        f"{num(r.mean_hz):>7} {num(r.min_hz):>6} {num(r.max_hz):>6} {num(r.setpoint_hz):>6} "
        f"{num(r.depth_mm, '.2f'):>5} {r.interrupted or '':>4}  {flags}"
    ).rstrip()


def steady_text(t: TraceSummary) -> str:
    """How much of the pass the needle ran steadily, and how well it held its speed then:
    a stalled or stopped stretch is not running, so it is said apart, not counted in."""
    steady = t.steady_samples / t.samples * 100 if t.samples else None
    within = None if t.within_5pct is None else t.within_5pct * 100
    below = None if t.below_warn is None else t.below_warn * 100
    return (
        f"steady running {num(steady)} % of the pass, {num(within)} % of it within 5 % of "
        f"setpoint and {num(below)} % below the under-speed warning"
    )


def pass_numbers(numbers: Sequence[int], limit: int = PASS_NUMBERS_SHOWN) -> str:
    shown = ", ".join(f"#{n}" for n in numbers[:limit])
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


def _event_line(e: EventRow) -> str:
    in_pass = f"  (pass #{e.pass_number})" if e.pass_number is not None else ""
    return f"  {when(e.wall, '%H:%M:%S')}  {e.source:<4} {e.kind:<18} {e.detail}{in_pass}"


def event_lines(groups: Sequence[EventGroup], session_uid: str) -> list[str]:
    """Every notable event in time order, except that one recurring (more than
    ``EVENT_GROUP_FIRST`` of the same kind and detail) is a block at its first time: its
    count and passes, its first few, and where to find the rest."""
    entries: list[tuple[float, list[str]]] = []
    for g in groups:
        if not g.more:
            entries += [(e.wall, [_event_line(e)]) for e in g.first]
            continue
        passes = f", in passes {pass_numbers(g.pass_numbers)}" if g.pass_numbers else ""
        head = f"  {g.source:<4} {g.kind:<18} {g.detail}".rstrip()
        block = [f"{head} x{g.count}{passes}:"]
        block += [
            f"      {when(e.wall, '%H:%M:%S')}"
            + (f"  pass #{e.pass_number}" if e.pass_number is not None else "")
            for e in g.first
        ]
        block.append(
            f"      ... {g.more} more: `smpctl logs show {session_uid[:8]} --json` lists every one"
        )
        entries.append((g.first[0].wall, block))
    entries.sort(key=lambda entry: entry[0])
    return [line for _wall, lines in entries for line in lines]


def dose_lines(dose: SessionDose, zones: Sequence[str]) -> list[str]:
    """Per zone in-skin strokes, punctures and punctures/cm² with the area they are over
    and where it came from; for microneedling, the end point reached."""
    if not dose.known:
        return ["", "Dose: not recorded (no in-skin stroke counts in this session's passes)"]
    end = dose.microneedling
    out = [
        "",
        "Dose (punctures = in-skin strokes x needles, per cm² of the zone's area for this "
        "session):",
        f"{'zone':<6} {'in-skin':>9} {'punctures':>10} {'/cm²':>8} {'area cm²':>9} {'source':<8}"
        + ("  end point" if end else ""),
    ]
    for zone in zones:
        d = dose.zones.get(zone)
        if d is None:
            continue
        point = dose.end_points.get(zone)
        out.append(
            (
                f"{zone:<6} {count(d.in_skin_strokes):>9} {count(d.punctures):>10} "
                f"{num(d.per_cm2, ',.1f'):>8} {d.area_cm2:>9g} {d.area_source:<8}"
                + (f"  {point.words if point else 'not recorded'}" if end else "")
            ).rstrip()
        )
    out.append(f"{'ALL':<6} {count(dose.in_skin_strokes):>9} {count(dose.punctures):>10}")
    if dose.nano:
        out.append(f"  {NANO_NOTE}")
    return out


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def show_text(review: SessionReview, *, passes: bool = False) -> str:
    s = review.session
    out = [
        f"Session {s.uid[:8]}  client {s.client} #{s.session_number}  "
        f"{KIND_WORDS.get(s.kind, s.kind)}  "
        f"{when(s.started_wall)} -> {when(s.ended_wall)}  practitioner {s.practitioner or '-'}"
        + ("  SIMULATED" if s.simulated else "")
        + ("" if s.consent else "  NO CONSENT RECORDED")
    ]
    if review.pen:
        p = review.pen
        out.append(f"pen {p['serial']} ({p['model']}, firmware {p['firmware']})")
    out += ["", ZONE_HEAD]
    out += [zone_line(r) for r in review.zones]
    out.append(zone_line(review.totals))
    out += dose_lines(review.dose, [r.zone for r in review.zones])
    out += [
        "",
        "Events: " + (", ".join(f"{k} {v}" for k, v in review.event_counts.items()) or "none"),
    ]
    out += event_lines(review.event_groups, s.uid)
    out += ["", "Consumables:"]
    for c in review.consumables:
        expiry = f", expires {c.expiry}" if c.expiry else ""
        needles = (
            f" ({c.cartridge_kind}, {c.needles} needle{'' if c.needles == 1 else 's'})"
            if c.needles
            else ""
        )
        out.append(
            f"  {c.kind:<9} {c.description}{needles}  lot {c.lot}{expiry}  "
            f"(registered {when(c.registered_wall, '%H:%M')}, {c.passes} passes)"
        )
    if not review.consumables:
        out.append("  none registered")
    if passes:
        out += ["", f"Passes ({len(review.passes)}):"]
        for x in review.passes:
            scar = f"+{x.scar}" if x.scar else ""
            out.append(
                f"  {x.uid[:8]}  #{x.number:<4} {(x.zone or '-') + scar:<14} "
                f"{when(x.started_wall, '%H:%M:%S')} {x.needle_s:6.1f} s {x.strokes or 0:>7,} st "
                f"{num(x.mean_hz):>6} Hz  {x.outcome or 'open'}"
                + (f"  flag {x.flag}" if x.flag else "")
                + (f"  ! {'; '.join(why)}" if (why := attention(x)) else "")
            )
    return "\n".join(out)


def _cell(r: ZoneRow | None) -> str:
    if r is None:
        return "-"
    strokes = f"{r.strokes / 1000:.0f}k" if r.strokes >= 10_000 else str(r.strokes)
    return f"{r.passes}p {strokes} st {num(r.mean_hz, '.0f')}Hz {num(r.depth_mm, '.2f')}mm"


def _dose_history(series: ZoneDoseSeries, sessions: Sequence[SessionColumn]) -> str:
    """``punctures/cm²: #1 36.0, #3 40.1; cumulative 76.1 over 2 sessions; days between: 42``"""
    bits: list[str] = []
    if series.known:
        cells = [
            f"#{col.number} {num(d.per_cm2, ',.1f')}" + (f" ({e.words})" if e is not None else "")
            for col, d, e in zip(
                sessions, series.doses, series.end_points or [None] * len(sessions), strict=True
            )
            if d is not None and d.treated
        ]
        floor = "at least " if series.unknown_sessions else ""
        unknown = (
            f", {series.unknown_sessions} of them of unknown dose"
            if series.unknown_sessions
            else ""
        )
        bits.append(
            f"{DOSE_UNIT}: {', '.join(cells)}; cumulative {floor}"
            f"{series.cumulative_per_cm2:,.1f} over {len(series.treated)} session(s){unknown}"
        )
    if series.days_between:
        bits.append("days between: " + ", ".join(str(d) for d in series.days_between))
    return "; ".join(bits)


def compare_text(c: ClientComparison) -> str:
    width = 26
    out = [f"Client {c.client}: {len(c.sessions)} session(s)"]
    for before, s in zip([None, *c.sessions], c.sessions, strict=False):
        sim = "  SIMULATED" if s.simulated else ""
        after = (
            f"  {s.days_since_previous} days after #{before.number}"
            if before is not None and s.days_since_previous is not None
            else ""
        )
        out.append(
            f"  #{s.number}  {s.uid[:8]}  {when(s.started_wall, '%Y-%m-%d')}  "
            f"{KIND_WORDS.get(s.kind, s.kind)}{after}{sim}"
        )
    if not c.sessions:
        return "\n".join(out)
    out.append("")
    out.append(
        f"{'zone':<6} " + "".join(f"{'#' + str(s.number):<{width}}" for s in c.sessions) + "status"
    )
    for z in c.zones:
        scar = f" +{','.join(z.scars)}" if z.scars else ""
        out.append(
            f"{z.zone:<6} "
            + "".join(f"{_cell(cell):<{width}}" for cell in z.cells)
            + z.status
            + scar
        )
        if z.dose is not None and (line := _dose_history(z.dose, c.sessions)):
            out.append(f"       {line}")
        for change in z.changes:
            out.append(f"       {change}")
        for reason in z.reasons:
            out.append(f"       ! {reason}")
    out.append("")
    out.append("Skipped in the latest session: " + (", ".join(c.skipped) or "none"))
    out.append("Need another session: " + (", ".join(c.needs_session) or "none"))
    return "\n".join(out)


def pass_text(d: PassDetail) -> str:
    p = d.record
    scar = f" +{p.scar}" if p.scar else ""
    who = f"client {d.client} #{d.session_number}" if d.client else "no session"
    out = [
        f"Pass {p.uid[:8]}  #{p.number}  zone {p.zone or '-'}{scar}  {who}  "
        f"{when(p.started_wall, '%Y-%m-%d %H:%M:%S')}  "
        f"{num(d.needle_s)} s  outcome {p.outcome.value if p.outcome else 'open'}",
        f"  id {p.uid}" + (f"  continues {p.continues_uid[:8]}" if p.continues_uid else ""),
    ]
    sp = d.setpoints
    out.append(
        "  setpoints: " + (", ".join(f"{k} {v:g}" for k, v in sp.items()) if sp else "not recorded")
    )
    out.append(
        f"  measured:  speed mean {num(p.speed_mean_hz)} Hz (min {num(p.speed_min_hz)}, "
        f"max {num(p.speed_max_hz)}) vs set {num(p.setpoint_hz)} Hz; "
        f"depth {num(p.depth_mm, '.2f')} mm; "
        f"{p.strokes or 0:,} strokes; peak {num(p.peak_current_a, '.2f')} A; "
        f"max {num(p.max_temp_c)} °C"
    )
    t = d.trace
    if t.samples:
        out.append(
            f"  trace:     {t.samples:,} samples over {t.duration_s:.1f} s; "
            f"ramp {num(t.ramp_s, '.2f')} s; {steady_text(t)}; "
            f"p5/median/p95 {num(t.p5_hz)}/{num(t.median_hz)}/"
            f"{num(t.p95_hz)} Hz; {num(t.strokes_per_s)} strokes/s"
        )
        out.append(f"  speed:     {sparkline(t.trace)}  (0-{hard_limits.MAX_SPEED_HZ:g} Hz)")
    else:
        out.append("  trace:     no telemetry recorded")
    if d.cartridge or d.pigment:
        out.append(f"  cartridge: {d.cartridge or '-'}; pigment: {d.pigment or '-'}")
    if p.flag or p.note:
        out.append(f"  flag: {p.flag or '-'}" + (f"; note: {p.note}" if p.note else ""))
    out.append(f"  events ({len(d.events)}):")
    for e in d.events:
        out.append(f"    {when(e.wall, '%H:%M:%S')}  {e.source:<4} {e.kind:<18} {e.detail}")
    return "\n".join(out)
