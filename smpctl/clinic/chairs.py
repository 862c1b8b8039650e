"""Chairs and clinics on the server: each chair signs in with its own database role.

The administrator (the database's owner, with CREATEROLE) adds a chair: a LOGIN role, member
of ``smpctl_chair``, with its own password, recorded in ``smpctl.chairs`` against its
clinic. Row-level security then names the chair by its role.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from smpctl.errors import ClinicServerError

from .connection import open_server, server_errors, server_label
from .server_schema import CHAIR_GROUP, check_version

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Chair:
    id: int
    name: str
    role: str
    clinic: str

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _check_name(name: str, what: str) -> None:
    if not NAME_PATTERN.match(name):
        raise ClinicServerError(
            f"{what} {name!r} is not usable as a database role: use lower-case letters, digits "
            "and _ (starting with a letter, at most 63)"
        )


def add_chair(url: str, name: str, password: str, *, clinic: str, role: str | None = None) -> Chair:
    """Create the chair's role and record it against ``clinic`` (created if new)."""
    role = role or name
    _check_name(role, "the role name")
    if not password:
        raise ClinicServerError("a chair needs a password")
    if not clinic.strip():
        raise ClinicServerError("a chair belongs to a clinic: give --clinic NAME")
    with open_server(url) as conn, server_errors(url):
        check_version(conn, server_label(url))
        with conn.transaction():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if exists:
                raise ClinicServerError(
                    f"a database role {role!r} exists already: choose another chair name "
                    "(or --role ROLE)"
                )
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                    sql.Identifier(role), sql.Literal(password), sql.Identifier(CHAIR_GROUP)
                )
            )
            conn.execute(
                "INSERT INTO smpctl.clinics (name) VALUES (%s) ON CONFLICT (name) DO NOTHING",
                (clinic,),
            )
            row = conn.execute(
                "INSERT INTO smpctl.chairs (clinic_id, name, role_name) "
                "SELECT id, %s, %s FROM smpctl.clinics WHERE name = %s RETURNING id",
                (name, role, clinic),
            ).fetchone()
            assert row is not None
            return Chair(int(row[0]), name, role, clinic)


def list_chairs(url: str) -> list[Chair]:
    with open_server(url) as conn, server_errors(url):
        check_version(conn, server_label(url))
        return chairs_of(conn)


def chairs_of(conn: psycopg.Connection[Any]) -> list[Chair]:
    rows = conn.execute(
        "SELECT c.id, c.name, c.role_name, k.name FROM smpctl.chairs c "
        "JOIN smpctl.clinics k ON k.id = c.clinic_id ORDER BY k.name, c.name"
    ).fetchall()
    return [Chair(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def signed_in_chair(conn: psycopg.Connection[Any]) -> Chair | None:
    """The chair this connection signed in as (None: not a chair, e.g. the administrator)."""
    row = conn.execute(
        "SELECT c.id, c.name, c.role_name, k.name FROM smpctl.chairs c "
        "JOIN smpctl.clinics k ON k.id = c.clinic_id WHERE c.role_name = current_user"
    ).fetchone()
    return Chair(int(row[0]), str(row[1]), str(row[2]), str(row[3])) if row else None
