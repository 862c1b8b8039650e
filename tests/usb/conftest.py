from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

import smpctl.sim as sim
from smpctl.sim.clock import VirtualClock
from smpctl.usb.simdev import SimUsbBus

_names = itertools.count()


@pytest.fixture
def sim_name() -> Iterator[str]:
    """A fresh name on the simulated serial bus, powered off after the test."""
    name = f"usb{next(_names)}"
    yield name
    if sim.BUS.get(name) is not None:
        sim.BUS.power_off(name)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def usb_bus(clock: VirtualClock) -> SimUsbBus:
    """A simulated USB bus on virtual time (DFU poll timeouts cost nothing)."""
    return SimUsbBus(clock=clock.now)
