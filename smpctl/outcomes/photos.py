"""Standard photographs, stored by reference: the absolute path and the SHA-256 of the
file's bytes when the measurement was recorded.

The journal never copies, moves or rewrites a photo (they are large, and the clinic's
photo archive is the original). Instead each reading hashes the file again, so an edited,
replaced or lost photo shows as CHANGED or MISSING instead of passing for the original.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from smpctl.errors import PhotoNotFoundError


class PhotoState(StrEnum):
    OK = "OK"
    """The file's bytes are those recorded."""
    CHANGED = "CHANGED"
    """A file is there, with other bytes (edited, re-exported or replaced)."""
    MISSING = "MISSING"
    """Nothing readable at the recorded path (moved, deleted, or no permission)."""


@dataclass(frozen=True)
class PhotoRef:
    path: str
    sha256: str


@dataclass(frozen=True)
class PhotoCheck:
    path: str
    sha256: str
    """As recorded."""
    state: PhotoState
    detail: str | None = None
    """Why a photo is MISSING (the system's reason)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "state": self.state.value,
            "detail": self.detail,
        }


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:  # read only: the photo is never altered
        return hashlib.file_digest(f, "sha256").hexdigest()


def reference_photo(path: str | os.PathLike[str]) -> PhotoRef:
    """The reference to store for the photo at ``path``: refused unless it is a readable,
    non-empty file."""
    given = str(path)
    try:
        target = Path(path).expanduser().resolve(strict=True)
    except (OSError, RuntimeError):
        raise PhotoNotFoundError(given, "no such file") from None
    if target.is_dir():
        raise PhotoNotFoundError(given, "is a directory, not a photo file")
    if not target.is_file():
        raise PhotoNotFoundError(given, "is not a regular file")
    try:
        if target.stat().st_size == 0:
            raise PhotoNotFoundError(given, "is empty")
        digest = file_sha256(target)
    except OSError as exc:
        raise PhotoNotFoundError(given, f"cannot be read ({exc.strerror})") from None
    return PhotoRef(str(target), digest)


def check_photo(path: str, sha256: str) -> PhotoCheck:
    """Hash the recorded photo again."""
    try:
        digest = file_sha256(Path(path))
    except OSError as exc:
        return PhotoCheck(path, sha256, PhotoState.MISSING, exc.strerror or type(exc).__name__)
    state = PhotoState.OK if digest == sha256 else PhotoState.CHANGED
    return PhotoCheck(path, sha256, state)
