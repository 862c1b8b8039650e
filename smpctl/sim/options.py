"""What a simulated pen is built with: the settings a sim:// URL or `smpctl sim` can give."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

HAND_AUTO = -1
"""SKIN_LOAD value selecting the automatic hand (tapping dots, gliding between them)."""

USB_NOMINAL_BAUD = 0
"""baud=0: a USB CDC link, whose nominal baud rate means nothing; it carries ~1 MB/s."""


class PedalMode(Enum):
    UP = "up"
    DOWN = "down"
    AUTO = "auto"
    """A simulated foot presses for passes of a few seconds, so a demo runs unattended."""


@dataclass(frozen=True, slots=True)
class PenOptions:
    seed: int = 0
    baud: int = 115200
    serial: str | None = None
    """None: "SIM" + five digits derived from the seed."""
    eeprom: Path | None = None
    """None: configuration and calibration live in memory only (lost at power-off)."""
    skin_load_pct: int = HAND_AUTO
    pedal: PedalMode = PedalMode.UP

    @property
    def serial_number(self) -> str:
        if self.serial is not None:
            return self.serial
        return f"SIM{self.seed % 100_000:05d}"

    @property
    def line_bytes_per_s(self) -> int:
        """Bytes per second the line carries: 8N1 is 10 bits a byte."""
        if self.baud == USB_NOMINAL_BAUD:
            return 1_000_000
        return self.baud // 10
