from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

import smpctl.sim as sim

_names = itertools.count()


@pytest.fixture
def sim_name() -> Iterator[str]:
    """A fresh name on the simulated USB bus, powered off after the test."""
    name = f"journal{next(_names)}"
    yield name
    if sim.BUS.get(name) is not None:
        sim.BUS.power_off(name)


@pytest.fixture
def journal_file(tmp_path: Path) -> Path:
    return tmp_path / "private" / "journal.sqlite3"
