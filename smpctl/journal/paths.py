"""Where the journal lives, and keeping it readable by its user only.

Treatment records are health data (GDPR art. 9): the file and the directory holding it are
created 0700 / 0600 whatever the umask, so another account on the practitioner's machine
cannot read them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

import platformdirs

ENV_VAR = "SMPCTL_JOURNAL"
FILE_NAME = "journal.sqlite3"
DIR_MODE = 0o700
FILE_MODE = 0o600
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal", ".lock")
"""Files SQLite (and our writer lock) keep beside the journal: they hold records too."""

log = logging.getLogger("smpctl.journal")


def default_journal_path() -> Path:
    return Path(platformdirs.user_data_dir("smpctl", appauthor=False)) / FILE_NAME


def resolve_journal_path(
    option: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """``--journal PATH`` first, then ``SMPCTL_JOURNAL``, then the user's data directory."""
    if option:
        return Path(option).expanduser()
    value = (os.environ if env is None else env).get(ENV_VAR)
    if value:
        return Path(value).expanduser()
    return default_journal_path()


def prepare_directory(path: Path) -> None:
    """Create the journal's directory (and missing parents) readable by the user only.

    A directory we create, or smpctl's own data directory, is set to 0700. A directory the
    user chose that already exists is left as it is (it may be their home or a shared
    folder) with a warning if others can read it: the journal files themselves are 0600.
    """
    directory = path.parent
    created = not directory.exists()
    directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if created or directory == default_journal_path().parent:
        os.chmod(directory, DIR_MODE)
    elif stat.S_IMODE(directory.stat().st_mode) & 0o077:
        log.warning(
            "the journal's directory %s can be listed by other accounts; the journal files "
            "are readable by you only",
            directory,
        )


def create_private_file(path: Path) -> None:
    """Create ``path`` 0600 if missing, so SQLite (which copies the main file's mode to its
    -wal and -shm files) never makes a readable journal, whatever the umask."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, FILE_MODE)
    os.close(fd)
    tighten_files(path)


def tighten_files(path: Path) -> None:
    """Set the journal and its companion files to 0600."""
    for candidate in (path, *(Path(str(path) + s) for s in COMPANION_SUFFIXES)):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if stat.S_IMODE(candidate.stat().st_mode) != FILE_MODE:
                os.chmod(candidate, FILE_MODE)
