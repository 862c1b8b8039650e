"""The sim:// pyserial URL handler and the simulated USB bus."""

from __future__ import annotations

import time

import pytest
import serial

import smpctl.sim
from smpctl.protocol import (
    BOOTLOADER_MAGIC,
    Ack,
    Event,
    EventKind,
    Hello,
    HelloReply,
    RebootBootloader,
    SimAction,
    SimControl,
    Stop,
    StreamDecoder,
    Telemetry,
    encode,
)
from smpctl.sim import BUS, HAND_AUTO, PedalMode, parse_sim_url


def exchange(port, message, seq=0, size=4096):
    port.write(encode(message, seq))
    return [m for _, m in StreamDecoder().feed(port.read(size))]


def test_importing_smpctl_sim_registers_the_handler_once():
    import importlib

    importlib.reload(smpctl.sim)
    assert serial.protocol_handler_packages.count("smpctl.sim") == 1


def test_url_options_are_parsed(tmp_path):
    url = parse_sim_url(
        f"sim://bench?seed=5&baud=9600&realtime=0&serial=PEN42&eeprom={tmp_path}/e.json"
        "&hand=40&pedal=auto"
    )
    assert url.name == "bench" and url.realtime is False
    options = url.options
    assert (options.seed, options.baud, options.serial_number) == (5, 9600, "PEN42")
    assert options.eeprom == tmp_path / "e.json"
    assert options.skin_load_pct == 40 and options.pedal is PedalMode.AUTO
    default = parse_sim_url("sim://")
    assert default.name == "default" and default.realtime
    assert default.options.skin_load_pct == HAND_AUTO
    assert default.options.serial_number == "SIM00000"


@pytest.mark.parametrize(
    "url, complaint",
    [
        ("sim://?sed=1", "unknown option 'sed'"),
        ("sim://?seed=x", "bad value 'x' for option 'seed'"),
        ("sim://?baud=12", "bad value '12' for option 'baud'"),
        ("sim://?realtime=maybe", "bad value 'maybe' for option 'realtime'"),
        ("sim://?hand=300", "bad value '300' for option 'hand'"),
        ("sim://?seed=1&seed=2", "given twice"),
        ("sim://bad name", "bad pen name"),
    ],
)
def test_bad_url_options_raise_serial_exception_listing_valid_options(url, complaint):
    with pytest.raises(serial.SerialException) as excinfo:
        serial.serial_for_url(url)
    text = str(excinfo.value)
    assert complaint in text
    if "unknown option" in complaint:
        for option in ("seed=", "baud=", "realtime=", "serial=", "eeprom=", "hand="):
            assert option in text


def test_virtual_port_answers_hello_without_real_waiting():
    start = time.perf_counter()
    port = serial.serial_for_url("sim://?seed=1&realtime=0", timeout=0.05)
    messages = exchange(port, Hello(1, 0))
    assert isinstance(messages[0], HelloReply) and messages[0].serial == "SIM00001"
    assert isinstance(messages[1], Event) and messages[1].kind == EventKind.BOOT
    assert any(isinstance(m, Telemetry) for m in messages)
    assert port.clock.now() == pytest.approx(0.05)
    port.timeout = 10.0
    port.read(34 * 1000)  # ~5 virtual seconds of telemetry
    assert time.perf_counter() - start < 2.0
    assert port.pen.time > 4.9
    port.close()


def test_opening_an_open_pen_again_is_port_busy():
    port = serial.serial_for_url("sim://?realtime=0")
    with pytest.raises(serial.SerialException, match="port busy"):
        serial.serial_for_url("sim://?realtime=0")
    other = serial.serial_for_url("sim://second?realtime=0")
    other.close()
    port.close()


def test_closing_a_plugged_in_pen_powers_it_off():
    port = serial.serial_for_url("sim://?realtime=0")
    assert BUS.names() == ["default"]
    port.close()
    assert BUS.names() == []


def test_unplugged_pen_fails_the_open_port_and_new_opens_then_reboots_when_plugged():
    port = serial.serial_for_url("sim://bench?realtime=0&serial=PEN1", timeout=0.02)
    exchange(port, Hello(1, 0))
    smpctl.sim.unplug("bench")
    with pytest.raises(serial.SerialException, match="device disconnected"):
        port.read(10)
    with pytest.raises(serial.SerialException):
        port.write(b"\x00")
    with pytest.raises(serial.SerialException, match="port not found"):
        serial.serial_for_url("sim://bench?realtime=0")
    port.close()  # closing a yanked port leaves the pen on the bus
    assert BUS.names() == ["bench"]
    smpctl.sim.plug("bench")
    again = serial.serial_for_url("sim://bench?realtime=0", timeout=0.02)
    messages = exchange(again, Hello(1, 0))
    assert messages[0].serial == "PEN1"
    boot = next(m for m in messages if isinstance(m, Event))
    assert (boot.kind, boot.code, boot.value) == (EventKind.BOOT, 3, 2)
    again.close()


def test_link_drop_command_acks_then_vanishes_then_comes_back():
    port = serial.serial_for_url("sim://?realtime=0", timeout=0.02)
    exchange(port, Hello(1, 0))
    messages = exchange(port, SimControl(SimAction.LINK_DROP_MS, 300), seq=1)
    assert Ack(1, 0x3F, 300) in messages
    with pytest.raises(serial.SerialException):
        port.read(10)
    pen = port.pen
    pen.step(0.35)
    assert pen.link_up
    port.close()
    again = serial.serial_for_url("sim://?realtime=0", timeout=0.02)
    assert again.pen is pen
    messages = exchange(again, Hello(1, 0))
    boot = next(m for m in messages if isinstance(m, Event))
    assert (boot.code, boot.value) == (3, 2)
    again.close()


def test_replacing_the_pen_on_a_name_gives_a_different_serial():
    port = serial.serial_for_url("sim://?realtime=0&serial=FIRST", timeout=0.02)
    exchange(port, Hello(1, 0))
    smpctl.sim.replace_pen("default", serial="OTHER")
    with pytest.raises(serial.SerialException):
        port.read(1)
    port.close()
    assert BUS.names() == ["default"]
    new = serial.serial_for_url("sim://?realtime=0", timeout=0.02)
    assert exchange(new, Hello(1, 0))[0].serial == "OTHER"
    new.close()


def test_reboot_to_bootloader_leaves_the_link_and_boots_from_the_bootloader():
    port = serial.serial_for_url("sim://?realtime=0", timeout=0.02)
    exchange(port, Hello(1, 0))
    messages = exchange(port, RebootBootloader(BOOTLOADER_MAGIC), seq=1)
    assert Ack(1, 0x30, 0) in messages
    with pytest.raises(serial.SerialException):
        port.read(1)
    pen = port.pen
    port.close()
    pen.step(2.0)
    again = serial.serial_for_url("sim://?realtime=0", timeout=0.02)
    boot = next(m for m in exchange(again, Hello(1, 0)) if isinstance(m, Event))
    assert (boot.code, boot.value) == (2, 2)
    again.close()


@pytest.mark.slow
def test_realtime_port_stop_reaches_the_motor_within_2_ms():
    port = serial.serial_for_url("sim://?seed=2&baud=921600&hand=air", timeout=0.05)
    from smpctl.protocol import Arm, Heartbeat, Run, SetSpeed

    decoder = StreamDecoder()
    for seq, message in enumerate([Hello(1, 0), SetSpeed(10000), Arm(), Run()]):
        port.write(encode(message, seq))
    with BUS.get("default").pen_lock:
        port.pen.set_pedal(True)
    for i in range(5):
        port.write(encode(Heartbeat(i), 10 + i))
        decoder.feed(port.read(4096))
    assert port.pen.truth().motor_on
    sent = time.monotonic()
    port.write(encode(Stop(), 20))
    stopped_at = port.pen.truth().motor_stopped_at_s
    assert stopped_at is not None
    pen_t0 = port.pen.clock.now() - port.pen.time  # pen time origin on the monotonic clock
    assert (pen_t0 + stopped_at) - sent < 0.002
    replies = [m for _, m in decoder.feed(port.read(4096)) if isinstance(m, Ack)]
    assert Ack(20, 0x13, 0) in replies
    port.close()


def test_realtime_link_drop_fails_the_port_then_the_pen_returns_rebooted():
    port = serial.serial_for_url("sim://rt?baud=921600", timeout=0.05)
    exchange(port, Hello(1, 0))
    messages = exchange(port, SimControl(SimAction.LINK_DROP_MS, 100), seq=1)
    assert Ack(1, 0x3F, 100) in messages
    with pytest.raises(serial.SerialException, match="device disconnected"):
        port.read(10)
    with pytest.raises(serial.SerialException, match="port not found"):
        serial.serial_for_url("sim://rt")
    port.close()
    deadline = time.monotonic() + 2.0
    while True:
        try:
            again = serial.serial_for_url("sim://rt", timeout=0.05)
            break
        except serial.SerialException:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    boot = next(m for m in exchange(again, Hello(1, 0)) if isinstance(m, Event))
    assert (boot.kind, boot.code, boot.value) == (EventKind.BOOT, 3, 2)
    again.close()


def test_sim_package_imports_nothing_else_from_smpctl():
    import pathlib
    import re

    package = pathlib.Path(smpctl.sim.__file__).parent
    for module in package.glob("*.py"):
        for line in module.read_text().splitlines():
            found = re.match(r"\s*(?:from|import)\s+(smpctl(?:\.\w+)*)", line)
            if found:
                assert found.group(1) in ("smpctl.protocol", "smpctl.errors"), (module, line)
