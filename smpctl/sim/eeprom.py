"""Non-volatile memory: configuration, calibration and the boot counter in a JSON file.

Only values that were written are stored (by key name), defaults come from the firmware's
table, so a newer firmware with another default is not pinned to an old one. Writes go to
a temporary file and are renamed into place, so a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from smpctl.protocol import ParamTable

FORMAT = "smpctl-sim-eeprom/1"


class Eeprom:
    """In memory when ``path`` is None; else loaded from and saved to ``path``.

    A file that cannot be read or parsed counts as blank memory (as a real pen treats a
    bad checksum): the pen boots on defaults, ``damaged`` says why, and the next write
    replaces the file.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.boot_count = 0
        self.damaged: str | None = None
        self._tables: dict[str, dict[str, int]] = {t.name: {} for t in ParamTable}
        self.load()

    def load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} file")
            tables = {t.name: dict(data.get(t.name.lower(), {})) for t in ParamTable}
            for values in tables.values():
                if not all(isinstance(v, int) for v in values.values()):
                    raise ValueError("values must be integers")
            boot_count = int(data.get("boot_count", 0))
        except (OSError, ValueError, TypeError) as exc:
            self.damaged = f"{self.path}: {exc}"
            return
        self._tables = tables
        self.boot_count = boot_count

    def get(self, table: ParamTable, name: str) -> int | None:
        return self._tables[table.name].get(name)

    def put(self, table: ParamTable, name: str, value: int) -> None:
        """Store and persist; on OSError the memory is left as it was and the error raised."""
        values = self._tables[table.name]
        old = values.get(name)
        values[name] = value
        try:
            self.save()
        except OSError:
            if old is None:
                del values[name]
            else:
                values[name] = old
            raise

    def count_boot(self) -> int:
        """One more boot; the count survives in the file (best effort: a pen boots anyway)."""
        self.boot_count += 1
        with contextlib.suppress(OSError):
            self.save()
        return self.boot_count

    def save(self) -> None:
        if self.path is None:
            return
        data: dict[str, Any] = {"format": FORMAT, "boot_count": self.boot_count}
        for t in ParamTable:
            data[t.name.lower()] = dict(sorted(self._tables[t.name].items()))
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)
