"""Review findings on the pen client: each test pins a defect that was found and fixed."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from client_support import latest, wait_until

import smpctl.sim as sim
from smpctl import errors
from smpctl.client import LinkEvent, LinkEventKind, LinkState, Notice, connect, connect_with
from smpctl.link import Link, open_link
from smpctl.protocol import MsgType, SimAction, Status


class WatchedLink:
    """A sim link that logs the host's command frames and can lose the first copy of one
    command type, as a noisy line would."""

    def __init__(self, inner: Link, drop_first: int | None = None) -> None:
        self.inner = inner
        self.drop_first = drop_first
        self.dropped = threading.Event()
        self.written: list[bytes] = []
        self.closed = False

    @property
    def url(self) -> str:
        return self.inner.url

    def read(self, max_bytes: int, timeout: float) -> bytes:
        return self.inner.read(max_bytes, timeout)

    def write(self, data: bytes) -> None:
        if data[3] != MsgType.HEARTBEAT:
            self.written.append(data)
        if data[3] == self.drop_first and not self.dropped.is_set():
            self.dropped.set()
            return
        self.inner.write(data)

    def close(self) -> None:
        self.closed = True
        self.inner.close()


def test_a_command_in_flight_is_not_resent_after_stop(sim_name: str) -> None:
    """RUN's first copy is lost; the practitioner presses STOP before RUN's retry. The retry
    must not reach the pen after the STOP: it would enable run again and, with the pedal
    down, restart the needle the practitioner just stopped."""
    links: list[WatchedLink] = []

    def opener() -> Link:
        links.append(WatchedLink(open_link(f"sim://{sim_name}"), drop_first=MsgType.RUN))
        return links[-1]

    with connect_with(opener) as pen:
        pen.set_speed(60)
        pen.arm()
        pen.sim(SimAction.PEDAL, 1)
        outcome: list[BaseException | None] = []

        def run() -> None:
            try:
                pen.run()
                outcome.append(None)
            except errors.SmpctlError as exc:
                outcome.append(exc)

        runner = threading.Thread(target=run)
        runner.start()
        assert links[0].dropped.wait(1.0)
        pen.stop()
        runner.join(2.0)
        assert outcome and isinstance(outcome[0], errors.PenTimeoutError)
        assert "STOP" in str(outcome[0])
        wait_until(lambda: False, 0.3, pen)
        status = Status(latest(pen).status)
        assert not status & (Status.RUN_ENABLED | Status.MOTOR_ON), status
        assert pen.state is LinkState.CONNECTED  # a superseded command is not a lost link


def test_commands_from_two_threads_travel_one_at_a_time(sim_name: str) -> None:
    """Stop-and-wait (protocol 7.5): while SET_SPEED waits for its retry, another thread's
    SET_STROKE must wait, or the pen's duplicate memory no longer covers the retry."""
    links: list[WatchedLink] = []

    def opener() -> Link:
        links.append(WatchedLink(open_link(f"sim://{sim_name}"), drop_first=MsgType.SET_SPEED))
        return links[-1]

    with connect_with(opener) as pen:
        links[0].written.clear()
        speed = threading.Thread(target=pen.set_speed, args=(80,))
        speed.start()
        assert links[0].dropped.wait(1.0)
        pen.set_stroke(3.0)
        speed.join(2.0)
        types = [frame[3] for frame in links[0].written]
        assert types == [MsgType.SET_SPEED, MsgType.SET_SPEED, MsgType.SET_STROKE], types


def test_stop_is_not_held_back_by_a_command_waiting_for_its_reply(sim_name: str) -> None:
    links: list[WatchedLink] = []

    def opener() -> Link:
        links.append(WatchedLink(open_link(f"sim://{sim_name}"), drop_first=MsgType.SET_SPEED))
        return links[-1]

    with connect_with(opener) as pen:

        def set_speed() -> None:
            with contextlib.suppress(errors.PenTimeoutError):  # superseded by the STOP
                pen.set_speed(80)

        speed = threading.Thread(target=set_speed)
        speed.start()
        assert links[0].dropped.wait(1.0)
        t0 = time.monotonic()
        pen.stop()
        assert time.monotonic() - t0 < 0.04  # not after the 50 ms retry of SET_SPEED
        speed.join(2.0)


def test_close_during_a_reconnect_closes_the_port_it_opened(sim_name: str) -> None:
    """The port opened by a reconnect that close() interrupted must not stay open: it holds
    the pen exclusively, and nobody could use the pen again until the program exits."""
    links: list[WatchedLink] = []
    reopening = threading.Event()
    closing = threading.Event()

    def opener() -> Link:
        if links:
            reopening.set()
            closing.wait(2.0)
        links.append(WatchedLink(open_link(f"sim://{sim_name}")))
        return links[-1]

    pen = connect_with(opener)
    sim.unplug(sim_name)
    sim.plug(sim_name)
    assert pen.wait_for_state(LinkState.LOST, 1.0)
    assert reopening.wait(2.0)
    closer = threading.Thread(target=pen.close)
    closer.start()
    time.sleep(0.05)
    closing.set()
    closer.join(3.0)
    assert pen.state is LinkState.CLOSED
    assert len(links) == 2 and links[1].closed
    with connect(f"sim://{sim_name}") as again:  # the port is free again
        assert again.serial == pen.serial


def test_a_slow_telemetry_rate_is_not_mistaken_for_a_lost_link(sim_name: str) -> None:
    """At 2 Hz the pen is silent 500 ms between samples: declaring the link lost would
    reconnect (HELLO disarms the pen) again and again."""
    with connect(f"sim://{sim_name}") as pen:
        notices: list[Notice] = []
        pen.subscribe(notices.append)
        pen.set_telemetry_rate(2)
        pen.arm()
        wait_until(lambda: False, 1.5, pen)
        assert pen.state is LinkState.CONNECTED
        assert not [n for n in notices if isinstance(n, LinkEvent)]
        assert latest(pen).status & Status.ARMED


def test_link_statistics_fall_to_zero_when_the_pen_goes_quiet(sim_name: str) -> None:
    with connect(f"sim://{sim_name}") as pen:
        pen.set_telemetry_rate(200)
        assert wait_until(lambda: pen.stats().telemetry_hz > 150, 1.5, pen)
        pen.set_telemetry_rate(0)
        wait_until(lambda: False, 1.3, pen)
        stats = pen.stats()
        assert stats.frames_s == 0 and stats.bytes_s == 0
        assert stats.telemetry_hz == 0 and stats.jitter_us == 0


def test_a_failing_reconnect_attempt_does_not_end_reconnection(sim_name: str) -> None:
    """An opener that fails with something other than an smpctl error (a custom transport's
    OSError, say) must count as "not back yet", not kill the reader thread silently."""
    calls: list[int] = []

    def opener() -> Link:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("transport not ready")
        return open_link(f"sim://{sim_name}")

    with connect_with(opener) as pen:
        sim.unplug(sim_name)
        assert pen.wait_for_state(LinkState.LOST, 1.0)
        sim.plug(sim_name)
        assert wait_until(lambda: pen.state is LinkState.CONNECTED, 2.5, pen)
        pen.arm()


def test_a_subscriber_that_raises_anything_does_not_stop_the_reader(sim_name: str) -> None:
    with connect(f"sim://{sim_name}") as pen:

        def bad(notice: Notice) -> None:
            raise SystemExit("subscriber bug")

        pen.subscribe(bad)
        pen.arm()  # EVENT ARMED reaches the subscriber
        cursor = pen.telemetry.cursor
        assert wait_until(lambda: pen.telemetry.cursor > cursor + 20, 1.0, pen)
        pen.disarm()


def test_a_pen_that_stops_answering_is_treated_as_lost_even_without_telemetry(
    sim_name: str,
) -> None:
    """Protocol 7.5: a command that times out means the link is lost. With telemetry off
    there is no silence to notice, so the timeout is the only sign."""
    links: list[WatchedLink] = []

    def opener() -> Link:
        links.append(WatchedLink(open_link(f"sim://{sim_name}")))
        return links[-1]

    with connect_with(opener) as pen:
        notices: list[Notice] = []
        pen.subscribe(notices.append)
        pen.set_telemetry_rate(0)
        links[0].inner = _Deaf(links[0].inner)
        with pytest.raises(errors.PenTimeoutError, match="reconnected"):
            pen.arm()
        assert pen.wait_for_state(LinkState.LOST, 0.5)
        assert any(isinstance(n, LinkEvent) and n.kind is LinkEventKind.LOST for n in notices)
        assert wait_until(lambda: pen.state is LinkState.CONNECTED, 2.5, pen)


class _Deaf:
    """A link whose host-to-pen direction has silently stopped carrying bytes."""

    def __init__(self, inner: Link) -> None:
        self.inner = inner

    @property
    def url(self) -> str:
        return self.inner.url

    def read(self, max_bytes: int, timeout: float) -> bytes:
        return self.inner.read(max_bytes, timeout)

    def write(self, data: bytes) -> None:
        return None

    def close(self) -> None:
        self.inner.close()


class _Buggy(WatchedLink):
    """A link whose read fails with something no link should raise (a bug below us)."""

    broken = False

    def read(self, max_bytes: int, timeout: float) -> bytes:
        if self.broken:
            raise RuntimeError("bug in a transport")
        return self.inner.read(max_bytes, timeout)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_reader_that_dies_says_so_instead_of_claiming_connected(sim_name: str) -> None:
    links: list[_Buggy] = []

    def opener() -> Link:
        links.append(_Buggy(open_link(f"sim://{sim_name}")))
        return links[-1]

    with connect_with(opener) as pen:
        notices: list[Notice] = []
        pen.subscribe(notices.append)
        links[0].broken = True
        assert pen.wait_for_state(LinkState.LOST, 0.5)
        lost = [n for n in notices if isinstance(n, LinkEvent)]
        assert lost and "reader failed" in lost[0].message
        assert links[0].closed  # no more heartbeats: the pen's watchdog takes over
        with pytest.raises(errors.LinkLostError):
            pen.arm()
