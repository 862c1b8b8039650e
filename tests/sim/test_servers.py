"""The pen outside this process: `smpctl sim --pty` and `--tcp`, in real time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import serial

from smpctl.protocol import Hello, HelloReply, SetTelemetryRate, StreamDecoder, Telemetry, encode
from smpctl.sim import PenOptions, RealtimeRunner, serve_tcp


def read_until(port, predicate, limit=3.0):
    decoder = StreamDecoder()
    deadline = time.monotonic() + limit
    seen = []
    while time.monotonic() < deadline:
        for _, message in decoder.feed(port.read(4096)):
            seen.append(message)
            if predicate(message):
                return message, seen
    raise AssertionError(f"no matching message in {limit} s; saw {seen[:5]}")


def start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "smpctl", "sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline().strip()
    return process, first_line


def stop_cli(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_cli_pty_prints_the_path_first_and_answers_hello():
    process, path = start_cli("--pty", "--seed", "4", "--baud", "921600")
    try:
        assert path.startswith("/dev/"), path
        with serial.Serial(path, 921600, timeout=0.1) as port:
            port.write(encode(Hello(1, 0), 0))
            reply, _ = read_until(port, lambda m: isinstance(m, HelloReply))
            assert reply.serial == "SIM00004"
            read_until(port, lambda m: isinstance(m, Telemetry))
    finally:
        stop_cli(process)


@pytest.mark.slow
def test_cli_tcp_prints_the_socket_url_first_and_answers_hello():
    process, url = start_cli("--tcp", "0", "--serial", "TCPPEN")
    try:
        assert url.startswith("socket://127.0.0.1:"), url
        port = serial.serial_for_url(url, timeout=0.1)
        try:
            port.write(encode(Hello(1, 0), 0))
            reply, _ = read_until(port, lambda m: isinstance(m, HelloReply))
            assert reply.serial == "TCPPEN"
        finally:
            port.close()
    finally:
        stop_cli(process)


def test_tcp_server_serves_one_client_after_another():
    with serve_tcp(0, options=PenOptions(seed=9)) as server:
        for _ in range(2):
            port = serial.serial_for_url(server.url, timeout=0.1)
            try:
                port.write(encode(Hello(1, 0), 0))
                reply, _ = read_until(port, lambda m: isinstance(m, HelloReply))
                assert reply.serial == "SIM00009"
            finally:
                port.close()


@pytest.mark.slow
def test_realtime_pen_at_2000_hz_and_921600_baud_uses_well_under_one_core():
    runner = RealtimeRunner.create(PenOptions(seed=1, baud=921600, skin_load_pct=-1))
    runner.start()
    try:
        runner.write(encode(Hello(1, 0), 0) + encode(SetTelemetryRate(2000), 1))
        with runner.lock:
            runner.pen.set_pedal(True)
        start_cpu = os.times()
        start = time.monotonic()
        received = 0
        while time.monotonic() - start < 1.0:
            received += len(runner.read(1 << 16, 0.02))
        elapsed = time.monotonic() - start
        used = os.times()
        cpu = (used.user - start_cpu.user + used.system - start_cpu.system) / elapsed
    finally:
        runner.stop()
    assert received > 0.9 * 2000 * 34
    assert cpu < 0.5, f"a real-time pen used {cpu:.0%} of a core"
