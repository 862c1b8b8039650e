"""Update a pen's firmware over USB DFU 1.1, keeping its configuration and calibration.

Checks the image first (model, version, checksums, Ed25519 signature against the keys
smpctl ships), refuses a downgrade unless --allow-downgrade, saves the pen's settings, puts
the pen in its bootloader (REBOOT_BOOTLOADER over the protocol), writes the image in blocks,
reads it back, restarts the pen and checks its settings are still there. Without --port it
updates the SIMULATED pen (its protocol side and its USB DFU side).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as `python tools/flash_firmware.py` from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smpctl.cli.args import (
    DEFAULT_SIM_URL,
    add_json,
    add_port,
    print_json,
    simulated_banner,
    tool_main,
)
from smpctl.discovery import pen_ports
from smpctl.errors import UsbUnavailableError
from smpctl.usb.devices import default_backend
from smpctl.usb.flash import FirmwareUpdate, FlashReport
from smpctl.usb.image import read_image
from smpctl.usb.settings import BACKUP_DIR_ENV, default_backup_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flash_firmware.py",
        description="Update a pen's firmware over USB DFU 1.1. PORT may also be usb:SERIAL "
        "(or usb:) for a pen reachable only over USB, e.g. one already in its bootloader.",
    )
    parser.add_argument("image", metavar="IMAGE", help="signed firmware image (.smpfw)")
    add_port(parser)
    parser.add_argument(
        "--allow-downgrade",
        action="store_true",
        help="install an image older than the firmware on the pen",
    )
    parser.add_argument(
        "--backup-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the pen's configuration and calibration are saved before the update "
        f"(default: ${BACKUP_DIR_ENV}, else the user's data directory)",
    )
    add_json(parser)
    parser.set_defaults(func=run)
    return parser


class ProgressLine:
    """Block progress on stderr, a line every tenth, so a log of the run stays short."""

    def __init__(self) -> None:
        self._shown: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if self._shown.get(stage, -1) < tenth:
            self._shown[stage] = tenth
            print(
                f"  {stage:<6} {done * 100 // max(total, 1):3d}%  {done}/{total} bytes",
                file=sys.stderr,
            )


def _summary(report: FlashReport) -> str:
    lines = [
        f"pen {report.model} serial {report.serial}",
        f"firmware {report.previous_firmware or 'unknown'} -> {report.new_firmware}"
        + (" (downgrade, allowed)" if report.downgrade else ""),
        f"written {report.bytes_written} bytes in {report.blocks} blocks, verified",
        "restarted; configuration and calibration preserved"
        if report.settings_after is not None and report.settings_before is not None
        else "restarted; configuration and calibration NOT checked",
    ]
    if report.backup:
        lines.append(f"settings backup: {report.backup}")
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import smpctl.sim as sim
    from smpctl.usb.simdev import SimUsbBus

    image = read_image(Path(args.image))
    port: str | None = args.port
    simulated = port is None or port.startswith("sim://")
    powered_name: str | None = None
    say = (lambda text: print(text, file=sys.stderr)) if args.json else print
    if simulated:
        url = port or DEFAULT_SIM_URL
        parsed = sim.parse_sim_url(url)
        if sim.BUS.get(parsed.name) is None:
            sim.BUS.power_on(parsed.name, parsed.options, parsed.realtime)
            powered_name = parsed.name
        usb_bus = SimUsbBus()
        usb_bus.link(parsed.name)
        backend = usb_bus.backend()
        print(simulated_banner(), file=sys.stderr)
        print("*** SIMULATED DFU device: nothing is written to a real pen ***", file=sys.stderr)
        if port is None:
            for real in pen_ports():
                print(
                    f"note: a pen is attached at {real.device}; this run updates the "
                    f"SIMULATED pen. Pass --port {real.device} to update that one.",
                    file=sys.stderr,
                )
        pen_url: str | None = url
        usb_serial = None
    else:
        backend = default_backend()
        if backend is None:
            raise UsbUnavailableError()
        if port is not None and port.startswith("usb:"):
            pen_url, usb_serial = None, port.removeprefix("usb:") or None
        else:
            pen_url, usb_serial = port, None
    update = FirmwareUpdate(
        image=image,
        backend=backend,
        backup_dir=args.backup_dir or default_backup_dir(),
        pen_url=pen_url,
        usb_serial=usb_serial,
        allow_downgrade=args.allow_downgrade,
        simulated=simulated,
        progress=ProgressLine(),
        log=say,
    )
    try:
        report = update.run()
    finally:
        if powered_name is not None:
            sim.BUS.power_off(powered_name)
    if args.json:
        print_json(report.as_dict())
    else:
        print(_summary(report))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return tool_main(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
