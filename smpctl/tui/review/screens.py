"""Review screens, from the client list down to one pass replayed.

Every figure comes from smpctl.review (the same code as ``smpctl logs``); these screens
only lay it out. Replay pulls samples on a timer, as the live dashboard pulls its ring.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from smpctl.journal import Journal, SessionSummary
from smpctl.review import clients, pass_detail, review_session
from smpctl.review.replay import Replay
from smpctl.review.summary import EventGroup, PassLine, SessionReview
from smpctl.review.text import (
    KIND_WORDS,
    count,
    duration,
    num,
    pass_numbers,
    steady_text,
    when,
)
from smpctl.tui.widgets.readouts import Readouts
from smpctl.tui.widgets.speed_gauge import SpeedGauge
from smpctl.tui.widgets.trend_plot import TrendPlot

Clock = Callable[[], float]
REPLAY_EVERY_S = 0.05
PLOT_EVERY_S = 0.2


def _event_group_text(g: EventGroup) -> str:
    """One kind of event in a few words: how often, the pen's reason (a host event's
    message is in ``logs show``), and in which passes."""
    times = f" ×{g.count}" if g.count > 1 else ""
    detail = f" {g.detail}" if g.source == "pen" and g.detail else ""
    passes = f" (pass {pass_numbers(g.pass_numbers)})" if g.pass_numbers else ""
    return f"{g.kind}{times}{detail}{passes}"


class _ReviewBase(Screen[None]):
    CSS_PATH = "review.tcss"
    BINDINGS = [Binding("escape", "back", "back")]

    def __init__(self, journal: Journal, *, clock: Clock = time.monotonic) -> None:
        super().__init__()
        self.journal = journal
        self.clock = clock

    def action_back(self) -> None:
        self.app.pop_screen()


class ReviewScreen(_ReviewBase):
    """Clients on the left, the highlighted client's sessions on the right."""

    def __init__(self, journal: Journal, *, clock: Clock = time.monotonic) -> None:
        super().__init__(journal, clock=clock)
        self._sessions: list[SessionSummary] = []
        self._shown: list[SessionSummary] = []

    def compose(self) -> ComposeResult:
        yield Static("Review: clients and sessions", classes="review-title")
        yield Static("enter: open · tab: switch list · esc: back · q: quit", classes="review-help")
        with Horizontal(id="review-main"):
            yield DataTable(id="clients", cursor_type="row")
            yield DataTable(id="sessions", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self._sessions = self.journal.sessions()
        table = self.query_one("#clients", DataTable)
        table.add_columns("client", "sessions")
        for client in clients(self.journal):
            count = sum(1 for s in self._sessions if s.client == client)
            table.add_row(client, str(count), key=client)
        sessions = self.query_one("#sessions", DataTable)
        sessions.add_columns("#", "date", "passes", "strokes", "zones", "")
        if table.row_count:
            self._show_client(str(table.get_row_at(0)[0]))
        table.focus()

    def _show_client(self, client: str) -> None:
        table = self.query_one("#sessions", DataTable)
        table.clear()
        self._shown = sorted(
            (s for s in self._sessions if s.client == client), key=lambda s: s.started_wall
        )
        for s in self._shown:
            table.add_row(
                f"#{s.session_number}",
                when(s.started_wall),
                str(s.passes),
                f"{s.strokes:,}",
                ",".join(s.zones) or "-",
                "SIMULATED" if s.simulated else "",
                key=s.uid,
            )

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "clients" and event.row_key.value is not None:
            self._show_client(str(event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "clients":
            self.query_one("#sessions", DataTable).focus()
            return
        uid = event.row_key.value
        session = next((s for s in self._shown if s.uid == uid), None)
        if session is not None:
            self.app.push_screen(SessionScreen(self.journal, session, clock=self.clock))


class SessionScreen(_ReviewBase):
    """One session zone by zone; enter opens the zone's passes."""

    def __init__(
        self, journal: Journal, session: SessionSummary, *, clock: Clock = time.monotonic
    ) -> None:
        super().__init__(journal, clock=clock)
        self.session = session
        self.review: SessionReview = review_session(journal, session)

    def compose(self) -> ComposeResult:
        s = self.session
        yield Static(
            f"Client {s.client} #{s.session_number} · {KIND_WORDS.get(s.kind, s.kind)} · "
            f"{when(s.started_wall)}" + (" · SIMULATED" if s.simulated else ""),
            classes="review-title",
        )
        yield Static("enter: the zone's passes · esc: back", classes="review-help")
        yield DataTable(id="zones", cursor_type="row")
        yield Static(self._facts(), id="session-facts")
        yield Footer()

    def _facts(self) -> str:
        r = self.review
        things = "; ".join(f"{c.kind} {c.description} lot {c.lot}" for c in r.consumables)
        notable = "; ".join(_event_group_text(g) for g in r.event_groups)
        return (
            f"{r.totals.passes} passes, needle {duration(r.totals.needle_s)}, "
            f"{r.totals.strokes:,} strokes, {r.totals.interrupted} interrupted\n"
            f"consumables: {things or 'none'}\nevents: {notable or 'nothing notable'}"
        )

    def on_mount(self) -> None:
        """The zone table of ``logs show``, with each zone's dose (punctures/cm² of its
        area in force that day) and, for microneedling, the end point reached."""
        dose = self.review.dose
        table = self.query_one("#zones", DataTable)
        table.add_columns(
            "zone", "passes", "needle", "strokes", "mean Hz", "min", "max", "depth", "intr"
        )
        table.add_columns("in-skin", "/cm²", *(["end point"] if dose.microneedling else []))
        table.add_column("flags")
        for z in self.review.zones:
            d = dose.zones.get(z.zone)
            point = dose.end_points.get(z.zone)
            table.add_row(
                z.zone,
                str(z.passes),
                duration(z.needle_s),
                f"{z.strokes:,}",
                num(z.mean_hz),
                num(z.min_hz),
                num(z.max_hz),
                num(z.depth_mm, ".2f"),
                str(z.interrupted or ""),
                count(d.in_skin_strokes) if d else "–",
                num(d.per_cm2, ",.1f") if d else "–",
                *([point.words if point else "not recorded"] if dose.microneedling else []),
                ", ".join([*z.flags, *z.scars]),
                key=z.zone,
            )
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        zone = str(event.row_key.value)
        passes = [p for p in self.review.passes if (p.zone or "-") == zone]
        self.app.push_screen(ZoneScreen(self.journal, self.session, zone, passes, clock=self.clock))


class ZoneScreen(_ReviewBase):
    """The passes of one zone in one session; enter opens a pass for replay."""

    def __init__(
        self,
        journal: Journal,
        session: SessionSummary,
        zone: str,
        passes: list[PassLine],
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(journal, clock=clock)
        self.session = session
        self.zone = zone
        self.passes = passes

    def compose(self) -> ComposeResult:
        yield Static(
            f"Client {self.session.client} #{self.session.session_number} · zone {self.zone}"
            f" · {len(self.passes)} passes",
            classes="review-title",
        )
        yield Static("enter: open and replay the pass · esc: back", classes="review-help")
        yield DataTable(id="passes", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#passes", DataTable)
        table.add_columns(
            "#", "time", "needle s", "strokes", "mean Hz", "set Hz", "outcome", "flag"
        )
        for p in self.passes:
            table.add_row(
                str(p.number),
                when(p.started_wall, "%H:%M:%S"),
                f"{p.needle_s:.1f}",
                f"{p.strokes or 0:,}",
                num(p.mean_hz),
                num(p.setpoint_hz),
                (p.outcome or "open") + (f" +{p.scar}" if p.scar else ""),
                p.flag or "",
                key=p.uid,
            )
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(PassScreen(self.journal, str(event.row_key.value), clock=self.clock))


class PassScreen(_ReviewBase):
    """One pass: its figures, and its telemetry replayed at 1x or 10x."""

    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("p", "play_pause", "play/pause"),
        Binding("1", "speed(1)", "1x"),
        Binding("0", "speed(10)", "10x"),
        Binding("r", "restart", "restart"),
    ]

    def __init__(self, journal: Journal, pass_uid: str, *, clock: Clock = time.monotonic) -> None:
        super().__init__(journal, clock=clock)
        self.detail = pass_detail(journal, journal.pass_record(pass_uid))
        self.replay = Replay(journal.pass_samples(pass_uid))
        self._last_tick = 0.0
        self._plot_due = False

    def compose(self) -> ComposeResult:
        p = self.detail.record
        yield Static(
            f"Pass #{p.number} · zone {p.zone or '-'}"
            + (f" +{p.scar}" if p.scar else "")
            + f" · {p.outcome.value if p.outcome else 'open'} · {p.uid[:8]}",
            classes="review-title",
        )
        yield Static(
            "p: play/pause · 1: 1x · 0: 10x · r: restart · esc: back", classes="review-help"
        )
        yield Static(self._facts(), id="pass-facts")
        yield SpeedGauge(id="replay-gauge")
        with Horizontal(id="replay-body"):
            yield TrendPlot(id="replay-plot")
            with Vertical(id="replay-readouts-box"):
                yield Readouts(id="replay-readouts")
        yield Footer()

    def _facts(self) -> str:
        d = self.detail
        p = d.record
        t = d.trace
        setpoints = ", ".join(f"{k} {v:g}" for k, v in d.setpoints.items()) or "not recorded"
        return (
            f"setpoints: {setpoints}\n"
            f"measured: mean {num(p.speed_mean_hz)} Hz (min {num(p.speed_min_hz)}, max "
            f"{num(p.speed_max_hz)}), depth {num(p.depth_mm, '.2f')} mm, {p.strokes or 0:,} "
            f"strokes; {steady_text(t)}\n"
            f"events: {', '.join(e.kind for e in d.events) or 'none'}"
        )

    def on_mount(self) -> None:
        self.query_one(SpeedGauge).max_hz = 150.0
        self._last_tick = self.clock()
        self.set_interval(REPLAY_EVERY_S, self._tick)
        self.set_interval(PLOT_EVERY_S, self._redraw)
        self._status()

    def _status(self) -> None:
        r = self.replay
        state = "playing" if r.playing else ("finished" if r.finished and r.last else "paused")
        text = f"replay {r.speed:g}x {state} {r.position_s:5.1f}/{r.duration_s:.1f} s"
        self.query_one(Readouts).show(r.last, None, (text, "bold cyan"))

    def _tick(self) -> None:
        now = self.clock()
        elapsed, self._last_tick = now - self._last_tick, now
        samples = self.replay.advance(elapsed)
        if samples:
            self.query_one(TrendPlot).add(samples, self.replay.t0_us)
            last = samples[-1]
            self.query_one(SpeedGauge).show(last.speed_hz, last.setpoint_hz, last.motor_on)
            self._plot_due = True
            self._status()

    def _redraw(self) -> None:
        if self._plot_due:
            self._plot_due = False
            self.query_one(TrendPlot).redraw()

    def action_play_pause(self) -> None:
        if self.replay.playing:
            self.replay.pause()
        else:
            if self.replay.finished:
                self.query_one(TrendPlot).clear_trend()
            self.replay.play()
        self._last_tick = self.clock()
        self._status()

    def action_speed(self, factor: float) -> None:
        self.replay.speed = float(factor)
        if not self.replay.playing:
            self.action_play_pause()
        self._status()

    def action_restart(self) -> None:
        self.replay.restart()
        self.query_one(TrendPlot).clear_trend()
        self._status()
