"""The dashboard application: owns the pen, ties the heartbeat to its own loop, pulls
telemetry from the client's ring on timers, and keeps STOP one key away everywhere."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.message import Message
from textual.widgets import Button, Input, RichLog, Static

from smpctl.client import LinkEvent, LinkState, Notice, Pen
from smpctl.clinic.background import BackgroundSync
from smpctl.clinic.history import remote_history
from smpctl.dose import ContactSettings
from smpctl.errors import SmpctlError
from smpctl.journal import Journal, PassRecord, SessionSummary
from smpctl.outcomes import HairMeasurement, client_for_record
from smpctl.profiles import (
    NO_CLINIC,
    AppliedProfile,
    ClinicSettings,
    LoadedProfile,
    apply_setpoints,
    limits_for,
    resolve,
)
from smpctl.protocol import SimAction, SimFault, Status
from smpctl.tui.alarms import STOP, AlarmBoard, HostAlarm, notice_text
from smpctl.tui.calibration import Calibration, read_calibration
from smpctl.tui.review import ReviewScreen
from smpctl.tui.screens.end_session import EndSessionScreen
from smpctl.tui.screens.hair_measurement import HairMeasurementScreen
from smpctl.tui.screens.help import HelpScreen
from smpctl.tui.screens.note import NoteScreen
from smpctl.tui.screens.pen_info import PenInfoScreen, pen_text
from smpctl.tui.screens.session_start import SessionStartScreen
from smpctl.tui.screens.treatment import TreatmentScreen
from smpctl.tui.session_flow.client_history import (
    NO_PSEUDONYM,
    history_text,
    merge_sessions,
    sessions_of,
)
from smpctl.tui.session_flow.dose_text import dose_shade
from smpctl.tui.session_flow.hair_measurement import (
    MeasurementForm,
    figures_text,
    record_measurement,
)
from smpctl.tui.session_flow.live_dose import UNIT, ZoneDoseView
from smpctl.tui.session_flow.start_form import (
    DEFAULT_NEEDLES,
    KIND_NAMES,
    SessionForm,
    default_profile,
)
from smpctl.tui.session_flow.treatment_session import TreatmentSession
from smpctl.tui.session_flow.zone_figures import ZoneFigures
from smpctl.tui.stop_sender import StopSender
from smpctl.tui.widgets.alarm_panel import AlarmPanel
from smpctl.tui.widgets.readouts import Readouts
from smpctl.tui.widgets.scalp_map import ZONE_KEYS, ScalpMap, ZoneCell
from smpctl.tui.widgets.speed_gauge import SpeedGauge
from smpctl.tui.widgets.trend_plot import TrendPlot
from smpctl.tui.widgets.zone_table import Cell, ZoneTable, dose_cells, figure_cells
from smpctl.zones import ScarKind, ZoneCode

INPUT_STOP_WINDOW_S = 0.3
"""A space's STOP sent by the input thread this recently is the one the binding sees."""
ALIVE_EVERY_S = 0.1
ALIVE_LEASE_S = 0.3
"""If the UI loop stalls this long, heartbeats stop and the pen's watchdog stops the needle."""
REFRESH_EVERY_S = 0.1
PLOT_EVERY_S = 0.2
FIGURES_EVERY_S = 1.0
TABLE_EVERY_S = 0.5
"""The zone table's live figures are redrawn at most this often."""
PEDAL_ECHO_S = 0.3
"""Longer than the pen takes to report a simulated pedal press in its telemetry."""
SCAR_CYCLE: tuple[ScarKind | None, ...] = (
    None,
    ScarKind.SCR_FUT,
    ScarKind.SCR_FUE,
    ScarKind.SCR_OTH,
)


ARMED_STATUS = "ARMED: the needle runs while the pedal is down."
DISARMED_STATUS = (
    "DISARMED by the pen (a fault, a link drop or its watchdog: see the alarms). "
    "Press a to re-arm once it is clear."
)
"""Said once the pen leaves the armed state by itself: the line must not go on saying
ARMED for a pen that is not."""


class Dashboard(App[None]):
    """``connect_pen`` is called on a worker thread: it returns a connected ``Pen``."""

    CSS_PATH = ["app.tcss", "review/review.tcss"]
    TITLE = "smpctl"
    BINDINGS = [
        Binding("space", "stop", "STOP", priority=True),
        Binding("a", "arm", "arm"),
        Binding("k", "acknowledge", "ack"),
        Binding("s", "scar", "scar"),
        Binding("i", "pen_info", "pen"),
        Binding("f", "flag", "flag"),
        Binding("n", "note", "note"),
        Binding("e", "end_session", "end"),
        Binding("f3", "review", "review"),
        Binding("f4", "hair_measurement", "hair measurement"),
        Binding("d", "override_dose", "override ceiling"),
        Binding("x", "end_point", "end point"),
        Binding("o", "override_calibration", "override calibration", show=False),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit_safely", "quit"),
        Binding("p", "pedal", "pedal (sim)", show=False),
        Binding("f5", "sim_fault('stall')", "stall (sim)", show=False),
        Binding("f6", "sim_fault('overheat')", "over-heat (sim)", show=False),
        Binding("f7", "sim_fault('overcurrent')", "over-current (sim)", show=False),
        Binding("f8", "sim_fault('link')", "link drop (sim)", show=False),
        *(
            Binding(key, f"zone('{zone.value}')", zone.value, show=False)
            for key, zone in ZONE_KEYS.items()
        ),
    ]

    def __init__(
        self,
        connect_pen: Callable[[], Pen],
        *,
        journal: Journal,
        simulated: bool,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], dt.date] = dt.date.today,
        wall: Callable[[], float] = time.time,
        initial_form: SessionForm | None = None,
        profile: LoadedProfile | None = None,
        profiles: Sequence[LoadedProfile] = (),
        clinic: ClinicSettings = NO_CLINIC,
        sync: BackgroundSync | None = None,
    ) -> None:
        super().__init__()
        self.sync = sync
        self.profile = profile
        """The profile in force: the one the dashboard was started with until a session
        starts, then the one chosen for the session (of the session's kind)."""
        self.launched_profile = profile
        self.profiles: dict[str, LoadedProfile] = {p.name: p for p in profiles}
        """The profiles a session may choose from (the start screen lists those of the
        session's kind)."""
        if profile is not None:
            self.profiles.setdefault(profile.name, profile)
        self.clinic = clinic
        self.calibration: Calibration | None = None
        self.calibration_override: str | None = None
        """The practitioner's recorded reason to treat on an expired calibration."""
        self.applied: AppliedProfile | None = None
        """The setpoints in force, as the pen acknowledged them."""
        self._applying = False
        self._connect_pen = connect_pen
        self.journal = journal
        self.today = today
        self.wall = wall
        self.session: TreatmentSession | None = None
        self._initial_form = initial_form
        self.simulated = simulated
        self.clock = clock
        self.pen: Pen | None = None
        self.board = AlarmBoard()
        self.zone: ZoneCode | None = None
        self.scar: ScarKind | None = None
        self.status_message = "Connecting to the pen…"
        self._seen_armed = False
        self._tele_cursor = 0
        self._notice_cursor = 0
        self._t0_us: int | None = None
        self._pedal_sim = False
        self._pedal_sent_at = -1e9
        self._session_line = ""
        self._profile_line = ""
        self._link_text: tuple[str, str] = ("—", "dim")
        self._link_text_at = -1e9
        self._figures: dict[str, ZoneFigures] = {}
        self._session_started = 0.0
        self._next_form: SessionForm | None = None
        self.stopper = StopSender(lambda: self.pen, self._stop_failed, clock)
        self.refreshes = 0
        self._table_zones: tuple[str, ...] | None = None
        self._table_shown_at = -1e9

    # ------------------------------------------------------------------ start

    def on_mount(self) -> None:
        self._show_start()
        self.set_interval(ALIVE_EVERY_S, self._tick_alive)
        self.set_interval(REFRESH_EVERY_S, self._refresh)
        self.set_interval(PLOT_EVERY_S, self._redraw_plot)
        self.set_interval(FIGURES_EVERY_S, self._refresh_figures)
        self._start_connect()

    @work(thread=True, exclusive=True, group="connect")
    def _start_connect(self) -> None:
        try:
            pen = self._connect_pen()
            calibration = read_calibration(pen)
        except SmpctlError as exc:
            self.call_from_thread(self._connect_failed, str(exc))
            return
        self.call_from_thread(self._connected, pen, calibration)

    def _show_start(self) -> None:
        self.push_screen(self._start_screen(self._initial_form))

    def profile_kinds(self) -> dict[str, str]:
        return {name: p.kind.value for name, p in self.profiles.items()}

    def _start_screen(self, base: SessionForm | None) -> SessionStartScreen:
        """The start screen, its kind and profile preset: the base form's, else the
        profile the dashboard was started with (and its kind)."""
        launched = self.launched_profile
        form = replace(base) if base is not None else SessionForm()
        if base is None and launched is not None:
            form.kind = launched.kind.value
            form.needle = DEFAULT_NEEDLES[form.kind]
        if not form.profile:
            preferred = launched.name if launched is not None else None
            form.profile = default_profile(form.kind, self.profile_kinds(), preferred)
        return SessionStartScreen(
            self.simulated,
            self._history,
            today=self.today,
            initial=form,
            profile_kinds=self.profile_kinds(),
        )

    def _history(self, pseudonym: str) -> str:
        """A returning client's earlier sessions, doses and hair measurements, for the start
        screen (with the sessions at other chairs, when the clinic syncs)."""
        name = pseudonym.strip()
        if not name:
            return NO_PSEUDONYM
        found = sessions_of(self.journal, name)
        if self.sync is not None:
            # sessions at other chairs of the clinic, pulled from the server in the background
            self.sync.request_pull(name)
            found = merge_sessions(found, remote_history(name, self.journal.path))
        return history_text(
            self.journal,
            name,
            self.today(),
            sessions=found,
            passes_of=self._passes_of,
            where="this journal or the clinic server" if self.sync else "this journal",
        )

    def _passes_of(self, session: SessionSummary) -> list[PassRecord]:
        local = self.journal.passes(session.uid)
        if local or self.sync is None:
            return local
        from smpctl.clinic.history import remote_passes

        return remote_passes(session.uid, self.journal.path)

    def sync_text(self) -> str:
        """The background sync's state, for the status line (empty when none is set up)."""
        if self.sync is None:
            return ""
        st = self.sync.state()
        pending = "?" if st.pending is None else str(st.pending)
        if st.last_error:
            return f" · sync OFFLINE ({pending} pending, recorded locally)"
        if st.last_sync_wall is None:
            return " · sync starting"
        last = time.strftime("%H:%M", time.localtime(st.last_sync_wall))
        return f" · synced {last}, {pending} pending"

    def on_session_start_screen_submitted(self, message: SessionStartScreen.Submitted) -> None:
        pen = self.pen
        if pen is None:
            self.notify("The pen is not connected yet.", severity="error")
            return
        form = message.form
        profile = self.profiles.get(form.profile) if form.profile else None
        if form.profile and profile is None:
            self.notify(f"No profile named {form.profile!r}.", severity="error", timeout=8)
            return
        try:
            session = TreatmentSession.start(
                self.journal,
                pen,
                form,
                simulated=self.simulated,
                today=self.today,
                profile=profile,
                contact=self._contact_settings(pen),
            )
        except SmpctlError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.session = session
        self.profile = profile
        self.zone = None
        self.scar = None
        self._figures = {}
        self._profile_line = ""
        self.applied = None
        self.calibration_override = None
        self._session_started = self.clock()
        self.status_message = "Session open. Choose a zone (1…0), then a to arm."
        self.switch_screen(
            TreatmentScreen(self.board, self.simulated, microneedling=session.microneedling)
        )
        for alarm in session.start_alarms():
            self._post_alarm(alarm)  # warnings, not blocks

    def _contact_settings(self, pen: Pen) -> ContactSettings | None:
        """The pen's skin-contact calibration in force, if any (else the detector learns
        its baseline online)."""
        from smpctl.calibration.contact import contact_settings

        try:
            return contact_settings(self.journal, pen.serial, self.today())
        except SmpctlError as exc:
            self.notify(f"Contact calibration not used: {exc}", severity="warning", timeout=8)
            return None

    def _connect_failed(self, message: str) -> None:
        self.status_message = f"Could not connect: {message}"
        self.board.raise_host(STOP, f"no pen: {message}", self.clock())

    def _connected(self, pen: Pen, calibration: Calibration) -> None:
        self.pen = pen
        self.calibration = calibration
        self.simulated = self.simulated or pen.simulated
        self._tele_cursor = pen.telemetry.cursor
        self._notice_cursor = pen.notices.cursor
        gauge = self.screen.query(SpeedGauge)
        for g in gauge:
            g.max_hz = pen.limits.max_speed_hz
        ident = pen.identity
        self.status_message = (
            f"{ident.model} {ident.serial} fw {ident.firmware}"
            + (" — SIMULATED" if ident.simulated else "")
            + ". Choose a zone (1…0), then a to arm."
        )

    # ------------------------------------------------------------------ loops

    def _tick_alive(self) -> None:
        """The heartbeat lease renewed from the UI's own loop: a frozen UI stops renewing."""
        if self.pen is not None:
            self.pen.alive(ALIVE_LEASE_S)

    def _refresh(self) -> None:
        pen = self.pen
        self.refreshes += 1
        screen = self.screen
        if pen is not None:
            read = pen.telemetry.since(self._tele_cursor)
            self._tele_cursor = read.cursor
            if read.items:
                if self._t0_us is None:
                    self._t0_us = read.items[0].t_us
                for plot in screen.query(TrendPlot):
                    plot.add(read.items, self._t0_us)
            notices = pen.notices.since(self._notice_cursor)
            self._notice_cursor = notices.cursor
            for notice in notices.items:
                self._on_notice(notice)
        self._guard_dose()
        self._update_treatment()

    def _guard_dose(self) -> None:
        """The dose guard, on every screen (a dialog may be open while the needle runs):
        NEAR warns once, a ceiling on the zone being treated stops the needle."""
        session = self.session
        if session is None:
            return
        session.reload()  # only when the recorder said a pass opened or closed
        for alarm in session.dose_alarms(self.zone):
            if alarm.stops:
                self.stopper.trigger()  # the same path as the STOP key
                self.status_message = alarm.stop_status()
            self._post_alarm(alarm.host_alarm())

    def _post_alarm(self, alarm: HostAlarm) -> None:
        """Raised through the notices: the board shows it, the recorder journals the same
        event (without a pen, on the board only)."""
        pen = self.pen
        if pen is None:
            self.board.raise_host(alarm.severity, alarm.message, self.clock())
            return
        pen.post(alarm.kind, alarm.message, alarm=alarm.severity, **alarm.data)

    def _on_notice(self, notice: Notice) -> None:
        now = self.clock()
        self.board.raise_for(notice, now)
        for log in self.screen.query("#event-log").results(RichLog):
            stamp = time.strftime("%H:%M:%S", time.localtime(self.wall()))
            log.write(f"{stamp} {notice_text(notice)}")
        if isinstance(notice, LinkEvent) and notice.kind.value == "reconnected":
            self._t0_us = None
            for plot in self.screen.query(TrendPlot):
                plot.clear_trend()

    def _link_quality(self) -> tuple[str, str]:
        pen = self.pen
        if pen is None:
            return "connecting…", "bold yellow"
        if pen.state is LinkState.LOST:
            return "LOST — reconnect the pen", "bold white on red"
        now = self.clock()
        if now - self._link_text_at < 1.0:  # the statistics cost ms: once a second is plenty
            return self._link_text
        self._link_text_at = now
        st = pen.stats()
        style = "bold green" if st.seq_gaps == 0 and st.crc_errors == 0 else "bold yellow"
        self._link_text = (
            f"{st.telemetry_hz:4.0f}/s lost {st.seq_gaps} crc {st.crc_errors} "
            f"rtt {st.rtt_ms_last:.1f} ms",
            style,
        )
        return self._link_text

    def _update_treatment(self) -> None:
        screen = self.screen
        if not isinstance(screen, TreatmentScreen) or not screen.is_mounted:
            return
        try:
            self._fill_treatment(screen)
        except NoMatches:  # the screen is still being composed
            return

    def _fill_treatment(self, screen: TreatmentScreen) -> None:
        pen = self.pen
        sample = pen.latest if pen is not None else None
        running = bool(sample and sample.status & Status.MOTOR_ON)
        if sample is not None:
            screen.query_one(SpeedGauge).show(sample.speed_hz, sample.setpoint_hz, running)
        stroke = self.applied.setpoints.stroke_mm if self.applied else None
        screen.query_one(Readouts).show(sample, stroke, self._link_quality())
        profile_line = self.profile_text()
        if profile_line != self._profile_line:
            self._profile_line = profile_line
            screen.query_one("#pass-line", Static).update(profile_line)
        doses = self._show_doses(screen)
        done = {ZoneCode(z) for z in self._figures if z in ZoneCode.__members__}
        shades = {}
        for zone, view in doses.items():
            shade = dose_shade(view.check)
            if shade is not None and zone in ZoneCode.__members__:
                shades[ZoneCode(zone)] = shade
        screen.query_one(ScalpMap).show(
            self.zone, done, self.scar.value if self.scar else None, shades
        )
        screen.query_one(AlarmPanel).sync()
        zone = f"zone {self.zone.value} ({self.zone.label})" if self.zone else "no zone chosen"
        scar = f" + scar {self.scar.value}" if self.scar else ""
        clock = ""
        if self.session is not None:
            mins, secs = divmod(int(self.clock() - self._session_started), 60)
            hours, mins = divmod(mins, 60)
            form = self.session.form
            kind = " MN" if form.microneedling else ""
            clock = f"{form.client} #{form.session_number}{kind} {hours}:{mins:02d}:{secs:02d} · "
        if self.status_message == ARMED_STATUS and sample is not None:
            if sample.status & Status.ARMED:
                self._seen_armed = True
            elif self._seen_armed:  # a fault, a link drop, the watchdog
                self.status_message = DISARMED_STATUS
        status = self.status_message
        if pen is not None and pen.state is LinkState.LOST:
            status = (
                "LINK LOST — the pen stops by itself and the pass is closed as interrupted. "
                "Reconnect the pen."
            )
        line = f"{clock}{zone}{scar} · {status}{self.sync_text()}"
        if line != self._session_line:
            self._session_line = line
            screen.query_one("#session-line", Static).update(line)

    def _refresh_figures(self) -> None:
        """Once a second, whatever the recorder reported: flags and notes change the
        figures too, and a record written by another path is picked up."""
        session = self.session
        if session is not None:
            session.meter.mark_stale()

    def _show_doses(self, screen: TreatmentScreen) -> dict[str, ZoneDoseView]:
        """The zone table (cells redrawn only when they change); returns the dose views
        for the scalp map."""
        session = self.session
        table = screen.query_one(ZoneTable)
        if session is None:
            return {}
        self._figures = figures = session.reload()
        doses = session.meter.per_cm2()
        previous = session.previous_figures
        views: dict[str, ZoneDoseView] = {}
        rows: dict[str, dict[str, Cell]] = {}
        for zone in ZoneCode:
            z = zone.value
            now, last, history = figures.get(z), previous.get(z), session.history.get(z)
            per_cm2 = doses.get(z)
            treated_before = history is not None and history.sessions > 0
            if now is None and last is None and per_cm2 is None and not treated_before:
                continue
            view = session.dose_view(z, per_cm2 or 0.0)
            views[z] = view
            rows[z] = {
                **figure_cells(z, now, last),
                **dose_cells(view, overridden=session.guard.overrides.get(z) is not None),
            }
            point = session.end_points.get(z)
            rows[z]["end_point"] = point.short if point is not None else "—"
        at = self.clock()
        if tuple(rows) != self._table_zones or at - self._table_shown_at >= TABLE_EVERY_S:
            # the numbers change with every sample during a pass; redrawing the table
            # twice a second reads as live and keeps its render caches from churning
            table.show(rows)
            self._table_zones = tuple(rows)
            self._table_shown_at = at
        return views

    def _redraw_plot(self) -> None:
        for plot in self.screen.query(TrendPlot):
            plot.redraw()

    # ------------------------------------------------------------------ safety

    def action_stop(self) -> None:
        """STOP: the motor first, then disarm, so the needle runs again only after a re-arm."""
        self.status_message = "STOPPED. Press a to re-arm."
        if not self.stopper.triggered_within(INPUT_STOP_WINDOW_S):
            self.stopper.trigger()  # no input thread (tests), or the button was clicked
        # Space is STOP on every screen, text fields included (safety first); the space
        # still reaches the field so names and notes can be typed.
        focused = self.focused
        if isinstance(focused, Input):
            focused.insert_text_at_cursor(" ")

    def _stop_failed(self, message: str) -> None:
        """From the stop thread: raise the alarm on the UI loop."""
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.call_from_thread(self.board.raise_host, STOP, message, self.clock())

    def get_driver_class(self) -> type[Driver]:
        """The terminal driver, with STOP sent from its input thread (see stop_first)."""
        return self.stop_first(super().get_driver_class())

    def stop_first(self, base: type[Driver]) -> type[Driver]:
        """``base`` with STOP triggered from the driver's input thread the moment a space
        arrives (see StopSender): a busy or frozen UI loop cannot delay it. The key then
        goes on through Textual's bindings as usual (the UI shows STOPPED)."""
        app = self  # App.__init__ asks for the class before our __init__ made the stopper

        class StopFirstDriver(base):  # type: ignore[valid-type,misc]
            def process_message(self, message: Message) -> None:
                if isinstance(message, events.Key) and message.key == "space":
                    stopper: StopSender | None = getattr(app, "stopper", None)
                    if stopper is not None:
                        stopper.trigger(write_now=True)
                super().process_message(message)

        return StopFirstDriver

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "stop-button":
            self.action_stop()

    def action_arm(self) -> None:
        pen = self.pen
        if pen is None:
            self.notify("No pen connected.", severity="error")
            return
        problems = self.interlock_problems()
        if problems:
            self.notify("Cannot arm: " + "; ".join(problems), severity="error", timeout=6)
            return
        self._arm_pen()

    def interlock_problems(self) -> list[str]:
        """What still stops the needle from running (shared/domain.md, "Interlocks")."""
        if self.session is None:
            return ["start a session first (client, cartridge, consent)"]
        problems = self.session.interlock_problems(self.zone)
        if self.calibration is not None and self.pen is not None:
            problem = self.calibration.problem(self.today(), simulated=self.pen.simulated)
            if problem and self.calibration_override is None:
                problems.append(problem + " (o overrides, with a reason that is recorded)")
        if self.profile is not None and self.zone is not None:
            a = self.applied
            if self._applying:
                problems.append("the profile is still being applied")
            elif a is None or (a.resolved.zone, a.resolved.scar) != (self.zone, self.scar):
                problems.append(f"the profile for {self.zone.value} is not applied (see alarms)")
        return problems

    @work(thread=True, group="arm")
    def _arm_pen(self) -> None:
        pen = self.pen
        assert pen is not None
        self.stopper.wait_idle(1.0)
        try:
            pen.arm()
            pen.run()
        except SmpctlError as exc:
            self.call_from_thread(self.notify, f"Arm refused: {exc}", severity="error", timeout=8)
            return
        self.call_from_thread(self._now_armed)

    def _now_armed(self) -> None:
        """The pen acknowledged arming; its telemetry says so a frame or more later, so a
        disarm is only believed once a sample has shown it armed."""
        self.status_message = ARMED_STATUS
        self._seen_armed = False

    def _pedal_is_down(self) -> bool:
        pen = self.pen
        return bool(pen and pen.latest and pen.latest.pedal_down)

    def action_zone(self, code: str) -> None:
        zone = ZoneCode(code)
        if self._pedal_is_down():
            current = self.zone.value if self.zone else "—"
            self.notify(
                f"Release the pedal before changing zone (still on {current}).",
                severity="error",
            )
            return
        if self.session is None:
            self.notify("Start a session first.", severity="warning")
            return
        self.zone = zone
        self.session.set_zone(zone, self.scar)
        refusal = self.session.dose_refusal(zone)
        self.status_message = (
            f"Zone {zone.value}. Press a to arm." if refusal is None else f"{refusal}."
        )
        self._apply_profile()

    def on_zone_cell_chosen(self, message: ZoneCell.Chosen) -> None:
        self.action_zone(message.zone.value)

    def action_scar(self) -> None:
        if self._pedal_is_down():
            self.notify("Release the pedal before changing the scar overlay.", severity="error")
            return
        i = SCAR_CYCLE.index(self.scar)
        self.scar = SCAR_CYCLE[(i + 1) % len(SCAR_CYCLE)]
        if self.session is not None and self.zone is not None:
            self.session.set_zone(self.zone, self.scar)
            self._apply_profile()

    def _apply_profile(self) -> None:
        """Resolve the profile for the zone, session, skin and scar and apply it, all or
        nothing. The pen is stopped while it changes (the apply sends STOP first)."""
        if self.profile is None or self.session is None or self.zone is None or not self.pen:
            return
        self._applying = True
        self._apply_worker(self.profile, self.zone, self.scar)

    @work(thread=True, exclusive=True, group="apply")
    def _apply_worker(self, profile: LoadedProfile, zone: ZoneCode, scar: ScarKind | None) -> None:
        pen = self.pen
        session = self.session
        if pen is None or session is None:
            return
        try:
            limits = limits_for(
                profile, clinic=self.clinic, pen=pen.identity.limits, pen_name=f"pen {pen.serial}"
            )
            resolved = resolve(
                profile,
                zone,
                session.form.session_number,
                skin=session.form.skin,
                scar=scar,
                limits=limits,
            )
            previous = self.applied.setpoints if self.applied is not None else None
            applied = apply_setpoints(pen, resolved, clinic=self.clinic, previous=previous)
        except SmpctlError as exc:
            self.call_from_thread(self._apply_failed, zone, str(exc))
            return
        self.call_from_thread(self._apply_done, applied)

    def _apply_done(self, applied: AppliedProfile) -> None:
        self._applying = False
        self.applied = applied
        r = applied.resolved
        if self.session is not None and r.zone == self.zone:
            # the zone's expected cartridges come with its resolved setpoints
            warning = self.session.cartridge_alarm(r.zone, r.cartridges)
            if warning is not None:
                self._post_alarm(warning)  # not a block: there may be a reason
        if (r.zone, r.scar) == (self.zone, self.scar):
            refusal = self.session.dose_refusal(r.zone) if self.session is not None else None
            self.status_message = (
                f"{r.zone.value}: profile applied. Press a to arm."
                if refusal is None
                else f"{r.zone.value}: {refusal}."
            )

    def _apply_failed(self, zone: ZoneCode, message: str) -> None:
        self._applying = False
        self.applied = None
        self.board.raise_host(
            STOP, f"profile for {zone.value} not applied: {message}", self.clock()
        )
        self.status_message = "Profile NOT applied: the needle cannot run (see alarms)."

    def profile_text(self) -> str:
        a = self.applied
        if self.profile is None:
            return "no profile: setpoints as the pen has them"
        if a is None:
            return f"profile {self.profile.name}: not applied yet"
        r = a.resolved
        mode = r.run_mode if isinstance(r.run_mode, str) else str(r.run_mode)
        dose = (
            f" · target {r.dose.target_per_cm2:g}, ceiling {r.dose.ceiling_per_cm2:g} /cm²"
            if r.dose is not None
            else ""
        )
        return (
            f"{r.profile} · {r.zone.value}{' +' + r.scar.value if r.scar else ''} s{r.session} · "
            f"{r.cartridge_text} · {r.speed_hz:g} Hz · stroke {r.stroke_mm:g} · "
            f"depth {r.depth_mm:g} mm · {mode}{dose}"
        )

    def action_flag(self) -> None:
        if self.session is None:
            return
        try:
            self.session.flag()
        except SmpctlError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.notify("Pass flagged.")

    def action_review(self) -> None:
        """Past sessions, from the start screen only (not while a session runs)."""
        if not isinstance(self.screen, SessionStartScreen):
            self.notify("Review is on the start screen: end the session first.", severity="warning")
            return
        self.push_screen(ReviewScreen(self.journal, clock=self.clock))

    def action_hair_measurement(self) -> None:
        """F4: a hair measurement for the client named in the start form. From the start
        screen only: during a session the journal is busy recording the pen."""
        screen = self.screen
        if self.session is not None or not isinstance(screen, SessionStartScreen):
            first = "end the session" if self.session is not None else "close this screen (esc)"
            self.notify(
                f"Hair measurements are entered on the start screen: {first} first.",
                severity="warning",
            )
            return
        pseudonym = screen.form().client.strip()
        if not pseudonym:
            self.notify(
                "Enter the client's pseudonym in the form first: the measurement is recorded "
                "for that client.",
                severity="error",
                timeout=8,
            )
            return
        try:
            client = client_for_record(self.journal, pseudonym)
        except SmpctlError as exc:
            self.notify(f"No hair measurement: {exc}", severity="error", timeout=10)
            return

        def save(form: MeasurementForm) -> HairMeasurement:
            # the dashboard's own journal: it is the writer, a second one would be refused
            return record_measurement(self.journal, client, form, today=self.today())

        self.push_screen(
            HairMeasurementScreen(client.pseudonym, save, today=self.today()),
            lambda recorded: self._measurement_saved(client.pseudonym, recorded),
        )

    def _measurement_saved(self, pseudonym: str, recorded: HairMeasurement | None) -> None:
        if recorded is None:
            return
        self.notify(
            f"Hair measurement recorded for {pseudonym}: {recorded.zone} "
            f"{recorded.day.isoformat()}, {figures_text(recorded)}."
        )
        screen = self.screen
        if isinstance(screen, SessionStartScreen):
            screen.show_history()

    def action_override_calibration(self) -> None:
        pen = self.pen
        cal = self.calibration
        if pen is None or cal is None or cal.problem(self.today(), simulated=pen.simulated) is None:
            self.notify("The pen's calibration is in force: nothing to override.")
            return
        self.push_screen(
            NoteScreen(
                "Override the pen's calibration for this session — why?",
                "e.g. calibration booked for Friday; speed checked by tachometer today",
            ),
            self._save_override,
        )

    def _save_override(self, reason: str | None) -> None:
        pen = self.pen
        if reason is None or pen is None or self.calibration is None:
            return
        self.calibration_override = reason
        # recorded in the journal through the notice stream (the recorder keeps host events)
        pen.post(
            "calibration_override",
            f"calibration overridden: {reason}",
            reason=reason,
            calibration=self.calibration.describe(),
            serial=pen.serial,
        )
        self.notify("Calibration override recorded in the journal.", severity="warning")

    def action_override_dose(self) -> None:
        """`d`: go on past the chosen zone's dose ceiling this session, with a reason that
        is recorded. The hard maximum is never overridden."""
        session, zone = self.session, self.zone
        if session is None or zone is None:
            self.notify("Choose the zone at its ceiling first.", severity="warning")
            return
        per_cm2 = session.meter.per_cm2().get(zone.value, 0.0)
        stop = session.guard.overridable(zone.value, per_cm2)
        if stop is None:
            refusal = session.guard.refusal(zone.value, per_cm2)
            self.notify(
                refusal or f"{zone.value} is not at its ceiling: nothing to override.",
                severity="error" if refusal else "information",
                timeout=8,
            )
            return
        self.push_screen(
            NoteScreen(
                f"Go past {zone.value}'s ceiling of {stop.limit_per_cm2:g} {UNIT} this "
                "session — why?",
                "e.g. scar tissue took little pigment; client consulted and agrees",
            ),
            lambda reason: self._save_dose_override(zone, reason),
        )

    def _save_dose_override(self, zone: ZoneCode, reason: str | None) -> None:
        session, pen = self.session, self.pen
        if reason is None or session is None or pen is None:
            return
        per_cm2 = session.meter.per_cm2().get(zone.value, 0.0)
        stop = session.guard.overridable(zone.value, per_cm2)
        if stop is None:
            return
        session.guard.override(zone.value, reason)
        # recorded in the journal through the notice stream (the recorder keeps host events)
        pen.post(
            "dose_override",
            f"dose ceiling on {zone.value} overridden at {per_cm2:.0f} {UNIT}: {reason}",
            zone=zone.value,
            reason=reason,
            per_cm2=round(per_cm2, 3),
            ceiling=stop.limit_per_cm2,
            hard_max=session.guard.hard_max_per_cm2,
        )
        self.status_message = (
            f"{zone.value}: ceiling overridden (recorded). Press a to re-arm; the hard maximum "
            f"of {session.guard.hard_max_per_cm2:g} {UNIT} still stops it."
        )
        self.notify("Ceiling override recorded in the journal.", severity="warning")

    def action_end_point(self) -> None:
        """`x` (microneedling): the end point reached on the chosen zone, cycling none →
        erythema → pinpoint bleeding."""
        session, zone = self.session, self.zone
        if session is None or zone is None:
            self.notify("Choose a zone first.", severity="warning")
            return
        if not session.microneedling:
            self.notify("End points are recorded in microneedling sessions.", severity="warning")
            return
        try:
            point = session.next_end_point(zone)
        except SmpctlError as exc:
            self.notify(str(exc), severity="error")
            return
        self.status_message = f"{zone.value}: end point {point.words} recorded (x changes it)."

    def action_note(self) -> None:
        if self.session is None:
            return
        self.push_screen(NoteScreen(), self._save_note)

    def _save_note(self, note: str | None) -> None:
        session = self.session
        if note is None or session is None:
            return
        try:
            session.journal.flag_pass(note=note)
        except SmpctlError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.notify("Note saved on the pass.")

    def action_end_session(self) -> None:
        session = self.session
        if session is None:
            return
        if self._pedal_is_down():
            self.notify("Release the pedal before ending the session.", severity="error")
            return
        self.action_stop()
        self.session = None
        summary = session.end()
        form = session.form
        title = f"client {form.client}, {KIND_NAMES[form.kind]} session {form.session_number}"
        self._next_form = SessionForm(
            practitioner=form.practitioner,
            kind=form.kind,
            profile=form.profile,
            needle=DEFAULT_NEEDLES[form.kind],
        )
        self.push_screen(
            EndSessionScreen(title, summary, microneedling=session.microneedling), self._after_end
        )

    def _after_end(self, _result: None) -> None:
        self.zone = None
        self.scar = None
        self.switch_screen(self._start_screen(self._next_form))

    def action_acknowledge(self) -> None:
        n = self.board.acknowledge_all()
        if n:
            self.notify(f"{n} alarm(s) acknowledged.")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_pen_info(self) -> None:
        self.push_screen(PenInfoScreen(pen_text(self.pen, self.calibration)))

    # ------------------------------------------------------------------ simulator

    def _sim(self, action: SimAction, value: int = 0) -> None:
        pen = self.pen
        if pen is None or not pen.simulated:
            self.notify("Simulator keys work only on the simulated pen.", severity="warning")
            return
        self._sim_worker(action, value)

    @work(thread=True, group="sim")
    def _sim_worker(self, action: SimAction, value: int) -> None:
        pen = self.pen
        assert pen is not None
        try:
            pen.sim(action, value)
        except SmpctlError as exc:
            self.call_from_thread(self.notify, f"Simulator: {exc}", severity="error")

    def action_pedal(self) -> None:
        """Press or release the simulated pedal: the opposite of what the pen reports, or of
        the last press if the pen cannot have shown it yet (a PEDAL_UP of the pass before,
        read a refresh late, must not turn the next release into a press)."""
        now = self.clock()
        if now - self._pedal_sent_at > PEDAL_ECHO_S:
            self._pedal_sim = self._pedal_is_down()
        self._pedal_sim = not self._pedal_sim
        self._pedal_sent_at = now
        self._sim(SimAction.PEDAL, int(self._pedal_sim))

    def action_sim_fault(self, which: str) -> None:
        if which == "link":
            self._sim(SimAction.LINK_DROP_MS, 1500)
            return
        fault = {
            "stall": SimFault.STALL,
            "overheat": SimFault.OVERHEAT,
            "overcurrent": SimFault.OVERCURRENT,
        }[which]
        self._sim(SimAction.INJECT_FAULT, int(fault))

    # ------------------------------------------------------------------ quit

    async def action_quit_safely(self) -> None:
        session = self.session
        if session is not None:
            self.session = None
            session.end()
        pen = self.pen
        if pen is not None:
            self.pen = None
            await self._close_pen(pen)
        self.exit()

    async def _close_pen(self, pen: Pen) -> None:
        import asyncio

        await asyncio.to_thread(pen.close)

    def on_unmount(self) -> None:
        self.stopper.close()
        session = self.session
        if session is not None:
            self.session = None
            session.end()
        pen = self.pen
        if pen is not None:
            self.pen = None
            pen.close()
