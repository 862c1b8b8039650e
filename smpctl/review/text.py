"""The review as terminal text: what ``smpctl logs show|compare|pass`` print."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from smpctl import hard_limits

from .compare import ClientComparison
from .pass_view import PassDetail
from .summary import SessionReview, ZoneRow
from .trace import TracePoint

BLOCKS = "▁▂▃▄▅▆▇█"


def when(wall: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return dt.datetime.fromtimestamp(wall).strftime(fmt) if wall is not None else "open"


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


def show_text(review: SessionReview, *, passes: bool = False) -> str:
    s = review.session
    out = [
        f"Session {s.uid[:8]}  client {s.client} #{s.session_number}  "
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
    out += [
        "",
        "Events: " + (", ".join(f"{k} {v}" for k, v in review.event_counts.items()) or "none"),
    ]
    for e in review.events:
        in_pass = f"  (pass #{e.pass_number})" if e.pass_number is not None else ""
        out.append(f"  {when(e.wall, '%H:%M:%S')}  {e.source:<4} {e.kind:<18} {e.detail}{in_pass}")
    out += ["", "Consumables:"]
    for c in review.consumables:
        expiry = f", expires {c.expiry}" if c.expiry else ""
        out.append(
            f"  {c.kind:<9} {c.description}  lot {c.lot}{expiry}  "
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
            )
    return "\n".join(out)


def _cell(r: ZoneRow | None) -> str:
    if r is None:
        return "-"
    strokes = f"{r.strokes / 1000:.0f}k" if r.strokes >= 10_000 else str(r.strokes)
    return f"{r.passes}p {strokes} st {num(r.mean_hz, '.0f')}Hz {num(r.depth_mm, '.2f')}mm"


def compare_text(c: ClientComparison) -> str:
    width = 26
    out = [f"Client {c.client}: {len(c.sessions)} session(s)"]
    for s in c.sessions:
        sim = "  SIMULATED" if s.simulated else ""
        out.append(f"  #{s.number}  {s.uid[:8]}  {when(s.started_wall, '%Y-%m-%d')}{sim}")
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
            f"ramp {num(t.ramp_s, '.2f')} s; "
            f"{num(None if t.within_5pct is None else t.within_5pct * 100)} % within 5 % of "
            f"setpoint; {num(None if t.below_warn is None else t.below_warn * 100)} % below the "
            f"under-speed warning; p5/median/p95 {num(t.p5_hz)}/{num(t.median_hz)}/"
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
