"""Shared set-up for the dashboard tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _settled_heap() -> Iterator[None]:
    """Earlier tests leave a large heap behind; a full garbage collection of it in the
    middle of a Pilot run can pause every thread for longer than the heartbeat lease, and
    the simulated pen's watchdog then (rightly) stops the needle. Collect before each
    test and move what survives out of the collector's way."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()
