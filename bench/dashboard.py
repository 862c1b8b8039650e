#!/usr/bin/env python3
"""Dashboard benchmark: the Textual dashboard against a simulated pen streaming 1000
telemetry samples/s, with a session open, zone FRN chosen and the needle armed, so that the
simulator's automatic pedal makes passes that the journal records.

    python bench/dashboard.py [--presses 120] [--steady-s 40] [--soak-min 30]

How it runs
- The dashboard runs in this process exactly as ``smpctl dashboard`` builds it, with a
  driver that renders every screen update to terminal escape sequences and writes them to
  /dev/null (Textual's headless driver skips that rendering, which would flatter the loop
  figures). Keys enter where a terminal's input thread delivers them: a separate thread
  calls the driver's ``process_message`` with the parsed ``Key`` event, so they go through
  Textual's own message queue and (priority) binding dispatch.
- Live part (real time): the simulated pen runs in its own process (``smpctl sim --tcp 0
  --baud 921600 --pedal auto --hand auto``), as a pen is a separate device; an in-process
  simulator would take the interpreter lock from the UI and measure the simulator, not the
  dashboard. The client, its reader thread, the journal's recorder and the UI all run here.

  - ``loop_lag_p99_ms``: a task on the UI's event loop sleeps 10 ms over and over and
    records how late it wakes; p99 over the steady window and the STOP presses together.
  - ``stop_key_to_wire_p99_ms``: from the moment the space ``Key`` event is handed to the
    driver to the moment the client's ``link.write`` of the STOP frame (type byte 0x13 at
    index 3) returns; the live link's ``write`` is wrapped to timestamp it. The
    ``stop_key_to_action``, ``stop_action_to_worker`` and ``stop_worker_to_wire`` figures
    split it at ``Dashboard.action_stop`` and ``Pen.stop`` (both wrapped on the instance).
    Each press is preceded by a re-arm through the ``a`` key (confirmed in telemetry) and a
    random 0-100 ms wait, so presses land at every phase of the refresh timers, with the
    needle running or not as the automatic pedal has it.
  - ``screen_updates_s``: the dashboard's own 10 Hz refresh ticks (``app.refreshes``) per
    second on the treatment screen; ``screen_writes_s`` counts the screen updates the
    compositor actually rendered and wrote to the (null) terminal.
- Soak part (accelerated), in a child process so the allocator holds nothing from the live
  part: an in-process simulated pen on virtual time (``realtime=0``), whose clock is injected
  into the client (``connect_with(..., clock=virtual)``). Virtual time moves with the
  client's reads, held to ``--soak-speedup`` (default 9) times real time: unpaced (about
  x23 here) the reader thread starves the recorder of the interpreter lock and the journal
  drops most samples, which would measure less work, not the same work faster. Pen
  physics, the 1000 Hz telemetry, the automatic pedal's passes, the pen's watchdog, the
  client's heartbeat schedule and link statistics all run on the pen's time, and
  ``--soak-min`` virtual minutes of samples flow through the client's ring, the recorder
  (every pass and its samples written to the journal on disk; samples it missed are
  counted), the alarm board, event log, plot and tables. What is NOT accelerated: the UI's
  timers (10 Hz refresh, 5 Hz plot, 1 Hz tables) and the recorder's commit cadence run on
  real time, so each refresh handles proportionally more samples but there are fewer
  refreshes than in a real 30 minutes. Because the UI renews the heartbeat lease in real
  seconds while the pen counts virtual ones, the lease the UI asks for is stretched by
  ``LEASE_STRETCH`` in the soak only (the live part keeps the dashboard's own lease). The
  needle is re-armed with the pedal up if anything disarmed it, and the zone moves on
  every five virtual minutes.
  ``rss_growth_mb`` is resident memory (/proc/self/statm) at the end minus after a warm-up
  of ``--soak-warmup-min`` virtual minutes; the soak stops early at ``--soak-cap-s`` real
  seconds and then says how many virtual minutes it covered.

Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.drivers.headless_driver import HeadlessDriver

from smpctl.client import Pen, connect, connect_with
from smpctl.journal import Journal
from smpctl.link import Link, open_link
from smpctl.protocol import MsgType, Status
from smpctl.tui.app import Dashboard
from smpctl.tui.screens.treatment import TreatmentScreen
from smpctl.tui.session_flow import SessionForm
from smpctl.zones import ZoneCode

SIZE = (160, 48)
TELEMETRY_HZ = 1000
BAUD = 921600
PROBE_S = 0.010
LEASE_STRETCH = 600.0
"""Soak only: virtual seconds of heartbeat lease per real second the UI asks for."""
STOP_TYPE = int(MsgType.STOP)
ARMED = int(Status.ARMED | Status.RUN_ENABLED)
FORM = SessionForm(
    client="BENCH-01",
    session_number=1,
    practitioner="bench",
    cartridge_lot="LOT-B1",
    cartridge_expiry="2099-12-31",
    pigment_shade="SMP Dark 2",
    pigment_dilution="1:3",
    pigment_lot="PG-B1",
    consent=True,
)
SOAK_ZONES = (ZoneCode.FRN, ZoneCode.MID, ZoneCode.CRN, ZoneCode.HL, ZoneCode.TMP_L)


# ---------------------------------------------------------------------- measuring tools


class NullTerminal(HeadlessDriver):
    """A terminal that is /dev/null: the app renders and writes every update as it would
    to a real one (the headless driver skips both)."""

    updates = 0
    bytes_written = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fd = os.open(os.devnull, os.O_WRONLY)

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        raw = data.encode("utf-8")
        NullTerminal.bytes_written += len(raw)
        os.write(self._fd, raw)

    def flush(self) -> None:
        NullTerminal.updates += 1  # _display flushes once per update it wrote

    def stop_application_mode(self) -> None:
        super().stop_application_mode()
        with contextlib.suppress(OSError):
            os.close(self._fd)


class Stamps:
    """perf_counter() instants of one kind of moment, written from any thread."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.cond = threading.Condition()

    def mark(self) -> None:
        with self.cond:
            self.times.append(time.perf_counter())
            self.cond.notify_all()

    def first_after(self, t0: float, timeout: float = 0.0) -> float | None:
        with self.cond:
            self.cond.wait_for(lambda: any(t >= t0 for t in self.times), timeout)
            return next((t for t in self.times if t >= t0), None)


class StopTrace:
    """Where a STOP press spends its time: key handed over -> ``action_stop`` entered ->
    ``Pen.stop`` entered (the worker thread runs) -> STOP frame written on the link."""

    def __init__(self) -> None:
        self.action = Stamps()
        self.pen_stop = Stamps()
        self.wire = Stamps()

    def attach_app(self, app: Dashboard) -> None:
        action_stop = app.action_stop

        def traced() -> None:
            self.action.mark()
            action_stop()

        app.action_stop = traced  # type: ignore[method-assign]

    def attach_pen(self, pen: Pen) -> None:
        link = pen.link
        assert link is not None
        write = link.write

        def traced_write(data: bytes) -> None:
            write(data)
            if len(data) > 3 and data[3] == STOP_TYPE:
                self.wire.mark()

        link.write = traced_write  # type: ignore[method-assign]
        stop = pen.stop

        def traced_stop() -> None:
            self.pen_stop.mark()
            stop()

        pen.stop = traced_stop  # type: ignore[method-assign]


def lag_probe(lags: list[float], running: Callable[[], bool]) -> Any:
    async def probe() -> None:
        while running():
            t = time.perf_counter()
            await asyncio.sleep(PROBE_S)
            lags.append(time.perf_counter() - t - PROBE_S)

    return probe()


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


async def wait_for(pred: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise SystemExit(f"bench: timed out waiting for {what}")
        await asyncio.sleep(0.02)


def status_of(app: Dashboard) -> int:
    pen = app.pen
    return pen.latest.status if pen is not None and pen.latest is not None else 0


async def open_session(app: Dashboard, pilot: Any) -> None:
    """Start the session from the filled form, choose FRN, arm."""
    await wait_for(lambda: app.pen is not None and app.pen.latest is not None, 20, "the pen")
    await pilot.click("#start-button")
    await wait_for(lambda: isinstance(app.screen, TreatmentScreen), 10, "the treatment screen")
    await wait_for(lambda: not pedal_down(app), 15, "the pedal to come up")
    app.action_zone("FRN")
    app.action_arm()
    await wait_for(lambda: status_of(app) & ARMED == ARMED, 10, "the pen to arm")


def pedal_down(app: Dashboard) -> bool:
    return bool(status_of(app) & Status.PEDAL_DOWN)


def make_app(connect_pen: Callable[[], Pen], journal: Journal) -> Dashboard:
    app = Dashboard(connect_pen, journal=journal, simulated=True, initial_form=FORM)
    # the dashboard's own input-thread STOP, on a terminal that is /dev/null
    app.driver_class = app.stop_first(NullTerminal)
    return app


# ---------------------------------------------------------------------- live part


def press(app: Dashboard, key: str, character: str | None) -> None:
    """A key as the terminal's input thread hands it over (call from a thread)."""
    driver = app._driver
    assert driver is not None
    driver.process_message(events.Key(key, character))


def stop_presses(app: Dashboard, trace: StopTrace, n: int, out: dict[str, Any]) -> None:
    """The presser thread: re-arm with ``a``, wait, press space, time the STOP frame."""
    rng = random.Random(7)
    latencies: list[float] = []
    parts: list[tuple[float, float, float]] = []
    running_at_press = 0
    arm_timeouts = 0
    stop_timeouts = 0

    def armed() -> bool:
        return status_of(app) & ARMED == ARMED

    def wait(pred: Callable[[], bool], timeout: float) -> bool:
        end = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > end:
                return False
            time.sleep(0.002)
        return True

    for _ in range(n):
        if not armed():
            press(app, "a", "a")
            if not wait(armed, 3.0):
                arm_timeouts += 1  # a stop fault can refuse it: the next round retries
                continue
        time.sleep(rng.uniform(0.0, 0.1))
        running_at_press += bool(status_of(app) & Status.MOTOR_ON)
        t0 = time.perf_counter()
        press(app, "space", " ")
        t1 = trace.wire.first_after(t0, 2.0)
        if t1 is None:
            stop_timeouts += 1
            continue
        latencies.append(t1 - t0)
        ta = trace.action.first_after(t0)
        tw = trace.pen_stop.first_after(t0)
        if ta is not None and tw is not None:
            parts.append((ta - t0, tw - ta, t1 - tw))
        wait(lambda: not armed(), 2.0)
    out.update(
        latencies=latencies,
        parts=parts,
        running_at_press=running_at_press,
        arm_timeouts=arm_timeouts,
        stop_timeouts=stop_timeouts,
    )


async def live(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    sim = subprocess.Popen(
        [
            *(sys.executable, "-m", "smpctl", "sim", "--tcp", "0"),
            *("--baud", str(BAUD), "--pedal", "auto", "--hand", "auto", "--seed", "3"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert sim.stdout is not None
        url = sim.stdout.readline().strip()
        trace = StopTrace()

        def connect_pen() -> Pen:
            pen = connect(url)
            pen.set_telemetry_rate(TELEMETRY_HZ)
            trace.attach_pen(pen)
            return pen

        with Journal.open(workdir / "live.sqlite3") as journal:
            app = make_app(connect_pen, journal)
            trace.attach_app(app)
            async with app.run_test(headless=False, size=SIZE) as pilot:
                await open_session(app, pilot)
                await asyncio.sleep(args.warmup_s)
                lags: list[float] = []
                probing = True
                probe = asyncio.ensure_future(lag_probe(lags, lambda: probing))
                assert app.pen is not None
                samples0 = app.pen.stats().samples
                r0, u0, t0 = app.refreshes, NullTerminal.updates, time.perf_counter()
                await asyncio.sleep(args.steady_s)
                r1, u1, t1 = app.refreshes, NullTerminal.updates, time.perf_counter()
                samples1 = app.pen.stats().samples
                steady_lags = list(lags)
                presses: dict[str, Any] = {}
                presser = threading.Thread(
                    target=stop_presses, args=(app, trace, args.presses, presses), daemon=True
                )
                tp = time.perf_counter()
                presser.start()
                while presser.is_alive():
                    await asyncio.sleep(0.05)
                press_s = time.perf_counter() - tp
                probing = False
                await probe
                stats = app.pen.stats()
                passes = len(journal.passes())
                await app.action_quit_safely()
    finally:
        sim.send_signal(signal.SIGINT)
        try:
            sim.wait(timeout=5)
        except subprocess.TimeoutExpired:
            sim.kill()
    elapsed = t1 - t0
    lat_ms = [x * 1000 for x in presses["latencies"]]
    parts = presses["parts"]

    def part(i: int, q: float) -> float:
        return round(pct([p[i] * 1000 for p in parts], q), 2)

    return {
        "steady_s": round(elapsed, 1),
        "telemetry_hz": round((samples1 - samples0) / elapsed, 1),
        "seq_gaps": stats.seq_gaps,
        "loop_lag_p99_ms": round(pct(lags, 99) * 1000, 2),
        "loop_lag_p50_ms": round(pct(lags, 50) * 1000, 2),
        "loop_lag_max_ms": round(max(lags) * 1000, 2),
        "loop_lag_steady_p99_ms": round(pct(steady_lags, 99) * 1000, 2),
        "lag_probes": len(lags),
        "screen_updates_s": round((r1 - r0) / elapsed, 1),
        "screen_writes_s": round((u1 - u0) / elapsed, 2),
        "stop_presses": len(lat_ms),
        "stop_presses_while_running": presses["running_at_press"],
        "stop_frames_missing": presses["stop_timeouts"],
        "rearm_timeouts": presses["arm_timeouts"],
        "press_window_s": round(press_s, 1),
        "stop_key_to_wire_p50_ms": round(pct(lat_ms, 50), 2),
        "stop_key_to_wire_p99_ms": round(pct(lat_ms, 99), 2),
        "stop_key_to_wire_max_ms": round(max(lat_ms), 2) if lat_ms else None,
        "stop_key_to_action_p50_ms": part(0, 50),
        "stop_key_to_action_p99_ms": part(0, 99),
        "stop_action_to_worker_p50_ms": part(1, 50),
        "stop_action_to_worker_p99_ms": part(1, 99),
        "stop_worker_to_wire_p50_ms": part(2, 50),
        "stop_worker_to_wire_p99_ms": part(2, 99),
        "live_passes": passes,
    }


# ---------------------------------------------------------------------- soak part


class Pace:
    """Holds virtual time to ``speedup`` times real time. Unpaced, the client's reader
    thread (which moves the virtual pen's clock with every read) takes the interpreter lock
    from the recorder and the UI, and the soak would measure samples dropped, not kept."""

    def __init__(self, virtual: Callable[[], float], speedup: float) -> None:
        self._virtual = virtual
        self._speedup = speedup
        self._origin: tuple[float, float] | None = None

    def start(self) -> None:
        self._origin = (time.perf_counter(), self._virtual())

    def hold(self) -> None:
        if self._origin is None:
            return
        real0, virt0 = self._origin
        ahead = (self._virtual() - virt0) / self._speedup - (time.perf_counter() - real0)
        if ahead > 0:
            time.sleep(ahead)


async def soak_child(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import smpctl.sim as sim
    from smpctl.sim import parse_sim_url

    name = f"benchsoak{os.getpid()}"
    url = f"sim://{name}?baud={BAUD}&hand=auto&pedal=auto&realtime=0&seed=5"
    slot = sim.BUS.power_on(name, parse_sim_url(url).options, realtime=False)
    clock = slot.virtual_clock
    assert clock is not None

    pace = Pace(clock.now, args.soak_speedup)

    def opener() -> Link:
        link = open_link(url, baudrate=BAUD)
        read = link.read

        def paced_read(max_bytes: int, timeout: float) -> bytes:
            data = read(max_bytes, timeout)
            pace.hold()
            return data

        link.read = paced_read  # type: ignore[method-assign]
        return link

    def connect_pen() -> Pen:
        pen = connect_with(opener, clock=clock.now)
        pen.set_telemetry_rate(TELEMETRY_HZ)
        own_alive = pen.alive

        def alive(lease_s: float | None = None) -> None:
            own_alive((lease_s or 1.0) * LEASE_STRETCH)

        pen.alive = alive  # type: ignore[method-assign]
        return pen

    rearms = 0
    zone_changes = 0
    trace: list[tuple[float, float]] = []
    with Journal.open(workdir / "soak.sqlite3") as journal:
        app = make_app(connect_pen, journal)
        async with app.run_test(headless=False, size=SIZE) as pilot:
            await open_session(app, pilot)
            pen = app.pen
            assert pen is not None
            real0, virt0 = time.perf_counter(), clock.now()
            pace.start()
            end_virt = virt0 + args.soak_min * 60
            warm_virt = virt0 + args.soak_warmup_min * 60
            rss0: float | None = None
            rss0_at = 0.0
            next_zone = virt0 + 5 * 60
            zone_i = 0
            while clock.now() < end_virt and time.perf_counter() - real0 < args.soak_cap_s:
                await asyncio.sleep(0.5)
                now = clock.now()
                if rss0 is None and now >= warm_virt:
                    rss0 = rss_mb()
                    rss0_at = (now - virt0) / 60
                trace.append(((now - virt0) / 60, rss_mb()))
                up = not pedal_down(app)
                if up and now >= next_zone:
                    zone_i = (zone_i + 1) % len(SOAK_ZONES)
                    app.action_zone(SOAK_ZONES[zone_i].value)
                    next_zone = now + 5 * 60
                    zone_changes += 1
                if up and status_of(app) & ARMED != ARMED:
                    app.action_arm()
                    rearms += 1
            real = time.perf_counter() - real0
            virt = clock.now() - virt0
            rss1 = rss_mb()
            session = app.session
            missed = session.recorder.missed_samples if session and session.recorder else 0
            stats = pen.stats()
            await app.action_quit_safely()
        passes = journal.passes()
    sim.BUS.power_off(name)
    assert rss0 is not None, "the soak ended before its warm-up"
    return {
        "soak_virtual_min": round(virt / 60, 1),
        "soak_real_s": round(real, 1),
        "soak_speedup": round(virt / real, 1),
        "rss_start_mb": round(rss0, 1),
        "rss_start_at_virtual_min": round(rss0_at, 1),
        "rss_end_mb": round(rss1, 1),
        "rss_growth_mb": round(rss1 - rss0, 1),
        "rss_max_mb": round(max(r for _m, r in trace), 1),
        "soak_samples": stats.samples,
        "soak_passes": len(passes),
        "soak_pass_samples": sum(p.samples or 0 for p in passes),
        "soak_recorder_missed_samples": missed,
        "soak_rearms": rearms,
        "soak_zone_changes": zone_changes,
        "soak_ui_refreshes": app.refreshes,
        "rss_trace": [(round(m, 1), round(r, 1)) for m, r in trace[:: max(1, len(trace) // 12)]],
    }


def soak(args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        *(sys.executable, __file__, "--soak-child"),
        *("--soak-min", str(args.soak_min), "--soak-cap-s", str(args.soak_cap_s)),
        *("--soak-warmup-min", str(args.soak_warmup_min)),
        *("--soak-speedup", str(args.soak_speedup)),
    ]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=args.soak_cap_s + 120, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"bench: the soak failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# ---------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=120, help="STOP presses (>= 100)")
    parser.add_argument("--steady-s", type=float, default=40.0, help="steady window, s")
    parser.add_argument("--warmup-s", type=float, default=5.0, help="live warm-up, s")
    parser.add_argument("--soak-min", type=float, default=30.0, help="virtual minutes")
    parser.add_argument("--soak-warmup-min", type=float, default=2.0, help="virtual minutes")
    parser.add_argument("--soak-speedup", type=float, default=9.0, help="virtual/real time")
    parser.add_argument("--soak-cap-s", type=float, default=300.0, help="real-time cap, s")
    parser.add_argument("--soak-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="smpctl-bench-") as tmp:
        if args.soak_child:
            print(json.dumps(asyncio.run(soak_child(args, Path(tmp)))))
            return 0
        print(
            f"dashboard bench: {SIZE[0]}x{SIZE[1]}, telemetry {TELEMETRY_HZ}/s at {BAUD} baud, "
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
            f"{dt.datetime.now():%Y-%m-%d %H:%M}",
            flush=True,
        )
        print("live: simulator in its own process, real time …", flush=True)
        figures = asyncio.run(live(args, Path(tmp)))
    print(
        f"  steady {figures['steady_s']} s at {figures['telemetry_hz']} samples/s "
        f"(lost {figures['seq_gaps']}): loop lag p50 {figures['loop_lag_p50_ms']} ms, "
        f"p99 {figures['loop_lag_p99_ms']} ms, max {figures['loop_lag_max_ms']} ms "
        f"({figures['lag_probes']} probes)"
    )
    print(
        f"  refresh ticks {figures['screen_updates_s']}/s, screen updates written "
        f"{figures['screen_writes_s']}/s; {figures['live_passes']} passes recorded"
    )
    print(
        f"  STOP key -> wire over {figures['stop_presses']} presses "
        f"({figures['stop_presses_while_running']} with the needle running, "
        f"{figures['stop_frames_missing']} without a STOP frame, "
        f"{figures['rearm_timeouts']} re-arms refused): p50 {figures['stop_key_to_wire_p50_ms']} "
        f"ms, p99 {figures['stop_key_to_wire_p99_ms']} ms, max "
        f"{figures['stop_key_to_wire_max_ms']} ms"
    )
    print(
        "    of which key -> action_stop p50/p99 "
        f"{figures['stop_key_to_action_p50_ms']}/{figures['stop_key_to_action_p99_ms']} ms, "
        "action_stop -> Pen.stop on the worker thread "
        f"{figures['stop_action_to_worker_p50_ms']}/{figures['stop_action_to_worker_p99_ms']} ms,"
        " Pen.stop -> frame written "
        f"{figures['stop_worker_to_wire_p50_ms']}/{figures['stop_worker_to_wire_p99_ms']} ms",
        flush=True,
    )
    print(
        f"soak: {args.soak_min:g} virtual minutes on an in-process virtual-time pen …", flush=True
    )
    soaked = soak(args)
    trace = soaked.pop("rss_trace")
    print(
        f"  {soaked['soak_virtual_min']} virtual min in {soaked['soak_real_s']} s "
        f"(x{soaked['soak_speedup']}): {soaked['soak_samples']} samples, "
        f"{soaked['soak_passes']} passes ({soaked['soak_pass_samples']} samples recorded, "
        f"{soaked['soak_recorder_missed_samples']} missed), {soaked['soak_rearms']} re-arms, "
        f"{soaked['soak_zone_changes']} zone changes, {soaked['soak_ui_refreshes']} UI refreshes"
    )
    print(
        f"  RSS {soaked['rss_start_mb']} MB at {soaked['rss_start_at_virtual_min']} virtual min"
        f" -> {soaked['rss_end_mb']} MB (growth {soaked['rss_growth_mb']} MB, max "
        f"{soaked['rss_max_mb']} MB); trace (virtual min, MB): {trace}"
    )
    figures.update(soaked)
    targets = {
        "loop_lag_p99_ms": figures["loop_lag_p99_ms"] <= 50,
        "stop_key_to_wire_p99_ms": figures["stop_key_to_wire_p99_ms"] <= 20,
        "rss_growth_mb": figures["rss_growth_mb"] <= 20 and figures["soak_virtual_min"] >= 30,
        "screen_updates_s": figures["screen_updates_s"] >= 10,
    }
    figures["targets_met"] = all(targets.values())
    figures["targets_missed"] = [k for k, ok in targets.items() if not ok]
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
