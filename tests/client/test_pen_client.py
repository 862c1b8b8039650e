"""The pen client against the real-time simulated pen: what a practitioner's program sees."""

from __future__ import annotations

import time

import pytest
from client_support import latest, running_pen, wait_until

import smpctl.sim as sim
from smpctl import errors
from smpctl.client import LinkEvent, LinkEventKind, LinkState, Notice, connect, connect_with
from smpctl.link import Link, open_link
from smpctl.protocol import (
    ConfigKey,
    Event,
    EventKind,
    MsgType,
    NakCode,
    SimAction,
    Status,
)


def test_connect_reports_identity_limits_and_simulated(sim_name: str) -> None:
    with connect(f"sim://{sim_name}?seed=3") as pen:
        assert pen.simulated
        assert pen.serial.startswith("SIM")
        assert pen.identity.protocol_version == "1.0"
        assert pen.limits.max_speed_hz == 150
        assert pen.limits.watchdog_ms == 250
        assert pen.identity.as_dict()["simulated"] is True


def test_every_command_is_acknowledged_with_the_applied_value(sim_name: str) -> None:
    with connect(f"sim://{sim_name}") as pen:
        assert pen.set_speed(117.5) == 117.5
        assert pen.set_stroke(3.2) == 3.2
        assert pen.set_depth(1.0) == 1.0
        pen.set_run_mode(ramp_ms=200)
        pen.arm()
        pen.run()
        pen.stop()
        pen.disarm()
        assert pen.set_telemetry_rate(300) == 300
        assert pen.set_telemetry_rate(2000) == 338  # what 115200 baud carries
        assert pen.read_config(ConfigKey.WATCHDOG_MS) == 250
        assert pen.write_config(ConfigKey.WATCHDOG_MS, 220) == 220
        assert pen.read_config(ConfigKey.WATCHDOG_MS) == 220
        pen.estop()
        assert wait_until(lambda: bool(latest(pen).status & Status.ESTOP_LATCHED), 1.0, pen)


def test_a_refusal_names_the_pens_reason(sim_name: str) -> None:
    with connect(f"sim://{sim_name}") as pen:
        with pytest.raises(errors.NotArmedError) as info:
            pen.run()
        assert info.value.code == NakCode.NOT_ARMED
        assert "arm it" in str(info.value)
        pen.arm()
        pen.estop()
        with pytest.raises(errors.EStopLatchedError, match="re-arm"):
            pen.run()
        pen.arm()
        pen.run()


def test_out_of_range_setpoint_never_reaches_the_pen(sim_name: str) -> None:
    with connect(f"sim://{sim_name}") as pen:
        before = pen.stats().rtt_ms_last
        with pytest.raises(errors.LimitViolationError, match="150 Hz"):
            pen.set_speed(151)
        with pytest.raises(errors.LimitViolationError):
            pen.set_depth(2.5)
        assert pen.stats().rtt_ms_last == before


def test_telemetry_flows_and_a_slow_consumer_learns_what_it_missed(sim_name: str) -> None:
    with connect(f"sim://{sim_name}?baud=921600", ring_capacity=200) as pen:
        pen.set_telemetry_rate(1000)
        cursor = pen.telemetry.cursor
        assert wait_until(lambda: pen.telemetry.cursor - cursor > 600, 3.0, pen)
        read = pen.telemetry.since(cursor)
        assert len(read.items) == 200
        assert read.missed == pen.telemetry.cursor - cursor - 200 or read.missed > 0
        seqs = [s.sample_seq for s in read.items]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        stats = pen.stats()
        assert stats.seq_gaps == 0
        assert 900 <= stats.telemetry_hz <= 1100


def test_corrupted_bytes_are_counted_and_the_stream_resyncs(sim_name: str) -> None:
    with connect(f"sim://{sim_name}?baud=921600") as pen:
        pen.set_telemetry_rate(500)
        wait_until(lambda: pen.stats().samples > 50, 1.0, pen)
        pen.sim(SimAction.CORRUPT_BYTES, 40)
        wait_until(lambda: pen.stats().bytes_discarded > 0, 1.0, pen)
        count = pen.stats().samples
        assert wait_until(lambda: pen.stats().samples > count + 100, 2.0, pen)
        stats = pen.stats()
        assert stats.bytes_discarded > 0  # a flipped start byte is discarded, not a CRC error
        assert stats.seq_gaps > 0  # the damaged samples are reported as lost
        pen.arm()  # and commands still work


class DroppingLink:
    """A link that loses the first copy of every command frame the host writes (heartbeats
    pass), like a noisy line: the retry rule must get every command through."""

    def __init__(self, inner: Link) -> None:
        self.inner = inner
        self.dropped = 0
        self._seen: set[bytes] = set()

    @property
    def url(self) -> str:
        return self.inner.url

    def read(self, max_bytes: int, timeout: float) -> bytes:
        return self.inner.read(max_bytes, timeout)

    def write(self, data: bytes) -> None:
        if data[3] != MsgType.HEARTBEAT and data not in self._seen:
            self._seen.add(data)
            self.dropped += 1
            return
        self.inner.write(data)

    def close(self) -> None:
        self.inner.close()


def test_lost_commands_are_retried_with_the_same_sequence(sim_name: str) -> None:
    links: list[DroppingLink] = []

    def opener() -> Link:
        links.append(DroppingLink(open_link(f"sim://{sim_name}")))
        return links[-1]

    with connect_with(opener) as pen:
        pen.arm()
        pen.set_speed(100)
        pen.run()
        pen.stop()
        assert links[0].dropped >= 5  # HELLO and the four commands each lost once
        assert pen.stats().retries >= 4


def test_pen_stops_when_the_application_stops_saying_it_is_alive(sim_name: str) -> None:
    with connect(f"sim://{sim_name}", lease_s=0.2) as pen:
        events: list[Notice] = []
        pen.subscribe(events.append)
        running_pen(pen)
        # the application freezes: no more alive() calls, so no more heartbeats
        assert wait_until(
            lambda: any(isinstance(e, Event) and e.kind == EventKind.WATCHDOG_STOP for e in events),
            1.5,
        )
        assert wait_until(lambda: not latest(pen).status & Status.MOTOR_ON, 0.5)
        assert not latest(pen).status & Status.ARMED


def test_cable_pulled_mid_run_then_replugged_comes_back_stopped(sim_name: str) -> None:
    with connect(f"sim://{sim_name}") as pen:
        notices: list[Notice] = []
        pen.subscribe(notices.append)
        running_pen(pen)
        t0 = time.monotonic()
        sim.unplug(sim_name)
        assert pen.wait_for_state(LinkState.LOST, 1.0)
        assert time.monotonic() - t0 < 0.5
        lost = [n for n in notices if isinstance(n, LinkEvent) and n.kind is LinkEventKind.LOST]
        assert lost and "stopped and disarmed" in lost[0].message
        with pytest.raises(errors.LinkLostError):
            pen.arm()
        sim.plug(sim_name)
        assert wait_until(lambda: pen.state is LinkState.CONNECTED, 2.5, pen)
        back = [
            n for n in notices if isinstance(n, LinkEvent) and n.kind is LinkEventKind.RECONNECTED
        ]
        assert back and "STOPPED and DISARMED" in back[0].message
        time.sleep(0.1)
        sample = latest(pen)
        assert not sample.status & (Status.ARMED | Status.MOTOR_ON | Status.RUN_ENABLED)
        pen.arm()  # usable again, after an explicit re-arm


def test_a_different_pen_on_the_same_port_is_refused(sim_name: str) -> None:
    with connect(f"sim://{sim_name}?serial=SIM11111") as pen:
        notices: list[Notice] = []
        pen.subscribe(notices.append)
        sim.unplug(sim_name)
        assert pen.wait_for_state(LinkState.LOST, 1.0)
        sim.replace_pen(sim_name, serial="SIM22222")
        sim.plug(sim_name)
        assert wait_until(
            lambda: any(
                isinstance(n, LinkEvent) and n.kind is LinkEventKind.WRONG_PEN for n in notices
            ),
            3.0,
            pen,
        )
        wrong = next(
            n for n in notices if isinstance(n, LinkEvent) and n.kind is LinkEventKind.WRONG_PEN
        )
        assert "SIM22222" in wrong.message and "SIM11111" in wrong.message
        assert pen.state is LinkState.LOST
        assert pen.serial == "SIM11111"


def test_unknown_port_lists_the_ports_that_exist() -> None:
    with pytest.raises(errors.PortNotFoundError, match="smpctl devices"):
        connect("/dev/ttyDOES_NOT_EXIST")


def test_a_port_already_in_use_is_reported_busy(sim_name: str) -> None:
    with connect(f"sim://{sim_name}"), pytest.raises(errors.PortBusyError, match="busy"):
        connect(f"sim://{sim_name}")


def test_bad_simulator_option_says_which_options_exist(sim_name: str) -> None:
    with pytest.raises(errors.LinkError, match="realtime"):
        connect(f"sim://{sim_name}?relatime=0")


def test_stop_now_stops_the_motor_without_waiting_for_the_ack(sim_name: str) -> None:
    with connect(f"sim://{sim_name}") as pen:
        running_pen(pen)
        started = time.monotonic()
        assert pen.stop_now()
        assert time.monotonic() - started < 0.01  # it did not wait for the reply
        assert wait_until(lambda: not latest(pen).status & Status.MOTOR_ON, 0.5, pen)
        assert latest(pen).status & Status.ARMED  # a STOP, not a disarm


def test_a_pen_that_rebooted_unseen_is_handshaken_again_and_comes_back_disarmed(
    sim_name: str,
) -> None:
    from smpctl.sim import BootCause

    with connect(f"sim://{sim_name}") as pen:
        notices: list[Notice] = []
        pen.subscribe(notices.append)
        pen.set_telemetry_rate(0)  # no telemetry: only the pen's NAK can reveal the reboot
        port = pen.link.port  # type: ignore[union-attr]
        with port.pen_lock:
            port.pen._boot(BootCause.POWER_ON)  # a brown-out: the port stays, the pen forgets
        with pytest.raises(errors.NoHandshakeError):
            pen.arm()
        assert wait_until(
            lambda: any(
                isinstance(n, LinkEvent) and n.kind is LinkEventKind.RECONNECTED for n in notices
            ),
            3.0,
            pen,
        )
        pen.arm()  # after a fresh handshake the pen takes commands again
