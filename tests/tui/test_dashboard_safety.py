"""The dashboard's safety behaviour, driven with Textual's Pilot against the simulator."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from smpctl.client import Pen, connect
from smpctl.protocol import SimAction, Status
from smpctl.tui.app import Dashboard
from smpctl.tui.screens.help import HelpScreen
from smpctl.zones import ZoneCode


@pytest.fixture
def sim_url() -> Iterator[str]:
    """The simulated pen in its own process, on a TCP port: the test process stays idle
    enough for Pilot's waits (an in-process simulator keeps the CPU busy)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "smpctl", "sim", "--tcp", "0", "--hand", "air"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    yield url
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=5)


def make_app(url: str) -> Dashboard:
    def connect_pen() -> Pen:
        return connect(url)

    return Dashboard(connect_pen, simulated=True)


async def until(pilot: object, pred: Callable[[], bool], timeout: float = 3.0) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if pred():
            return True
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    return pred()


def status(app: Dashboard) -> int:
    assert app.pen is not None and app.pen.latest is not None
    return app.pen.latest.status


async def running(app: Dashboard, pilot: object) -> None:
    assert await until(pilot, lambda: app.pen is not None and app.pen.latest is not None)
    assert app.pen is not None
    await pilot.press("4")  # type: ignore[attr-defined]
    await pilot.press("a")  # type: ignore[attr-defined]
    assert await until(pilot, lambda: bool(status(app) & Status.RUN_ENABLED))
    app.pen.set_speed(100)
    app.pen.sim(SimAction.PEDAL, 1)
    assert await until(pilot, lambda: bool(status(app) & Status.MOTOR_ON))


async def test_arming_is_refused_until_a_zone_is_chosen(sim_url: str) -> None:
    app = make_app(sim_url)
    async with app.run_test(size=(160, 48)) as pilot:
        assert await until(pilot, lambda: app.pen is not None and app.pen.latest is not None)
        await pilot.press("a")
        await pilot.pause(0.3)
        assert not status(app) & Status.ARMED
        await pilot.press("4")
        assert app.zone is ZoneCode.FRN
        await pilot.press("a")
        assert await until(pilot, lambda: bool(status(app) & Status.ARMED))


async def test_space_stops_the_needle_even_from_the_help_dialog(sim_url: str) -> None:
    app = make_app(sim_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("space")
        assert await until(pilot, lambda: not status(app) & Status.MOTOR_ON)
        # stopped AND disarmed: the pedal alone cannot restart it
        assert await until(pilot, lambda: not status(app) & Status.ARMED)
        assert isinstance(app.screen, HelpScreen)


async def test_stop_button_stops_the_needle(sim_url: str) -> None:
    app = make_app(sim_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        await pilot.click("#stop-button")
        assert await until(pilot, lambda: not status(app) & Status.MOTOR_ON)


async def test_zone_change_with_the_pedal_down_is_refused(sim_url: str) -> None:
    app = make_app(sim_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        await pilot.press("6")
        await pilot.pause(0.1)
        assert app.zone is ZoneCode.FRN
        assert app.pen is not None
        app.pen.sim(SimAction.PEDAL, 0)
        assert await until(pilot, lambda: not status(app) & Status.PEDAL_DOWN)
        await pilot.press("6")
        assert app.zone is ZoneCode.CRN


async def test_a_frozen_dashboard_lets_the_pen_watchdog_stop_the_needle(sim_url: str) -> None:
    app = make_app(sim_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        assert app.pen is not None
        pen = app.pen
        # freeze the UI loop: nothing renews the heartbeat lease
        import time

        time.sleep(0.8)
        sample = pen.latest
        assert sample is not None
        assert not sample.status & Status.MOTOR_ON
        assert not sample.status & Status.ARMED


async def test_link_drop_raises_an_alarm_and_the_pen_comes_back_stopped(sim_url: str) -> None:
    app = make_app(sim_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await running(app, pilot)
        await pilot.press("f8")
        assert await until(pilot, lambda: any("LINK LOST" in a.text for a in app.board.active))
        assert app.board.has_stop
        assert await until(
            pilot, lambda: any("reconnected" in a.text for a in app.board.active), 5.0
        )
        await pilot.pause(0.2)
        assert not status(app) & (Status.ARMED | Status.MOTOR_ON)
        await pilot.press("k")
        assert not app.board.active
