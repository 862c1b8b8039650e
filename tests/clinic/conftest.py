"""A throwaway PostgreSQL cluster for the whole session (real server, Unix socket, no TCP),
a fresh database per test, and chairs whose journals are written with the journal's own
API. If PostgreSQL cannot start, every test here fails and says why: nothing is skipped."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import psycopg
import pytest
from clinic_support import Server
from psycopg import sql

from smpctl.clinic import init_server
from smpctl.clinic.scratch_cluster import ScratchCluster
from smpctl.errors import ClinicServerError

_dbs = itertools.count()


@pytest.fixture(scope="session")
def cluster() -> Iterator[ScratchCluster]:
    try:
        started = ScratchCluster(fsync=False).start()
    except (ClinicServerError, OSError) as exc:
        pytest.fail(
            f"the clinic tests need a real PostgreSQL (initdb/pg_ctl) and it could not be "
            f"started: {exc}. Install it: `apt-get install -y postgresql` "
            "(.ci/ensure_postgres.sh does this in CI).",
            pytrace=False,
        )
    yield started
    started.stop()


@pytest.fixture
def server(cluster: ScratchCluster) -> Iterator[Server]:
    db = f"t{next(_dbs)}_{os.getpid()}"
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    admin_url = cluster.url(db)
    init_server(admin_url)
    yield Server(cluster, db, admin_url)
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db)))
