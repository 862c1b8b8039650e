"""Profiles tests: never read the real home (profiles or clinic settings), fresh sim names."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import smpctl.sim as sim
from smpctl.profiles.loader import SHIPPED_DIR

_names = itertools.count()

BASE = SHIPPED_DIR / "smp-base.toml"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMPCTL_PROFILES", "")
    monkeypatch.setenv("SMPCTL_CLINIC", "")


@pytest.fixture
def sim_name() -> Iterator[str]:
    name = f"profiles{next(_names)}"
    yield name
    if sim.BUS.get(name) is not None:
        sim.BUS.power_off(name)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a TOML file (dedented) into tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write
