#!/usr/bin/env python3
"""Link benchmark: the client against the real-time simulated pen, paced at its baud rate.

Measures what issue 4 targets: line utilisation at 115200 baud, sustained telemetry at
921600 baud, stop latency (API call -> the pen's motor command at zero), the pen's watchdog
stop, link-loss detection and reconnection. Ground-truth instants come from the simulator
(never from the wire) and are put on the host's monotonic clock, which both share.

Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import smpctl.sim as sim
from smpctl.client import LinkEvent, LinkEventKind, Notice, Pen, connect, connect_with
from smpctl.link import Link, open_link
from smpctl.protocol import OVERHEAD, EventKind, MsgType, SimAction, payload_size

FRAME = OVERHEAD + payload_size(MsgType.TELEMETRY)
LINE_115200_BYTES_S = 115200 / 10  # 8N1: ten bits a byte


def sim_core(pen: Pen) -> sim.SimulatedPen:
    link = pen.link
    assert link is not None
    core: sim.SimulatedPen = link.port.pen  # type: ignore[attr-defined]
    return core


def wait_until(pred: Callable[[], bool], timeout: float, pen: Pen | None = None) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pen is not None:
            pen.alive()
        if pred():
            return True
        time.sleep(0.001)
    return pred()


def run_for(pen: Pen, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pen.alive()
        time.sleep(0.05)


def utilization_115200(duration: float) -> dict[str, float | int]:
    with connect("sim://bench115?baud=115200&seed=1") as pen:
        applied = pen.set_telemetry_rate(pen.limits.max_telemetry_hz)  # the pen caps it
        run_for(pen, 1.0)
        before = pen.stats()
        cursor = pen.telemetry.cursor
        t0 = time.monotonic()
        run_for(pen, duration)
        elapsed = time.monotonic() - t0
        after = pen.stats()
        delivered = pen.telemetry.since(cursor)
        samples = len(delivered.items) + delivered.missed
    goodput = samples * FRAME / elapsed
    return {
        "telemetry_hz_115200": applied,
        "line_utilization_115200": round(goodput / LINE_115200_BYTES_S, 4),
        "payload_utilization_115200": round(
            samples * (FRAME - OVERHEAD) / elapsed / LINE_115200_BYTES_S, 4
        ),
        "seq_gaps": after.seq_gaps - before.seq_gaps,
        "crc_errors": after.crc_errors - before.crc_errors,
        "utilization_window_s": round(elapsed, 2),
    }


def telemetry_921600(duration: float) -> dict[str, float | int]:
    with connect("sim://bench921?baud=921600&seed=2") as pen:
        applied = pen.set_telemetry_rate(2000)
        run_for(pen, 1.0)
        before = pen.stats()
        cursor = pen.telemetry.cursor
        t0 = time.monotonic()
        consumed = 0
        missed = 0
        # a consumer that reads the ring every 20 ms, as a dashboard would
        while time.monotonic() - t0 < duration:
            pen.alive()
            time.sleep(0.02)
            read = pen.telemetry.since(cursor)
            cursor = read.cursor
            consumed += len(read.items)
            missed += read.missed
        elapsed = time.monotonic() - t0
        after = pen.stats()
    return {
        "telemetry_hz_921600": round(consumed / elapsed, 1),
        "telemetry_hz_921600_asked": applied,
        "seq_gaps_921600": after.seq_gaps - before.seq_gaps,
        "consumer_missed_921600": missed,
    }


def stop_latency(tries: int) -> dict[str, float | int]:
    latencies = []
    with connect("sim://benchstop?baud=921600&seed=3&hand=air") as pen:
        pen.set_telemetry_rate(1000)
        core = sim_core(pen)
        lock = pen.link.port.pen_lock  # type: ignore[union-attr]
        pen.set_speed(110)
        pen.arm()
        pen.sim(SimAction.PEDAL, 1)
        for _ in range(tries):
            pen.run()
            assert wait_until(lambda: core.truth().motor_on, 1.0, pen)
            time.sleep(0.005)
            t_call = time.monotonic()
            pen.stop()
            with lock:
                truth = core.truth()
            assert truth.motor_stopped_at_s is not None
            latencies.append(core.clock_time(truth.motor_stopped_at_s) - t_call)
        pen.sim(SimAction.PEDAL, 0)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return {
        "stop_latency_p99_ms": round(p99 * 1000, 3),
        "stop_latency_median_ms": round(statistics.median(latencies) * 1000, 3),
        "stop_latency_max_ms": round(latencies[-1] * 1000, 3),
        "stop_tries": len(latencies),
    }


def watchdog(tries: int) -> dict[str, float | int]:
    results = []
    with connect("sim://benchwd?baud=921600&seed=4&hand=air", lease_s=0.05) as pen:
        core = sim_core(pen)
        lock = pen.link.port.pen_lock  # type: ignore[union-attr]
        events: list[Notice] = []
        pen.subscribe(events.append)
        pen.set_speed(110)
        pen.sim(SimAction.PEDAL, 1)
        for _ in range(tries):
            pen.alive()
            pen.arm()
            pen.run()
            assert wait_until(lambda: core.truth().motor_on, 1.0, pen)
            run_for(pen, 0.1)
            del events[:]
            # the application "freezes": no more alive(), so heartbeats stop by themselves
            assert wait_until(
                lambda: any(getattr(e, "kind", None) == EventKind.WATCHDOG_STOP for e in events),
                2.0,
            )
            with lock:
                truth = core.truth()
            assert truth.motor_stopped_at_s is not None and pen.last_heartbeat_at is not None
            results.append(core.clock_time(truth.motor_stopped_at_s) - pen.last_heartbeat_at)
            run_for(pen, 0.05)
        pen.sim(SimAction.PEDAL, 0)
    return {
        "watchdog_stop_ms": round(max(results) * 1000, 1),
        "watchdog_stop_min_ms": round(min(results) * 1000, 1),
        "watchdog_timeout_ms": pen.limits.watchdog_ms,
    }


def link_loss(tries: int) -> dict[str, float | int]:
    detect = []
    reconnect = []
    name = "benchloss"
    with connect(f"sim://{name}?baud=921600&seed=5") as pen:
        notices: list[Notice] = []
        pen.subscribe(notices.append)

        def seen(kind: LinkEventKind) -> LinkEvent | None:
            for n in notices:
                if isinstance(n, LinkEvent) and n.kind is kind:
                    return n
            return None

        for _ in range(tries):
            run_for(pen, 0.3)
            del notices[:]
            t0 = time.monotonic()
            sim.unplug(name)
            assert wait_until(lambda: seen(LinkEventKind.LOST) is not None, 2.0, pen)
            lost = seen(LinkEventKind.LOST)
            assert lost is not None
            detect.append(lost.host_t - t0)
            run_for(pen, 0.2)
            t1 = time.monotonic()
            sim.plug(name)
            assert wait_until(lambda: seen(LinkEventKind.RECONNECTED) is not None, 5.0, pen)
            back = seen(LinkEventKind.RECONNECTED)
            assert back is not None
            reconnect.append(back.host_t - t1)
    return {
        "link_loss_detect_ms": round(max(detect) * 1000, 1),
        "link_loss_detect_median_ms": round(statistics.median(detect) * 1000, 1),
        "reconnect_s": round(max(reconnect), 3),
        "reconnect_median_s": round(statistics.median(reconnect), 3),
    }


class SilenceableLink:
    """A link whose far end can go quiet without the port reporting an error: a UART
    cable cut, or a pen that hangs. Only the client's silence timer can notice that."""

    def __init__(self, inner: Link) -> None:
        self.inner = inner
        self.silent = False

    @property
    def url(self) -> str:
        return self.inner.url

    def read(self, max_bytes: int, timeout: float) -> bytes:
        data = self.inner.read(max_bytes, timeout)
        return b"" if self.silent else data

    def write(self, data: bytes) -> None:
        if not self.silent:
            self.inner.write(data)

    def close(self) -> None:
        self.inner.close()


def silence_detect_once(name: str) -> float:
    links: list[SilenceableLink] = []

    def opener() -> Link:
        links.append(SilenceableLink(open_link(f"sim://{name}?baud=921600")))
        return links[-1]

    with connect_with(opener, auto_reconnect=False) as pen:
        lost: list[LinkEvent] = []
        pen.subscribe(lambda n: lost.append(n) if isinstance(n, LinkEvent) else None)
        run_for(pen, 0.3)
        t0 = time.monotonic()
        links[0].silent = True
        assert wait_until(lambda: bool(lost), 2.0, pen)
        return lost[0].host_t - t0


def silent_link_loss(tries: int) -> dict[str, float | int]:
    detect = [silence_detect_once(f"benchquiet{i}") for i in range(tries)]
    return {
        "link_silence_detect_ms": round(max(detect) * 1000, 1),
        "link_silence_detect_median_ms": round(statistics.median(detect) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="utilisation window, s")
    parser.add_argument("--stop-tries", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="short run, for a smoke test")
    args = parser.parse_args()
    duration = 3.0 if args.quick else args.duration
    stop_tries = 20 if args.quick else args.stop_tries
    result: dict[str, float | int] = {}
    steps: list[tuple[str, Callable[[], dict[str, float | int]]]] = [
        ("line utilisation at 115200 baud", lambda: utilization_115200(duration)),
        ("telemetry at 921600 baud", lambda: telemetry_921600(min(duration, 10.0))),
        ("stop latency", lambda: stop_latency(stop_tries)),
        ("watchdog stop", lambda: watchdog(3 if args.quick else 10)),
        ("link loss and reconnection", lambda: link_loss(3 if args.quick else 10)),
        ("silent link loss", lambda: silent_link_loss(3 if args.quick else 10)),
    ]
    for title, step in steps:
        figures = step()
        print(f"{title}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
        result.update(figures)
    targets = {
        "line_utilization_115200": result["line_utilization_115200"] >= 0.85
        and result["seq_gaps"] == 0
        and result["crc_errors"] == 0,
        "telemetry_hz_921600": result["telemetry_hz_921600"] >= 2000
        and result["seq_gaps_921600"] == 0,
        "stop_latency_p99_ms": result["stop_latency_p99_ms"] <= 5,
        "watchdog_stop_ms": result["watchdog_stop_ms"] <= 300,
        "link_loss_detect_ms": result["link_loss_detect_ms"] <= 500
        and result["link_silence_detect_ms"] <= 500,
        "reconnect_s": result["reconnect_s"] <= 2,
    }
    result["targets_met"] = int(all(targets.values()))
    for key, ok in targets.items():
        print(f"{'met ' if ok else 'MISS'} {key}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
