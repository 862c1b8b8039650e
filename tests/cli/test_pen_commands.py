"""`smpctl devices | info | monitor | conformance | sim` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import smpctl.sim as sim
from smpctl.cli import main, pen_cmds
from smpctl.client import Notice, Pen, connect
from smpctl.protocol import Event, EventKind, SimAction, StopReason


@pytest.fixture
def sim_url(request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"cli-{request.node.name}"[:60]
    yield f"sim://{name}"
    if sim.BUS.get(name) is not None:
        sim.BUS.power_off(name)


def test_devices_always_offers_the_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices"]) == 0
    assert "sim://" in capsys.readouterr().out
    assert main(["devices", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["simulator"].startswith("sim://")
    assert isinstance(listing["ports"], list)


def test_info_shows_identity_limits_and_calibration(
    sim_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", sim_url + "?serial=SIM40404", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["serial"] == "SIM40404"
    assert facts["simulated"] is True
    assert facts["protocol_version"] == "1.0"
    assert facts["limits"]["max_speed_hz"] == 150
    assert "speed_gain_ppm" in facts["calibration"]
    assert facts["config"]["watchdog_ms"] == 250


def test_info_on_a_missing_port_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "/dev/ttyNOPE0"]) == 1
    err = capsys.readouterr().err
    assert "no serial port '/dev/ttyNOPE0'" in err
    assert "smpctl devices" in err


def test_monitor_csv_prints_every_sample(sim_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", sim_url, "--csv", "--duration", "0.5", "--rate", "200"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("t_us,sample_seq,speed_chz")
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) >= 60
    seqs = [int(r[1]) for r in rows]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_monitor_human_lines_say_simulated_and_show_link_stats(
    sim_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["monitor", sim_url, "--duration", "1.2"]) == 0
    out = capsys.readouterr().out
    assert "SIMULATED" in out
    assert "speed" in out and "Hz" in out
    assert "link:" in out and "samples/s" in out


def test_monitor_stops_a_running_pen_on_ctrl_c(
    sim_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[Notice] = []

    def practitioner_then_ctrl_c(pen: Pen, **_kwargs: object) -> None:
        pen.subscribe(seen.append)
        pen.set_speed(100)
        pen.arm()
        pen.run()
        pen.sim(SimAction.PEDAL, 1)
        deadline = time.monotonic() + 2
        while not (pen.latest and pen.latest.motor_on) and time.monotonic() < deadline:
            pen.alive()
            time.sleep(0.01)
        assert pen.latest and pen.latest.motor_on
        raise KeyboardInterrupt

    monkeypatch.setattr(pen_cmds, "monitor", practitioner_then_ctrl_c)
    assert main(["monitor", sim_url]) == 0
    stops = [n for n in seen if isinstance(n, Event) and n.kind == EventKind.MOTOR_STOPPED]
    assert stops and stops[0].code == StopReason.HOST_STOP


def test_conformance_passes_on_the_simulator(
    sim_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conformance", sim_url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is True
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    for requirement in (
        "handshake",
        "bad_crc",
        "resync",
        "watchdog",
        "clamping",
        "estop_latch",
        "pedal_release",
    ):
        assert outcomes[requirement] == "pass"


def test_conformance_fails_a_pen_that_ignores_its_watchdog(
    sim_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from smpctl.sim import firmware

    def broken_watchdog(self: object, silent_us: int) -> None:
        return None

    monkeypatch.setattr(firmware.Firmware, "_watchdog_trip", broken_watchdog)
    assert main(["conformance", sim_url]) == 1
    out = capsys.readouterr().out
    assert any(line.startswith("FAIL  watchdog") for line in out.splitlines())


@pytest.mark.slow
def test_client_runs_over_a_real_pseudo_terminal() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "smpctl", "sim", "--pty", "--serial", "SIMPTY01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        path = proc.stdout.readline().strip()
        assert os.path.exists(path), path
        with connect(path) as pen:
            assert pen.serial == "SIMPTY01"
            assert pen.simulated
            pen.set_speed(105)
            pen.arm()
            pen.run()
            pen.stop()
            deadline = time.monotonic() + 2
            while pen.stats().samples < 50 and time.monotonic() < deadline:
                pen.alive()
                time.sleep(0.02)
            assert pen.stats().samples >= 50
            assert pen.stats().seq_gaps == 0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=5)
    assert proc.returncode == 0
