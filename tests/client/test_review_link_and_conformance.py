"""Review findings on the link's error messages and the conformance probe's retry rule."""

from __future__ import annotations

import pytest

from smpctl import errors
from smpctl.client import connect
from smpctl.conformance import CheckFailed, Probe
from smpctl.protocol import MsgType, Stop


@pytest.mark.parametrize("url", ["foo://pen", "/proc"])
def test_a_port_that_cannot_be_opened_says_what_to_do(url: str) -> None:
    with pytest.raises(errors.LinkError, match="smpctl devices"):
        connect(url)


class SilentLink:
    """A pen that never answers: counts what the probe sends."""

    url = "silent://"

    def __init__(self) -> None:
        self.commands = 0

    def read(self, max_bytes: int, timeout: float) -> bytes:
        return b""

    def write(self, data: bytes) -> None:
        if data[3] != MsgType.HEARTBEAT:
            self.commands += 1

    def close(self) -> None:
        return None


def test_conformance_probe_sends_a_command_at_most_four_times() -> None:
    """Protocol 7.5: re-send at most 3 times (4 sends in all); a host that sends more is not
    the host the pen's duplicate rule was written for."""
    link = SilentLink()
    with pytest.raises(CheckFailed):
        Probe(link).request(Stop(), timeout=0.05)
    assert link.commands == 4
