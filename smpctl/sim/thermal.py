"""Handpiece temperature: one thermal mass heated by the winding, cooled to ambient."""

from __future__ import annotations


class HandpieceThermal:
    """First order, time constant ~3 minutes: a pen warms over a session, not a pass.

    ``fault_heat_w`` models an injected fault (seized bearing, blocked vent) strong enough
    to cross the 41 °C limit within seconds, so the over-temperature stop can be tested.
    """

    __slots__ = (
        "ambient_c",
        "fault_heat_w",
        "heat_capacity_j_per_k",
        "resistance_k_per_w",
        "temp_c",
    )

    def __init__(
        self,
        ambient_c: float = 25.0,
        heat_capacity_j_per_k: float = 22.5,
        resistance_k_per_w: float = 8.0,
    ) -> None:
        self.ambient_c = ambient_c
        self.temp_c = ambient_c
        self.heat_capacity_j_per_k = heat_capacity_j_per_k
        self.resistance_k_per_w = resistance_k_per_w
        self.fault_heat_w = 0.0

    def step(self, heat_w: float, dt: float) -> None:
        loss_w = (self.temp_c - self.ambient_c) / self.resistance_k_per_w
        self.temp_c += (heat_w + self.fault_heat_w - loss_w) / self.heat_capacity_j_per_k * dt
