"""Signing in to the clinic server, and the one boundary where psycopg's errors become
smpctl's (no database exception leaks past this package; no message shows a password)."""

from __future__ import annotations

import contextlib
import getpass
import os
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
import psycopg.conninfo

from smpctl import errors

ENV_VAR = "SMPCTL_SERVER"
CONNECT_TIMEOUT_S = 5
APPLICATION_NAME = "smpctl"

SQLSTATE_CHAIN = "SM001"
SQLSTATE_APPEND_ONLY = "SM002"
SQLSTATE_OTHER_CHAIR = "SM003"


def resolve_server_url(
    option: str | None, env: Mapping[str, str] | None = None, clinic_server: str | None = None
) -> str:
    """``--server URL`` first, then ``SMPCTL_SERVER``, then the clinic settings' server."""
    if option:
        return option
    value = (os.environ if env is None else env).get(ENV_VAR)
    if value:
        return value
    if clinic_server:
        return clinic_server
    raise errors.ServerNotConfiguredError()


def _params(url: str) -> dict[str, Any]:
    try:
        return psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise errors.ClinicServerError(
            "the server URL is not a PostgreSQL URL: write postgresql://CHAIR@HOST/DATABASE"
        ) from None


def role_of(url: str) -> str:
    params = _params(url)
    return str(params.get("user") or os.environ.get("PGUSER") or getpass.getuser())


def server_label(url: str) -> str:
    """``role@host/database``: how messages name a server (never with its password)."""
    params = _params(url)
    host = str(params.get("host") or os.environ.get("PGHOST") or "localhost")
    if host.startswith("/"):
        host = "local socket"
    port = f":{params['port']}" if params.get("port") else ""
    db = params.get("dbname") or os.environ.get("PGDATABASE") or role_of(url)
    return f"{role_of(url)}@{host}{port}/{db}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if "FATAL:" in line:
            return line.split("FATAL:", 1)[1].strip()
    line = text.splitlines()[-1] if text else type(exc).__name__
    return line.split("failed: ", 1)[-1].strip()


def translate(exc: psycopg.Error, url: str) -> errors.ClinicServerError:
    """The smpctl error for a database error raised while using the server at ``url``."""
    server = server_label(url)
    state = getattr(exc, "sqlstate", None)
    text = str(exc)
    if state == SQLSTATE_APPEND_ONLY:
        return errors.ServerRefusedError(
            f"the clinic server {server} refused: {_message(exc)}. Synced records cannot be "
            "edited or deleted; record a correction at the chair instead."
        )
    if state == SQLSTATE_OTHER_CHAIR:
        return errors.ServerRefusedError(
            f"the clinic server {server} refused: {_message(exc)}. Each journal syncs as the "
            "chair that first pushed it; sign in as that chair."
        )
    if state == "42501":
        return errors.ServerRefusedError(
            f"the clinic server {server} refused {role_of(url)!r}: {_message(exc)}. A chair "
            "may add only its own records and read only its clinic's."
        )
    if state is None and isinstance(exc, psycopg.OperationalError):
        low = text.lower()
        if "authentication failed" in low or "no pg_hba.conf entry" in low:
            return errors.ServerAuthError(server, role_of(url))
        return errors.ServerUnreachableError(server, _first_line(exc))
    if state is not None and state.startswith(("08", "57")):
        return errors.ServerUnreachableError(server, _message(exc))
    if state == "28P01" or (state or "").startswith("28"):
        return errors.ServerAuthError(server, role_of(url))
    return errors.ClinicServerError(f"the clinic server {server} reported: {_message(exc)}")


def _message(exc: psycopg.Error) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return str(primary or _first_line(exc))


@contextlib.contextmanager
def server_errors(url: str) -> Iterator[None]:
    """Raise smpctl errors for whatever psycopg raises inside the block."""
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc, url) from None


def open_server(
    url: str, *, autocommit: bool = True, timeout_s: int = CONNECT_TIMEOUT_S
) -> psycopg.Connection[Any]:
    """A connection to the clinic server, or an error that says what to do. Autocommit by
    default: every ``conn.transaction()`` block is then a real transaction that commits at
    its end (not a savepoint inside one long transaction), which is what makes a push
    resumable batch by batch."""
    with server_errors(url):
        return psycopg.connect(
            url,
            autocommit=autocommit,
            connect_timeout=timeout_s,
            application_name=APPLICATION_NAME,
        )
