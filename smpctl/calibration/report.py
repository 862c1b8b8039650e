"""The JSON report a technician run leaves behind, one file per pen, kind and day.

Named ``<serial>-<kind>-<YYYYMMDD>.json`` so a clinic's folder of reports sorts by pen; a
second run on the same day gets ``-2``, ``-3``… rather than replacing the first (a failed
run's report is evidence too).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from .outcome import Outcome

REPORT_DIR_ENV = "SMPCTL_CALIBRATION_DIR"
FORMAT = "smpctl-technician-report/1"

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def default_report_dir() -> Path:
    """``$SMPCTL_CALIBRATION_DIR``, else ``calibration/`` in the user's data directory."""
    env = os.environ.get(REPORT_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(user_data_dir("smpctl", appauthor=False)) / "calibration"


def report_name(outcome: Outcome, n: int = 1) -> str:
    serial = _UNSAFE.sub("_", outcome.identity.serial) or "unknown"
    kind = outcome.kind.value.replace("_", "-")
    suffix = "" if n == 1 else f"-{n}"
    return f"{serial}-{kind}-{outcome.day:%Y%m%d}{suffix}.json"


def write_report(
    directory: Path,
    outcome: Outcome,
    body: Mapping[str, Any],
    *,
    technician: str | None,
) -> Path:
    """Write the report (never over another); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    content = {
        "format": FORMAT,
        "technician": technician,
        "simulated": outcome.identity.simulated,
        **body,
    }
    text = json.dumps(content, indent=2, default=str) + "\n"
    n = 1
    while True:
        path = directory / report_name(outcome, n)
        try:
            with open(path, "x", encoding="utf-8") as out:
                out.write(text)
        except FileExistsError:
            n += 1
            continue
        return path
