from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import smpctl.sim as sim
from smpctl.client import Pen

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


def wait_until(pred: Callable[[], bool], timeout: float, pen: Pen | None = None) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pen is not None:
            pen.alive()
        if pred():
            return True
        time.sleep(0.005)
    return pred()


def hold(pen: Pen, seconds: float) -> None:
    """Let real time pass while the application stays alive (heartbeats continue)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pen.alive()
        time.sleep(0.01)
