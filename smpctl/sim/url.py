"""sim:// URLs: ``sim://[NAME]?seed=1&baud=115200&realtime=1&serial=SIM00001&eeprom=PATH&hand=auto``.

NAME picks the pen on the simulated USB bus (default "default"); the options apply when
that pen is powered on by this open. A wrong option is an error that lists the valid ones,
never silently ignored: a typo in ``relatime=0`` must not give a real-time pen.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from smpctl.errors import SimulatorError

from .options import HAND_AUTO, USB_NOMINAL_BAUD, PedalMode, PenOptions

DEFAULT_NAME = "default"
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SERIAL = re.compile(r"[\x21-\x7e]{1,16}")

OPTION_HELP: dict[str, str] = {
    "seed": "INT (default 0): randomness and the default serial number",
    "baud": "INT (default 115200; 0 = USB CDC, ~1 MB/s): line rate, paces the pen's output",
    "realtime": "1|0 (default 1): 0 = virtual time that moves only when the port is read",
    "serial": "TEXT (default SIM + 5 digits from the seed): serial number, up to 16 ASCII",
    "eeprom": "PATH (default: in memory): JSON file holding configuration and calibration",
    "hand": "auto|air|PERCENT (default auto): skin contact, auto = a hand tapping dots",
    "pedal": "up|down|auto (default up): the foot pedal, auto = passes every few seconds",
}


class SimUrl(NamedTuple):
    name: str
    options: PenOptions
    realtime: bool


def usage() -> str:
    lines = [f"  {name}={text}" for name, text in OPTION_HELP.items()]
    return "sim://[NAME][?OPTION=VALUE&...] with options:\n" + "\n".join(lines)


def _int(text: str) -> int:
    return int(text, 10)


def _baud(text: str) -> int:
    value = _int(text)
    if value != USB_NOMINAL_BAUD and not 300 <= value <= 12_000_000:
        raise ValueError("must be 0 (USB) or 300..12000000")
    return value


def _flag(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be 1 or 0")


def _serial(text: str) -> str:
    if not _SERIAL.fullmatch(text):
        raise ValueError("must be 1..16 printable ASCII characters")
    return text


def _hand(text: str) -> int:
    lowered = text.lower()
    if lowered == "auto":
        return HAND_AUTO
    if lowered in ("air", "off"):
        return 0
    value = _int(text.rstrip("%"))
    if not 0 <= value <= 200:
        raise ValueError("percent must be 0..200")
    return value


def _pedal(text: str) -> PedalMode:
    return PedalMode(text.lower())


_PARSERS: dict[str, Callable[[str], Any]] = {
    "seed": _int,
    "baud": _baud,
    "realtime": _flag,
    "serial": _serial,
    "eeprom": Path,
    "hand": _hand,
    "pedal": _pedal,
}


def parse_sim_url(url: str) -> SimUrl:
    """Raises SimulatorError with the valid options listed."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "sim":
        raise SimulatorError(f"not a sim:// URL: {url!r}\n{usage()}")
    name = parts.netloc or DEFAULT_NAME
    if not _NAME.fullmatch(name) or parts.path not in ("", "/") or parts.fragment:
        raise SimulatorError(
            f"bad pen name in {url!r}: use letters, digits, '_', '.', '-' (sim://NAME)\n{usage()}"
        )
    values: dict[str, Any] = {}
    for option, text in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        parse = _PARSERS.get(option)
        if parse is None:
            raise SimulatorError(f"unknown option {option!r} in {url!r}\n{usage()}")
        if option in values:
            raise SimulatorError(f"option {option!r} given twice in {url!r}")
        try:
            values[option] = parse(text)
        except ValueError as exc:
            raise SimulatorError(
                f"bad value {text!r} for option {option!r} in {url!r}: {exc}\n"
                f"  {option}={OPTION_HELP[option]}"
            ) from None
    realtime = bool(values.pop("realtime", True))
    if "hand" in values:
        values["skin_load_pct"] = values.pop("hand")
    return SimUrl(name, PenOptions(**values), realtime)
