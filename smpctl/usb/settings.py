"""A pen's configuration and calibration, read before a firmware update and kept on disk.

The copy on disk outlives a failed update: when the next run finds the pen already in its
bootloader (no protocol to read the settings with), it checks the pen against this copy
once the new firmware runs.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from smpctl.client import Pen
from smpctl.errors import SmpctlError
from smpctl.protocol import CalibrationKey, ConfigKey

BACKUP_DIR_ENV = "SMPCTL_BACKUP_DIR"
FORMAT = "smpctl-pen-settings/1"


@dataclass(frozen=True)
class PenSettings:
    serial: str
    config: dict[str, int]
    calibration: dict[str, int]

    def differences(self, after: PenSettings) -> list[str]:
        """``TABLE.KEY before -> after`` for every value that changed or vanished."""
        changes = []
        for table, before_values, after_values in (
            ("config", self.config, after.config),
            ("calibration", self.calibration, after.calibration),
        ):
            for key, value in before_values.items():
                now = after_values.get(key)
                if now != value:
                    changes.append(f"{table}.{key} {value} -> {now}")
        return changes

    def as_dict(self) -> dict[str, Any]:
        return {"serial": self.serial, "config": self.config, "calibration": self.calibration}


def read_settings(pen: Pen) -> PenSettings:
    return PenSettings(
        serial=pen.identity.serial,
        config={k.name: pen.read_config(k) for k in ConfigKey},
        calibration={k.name: pen.read_calibration(k) for k in CalibrationKey},
    )


def default_backup_dir() -> Path:
    env = os.environ.get(BACKUP_DIR_ENV)
    if env:
        return Path(env)
    return Path(user_data_dir("smpctl")) / "firmware-backups"


def backup_path(directory: Path, serial: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", serial) or "unknown"
    return directory / f"{safe}.json"


def save_backup(directory: Path, settings: PenSettings) -> Path:
    path = backup_path(directory, settings.serial)
    data = {"format": FORMAT, "saved": datetime.now(UTC).isoformat(), **settings.as_dict()}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise SmpctlError(
            f"cannot save the pen's settings to {path} before the update: "
            f"{exc.strerror or exc}. Choose a writable place with --backup-dir."
        ) from None
    return path


def load_backup(directory: Path, serial: str) -> PenSettings | None:
    path = backup_path(directory, serial)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return PenSettings(
        serial=str(data["serial"]),
        config={str(k): int(v) for k, v in data.get("config", {}).items()},
        calibration={str(k): int(v) for k, v in data.get("calibration", {}).items()},
    )
