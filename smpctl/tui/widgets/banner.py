"""The SIMULATED banner: on every screen when the pen is the simulator."""

from __future__ import annotations

from textual.widgets import Static

SIM_TEXT = (
    "SIMULATED PEN — no needle is driven · sessions are recorded as simulated · "
    "p pedal · F5 stall · F6 over-heat · F7 over-current · F8 link drop"
)


class SimBanner(Static):
    def __init__(self) -> None:
        super().__init__(SIM_TEXT, id="sim-banner")


class StatusLine(Static):
    """One line under the banner: what the dashboard needs the practitioner to know now."""
