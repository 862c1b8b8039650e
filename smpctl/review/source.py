"""Opening a journal for review: never created, never upgraded behind the user's back, and
a journal from a newer smpctl refused with the release to install."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import IO

from smpctl.errors import JournalMissingError, JournalTooNewError, OutputPathError
from smpctl.journal import Journal, resolve_journal_path
from smpctl.journal.schema import LATEST

WRITER_VERSION_KEY = "smpctl_version"
"""``meta`` key naming the smpctl release that last wrote the journal, if it records one."""


def installed_version() -> str:
    try:
        return metadata.version("smpctl")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "(unknown version)"


def check_schema(path: Path) -> None:
    """Read the schema version without writing anything (a read-only connection), so a
    journal from a newer smpctl is refused before the journal layer touches it."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return  # the journal layer reports what is wrong with the file
    try:
        found = int(conn.execute("PRAGMA user_version").fetchone()[0])
        writer = None
        if found > LATEST:
            with contextlib.suppress(sqlite3.Error):
                row = conn.execute(
                    "SELECT value FROM meta WHERE key = ?", (WRITER_VERSION_KEY,)
                ).fetchone()
                writer = row[0] if row else None
    except sqlite3.Error:
        return
    finally:
        conn.close()
    if found > LATEST:
        installed = installed_version()
        wanted = (
            f"smpctl {writer} or later"
            if writer
            else f"a release of smpctl newer than {installed} that reads journal schema {found}"
        )
        raise JournalTooNewError(str(path), found, LATEST, installed, wanted)


def open_for_review(option: str | os.PathLike[str] | None = None) -> Journal:
    """The journal (``--journal`` / SMPCTL_JOURNAL / the user's data directory), for reading."""
    path = resolve_journal_path(option)
    if not path.is_file():
        raise JournalMissingError(str(path))
    check_schema(path)
    return Journal.open(path, writer=False)


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """Refuse an output file that cannot be written, before any work is done."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise OutputPathError(str(target), "it is a directory")
    parent = target.parent if str(target.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise OutputPathError(str(target), f"{parent} is a file, not a directory")
    if not parent.is_dir():
        raise OutputPathError(str(target), f"the directory {parent} does not exist")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputPathError(str(target), "the file exists and is read-only")
    probe = parent / f".smpctl-probe-{os.getpid()}"
    try:  # the one sure test (permissions, read-only disks, ACLs): create a file there
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        probe.unlink()
    except OSError as exc:
        raise OutputPathError(
            str(target), f"the directory {parent} is not writable ({exc.strerror})"
        ) from None
    return target


def companion_path(target: Path, table: str) -> Path:
    """``out.csv`` -> ``out.events.csv``: the file of one table in a multi-file export."""
    return target.with_name(f"{target.stem}.{table}{target.suffix or '.csv'}")


def write_private(target: Path, text: str | bytes) -> None:
    """Write ``target`` readable by its user only (records are health data), replacing it
    whole: a reader never sees half a report."""
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode() if isinstance(text, str) else text)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def private_output(target: Path) -> Iterator[IO[str]]:
    """A text file for ``target``, readable by its user only, that replaces it only once
    everything is written."""
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
