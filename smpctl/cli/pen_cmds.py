"""`smpctl devices`, `smpctl info`, `smpctl monitor`: look at pens and their links."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any, TextIO

from smpctl.client import HostEvent, LinkEvent, Notice, Pen, connect
from smpctl.discovery import SIM_URL_HINT, list_ports
from smpctl.errors import SmpctlError
from smpctl.protocol import CalibrationKey, ConfigKey, EventKind, Fault, Status, Telemetry

from .args import add_json, add_port, print_json, resolve_port, simulated_banner


def register(sub: Any) -> None:
    p = sub.add_parser("devices", help="list serial ports and the pens among them")
    add_json(p)
    p.set_defaults(func=run_devices)

    p = sub.add_parser("info", help="show a pen's identity, limits and calibration")
    add_port(p, positional=True)
    add_json(p)
    p.set_defaults(func=run_info)

    p = sub.add_parser("monitor", help="live telemetry and link statistics")
    add_port(p, positional=True)
    p.add_argument("--csv", action="store_true", help="print every sample as CSV")
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    p.add_argument("--rate", type=int, default=None, help="telemetry rate to ask for, Hz")
    p.set_defaults(func=run_monitor)


def run_devices(args: argparse.Namespace) -> int:
    ports = list_ports()
    if args.json:
        print_json({"ports": [p.as_dict() for p in ports], "simulator": SIM_URL_HINT + "?seed=1"})
        return 0
    if not ports:
        print("No serial ports found.")
    for p in ports:
        tag = "PEN " if p.looks_like_pen else ("DFU " if p.bootloader else "    ")
        ids = f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None and p.pid is not None else "-"
        busy = f"  in use by {p.in_use_by}" if p.in_use_by else ""
        sn = f" serial {p.serial_number}" if p.serial_number else ""
        print(f"{tag}{p.device:20} {ids:9} {p.description}{sn}{busy}")
    print(f"SIM {SIM_URL_HINT:20} simulated pen (always available; add ?seed=N)")
    return 0


def _day(value: int) -> str | None:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=value)).isoformat() if value else None


def pen_facts(pen: Pen) -> dict[str, object]:
    """Identity, limits, configuration and calibration of a connected pen."""
    facts = pen.identity.as_dict()
    facts["port"] = pen.url
    facts["config"] = {k.name.lower(): pen.read_config(k) for k in ConfigKey}
    cal = {k.name.lower(): pen.read_calibration(k) for k in CalibrationKey}
    for key in ("speed_cal_day", "speed_cal_expires_day", "depth_cal_day", "depth_cal_expires_day"):
        cal[key.replace("_day", "")] = _day(int(cal.pop(key)))  # type: ignore[assignment]
    facts["calibration"] = cal
    return facts


def run_info(args: argparse.Namespace) -> int:
    url, simulated = resolve_port(args.port)
    with connect(url) as pen:
        facts = pen_facts(pen)
    if args.json:
        print_json(facts)
        return 0
    if simulated or facts["simulated"]:
        print(simulated_banner())
    for key, value in facts.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k:24} {v}")
        elif isinstance(value, list):
            print(f"{key:26} {', '.join(map(str, value))}")
        else:
            print(f"{key:26} {value}")
    return 0


CSV_FIELDS = Telemetry._fields


def format_sample(s: Telemetry) -> str:
    flags = Status(s.status)
    state = " ".join(
        name
        for flag, name in (
            (Status.ARMED, "ARMED"),
            (Status.RUN_ENABLED, "RUN"),
            (Status.MOTOR_ON, "MOTOR"),
            (Status.ESTOP_LATCHED, "ESTOP"),
        )
        if flag in flags
    )
    faults = Fault(s.faults)
    fault_text = ",".join(f.name or "?" for f in Fault if f in faults) or "-"
    pedal = "DOWN" if s.pedal_down else "up"
    battery = "n/a" if s.battery_pct == 255 else f"{s.battery_pct}%"
    return (
        f"t={s.t_us / 1e6:9.3f}s speed {s.speed_hz:6.1f}/{s.setpoint_hz:5.1f} Hz "
        f"I {s.current_a:4.2f} A V {s.voltage_v:5.2f} V T {s.temp_c:4.1f} °C "
        f"strokes {s.strokes:8d} depth {s.depth_mm:4.2f} mm batt {battery:>4} "
        f"pedal {pedal:4} {state or 'DISARMED'} faults {fault_text}"
    )


def describe_notice(notice: Notice) -> str:
    if isinstance(notice, LinkEvent):
        return f"LINK {notice.kind.value.upper()}: {notice.message}"
    if isinstance(notice, HostEvent):
        return f"HOST {notice.kind}: {notice.message}"
    kind = notice.event_kind
    name = kind.name if isinstance(kind, EventKind) else f"event {kind}"
    return f"EVENT {name} code={notice.code} value={notice.value} t={notice.t_us / 1e6:.3f}s"


def monitor(pen: Pen, *, csv: bool, duration: float | None, out: TextIO) -> None:
    """Print telemetry until ``duration`` passes; the caller stops the pen afterwards."""
    cursor = pen.telemetry.cursor
    notice_cursor = pen.notices.cursor
    start = time.monotonic()
    next_line = start
    next_stats = start + 1.0
    if csv:
        out.write(",".join(CSV_FIELDS) + "\n")
    while duration is None or time.monotonic() - start < duration:
        pen.alive()
        time.sleep(0.05)
        read = pen.telemetry.since(cursor)
        cursor = read.cursor
        notices = pen.notices.since(notice_cursor)
        notice_cursor = notices.cursor
        now = time.monotonic()
        if csv:
            out.writelines(",".join(map(str, s)) + "\n" for s in read.items)
        else:
            for n in notices.items:
                out.write(describe_notice(n) + "\n")
            if read.items and now >= next_line:
                out.write(format_sample(read.items[-1]) + "\n")
                next_line = now + 0.2
            if now >= next_stats:
                out.write(f"link: {pen.stats().summary()}\n")
                next_stats = now + 1.0
        out.flush()


def run_monitor(args: argparse.Namespace) -> int:
    url, simulated = resolve_port(args.port)
    pen = connect(url)
    out = sys.stdout
    try:
        if (simulated or pen.simulated) and not args.csv:
            out.write(simulated_banner() + "\n")
        if args.rate is not None:
            applied = pen.set_telemetry_rate(args.rate)
            if not args.csv:
                out.write(f"telemetry rate {applied} Hz\n")
        monitor(pen, csv=args.csv, duration=args.duration, out=out)
    except KeyboardInterrupt:
        pass
    finally:
        # Ctrl-C, an error or the end of --duration: the pen is stopped before we leave.
        try:
            pen.stop()
        except SmpctlError as exc:
            print(
                f"smpctl: could not confirm the stop: {exc}. Release the pedal; the pen also "
                "stops by itself when heartbeats stop.",
                file=sys.stderr,
            )
        pen.close()
    return 0
