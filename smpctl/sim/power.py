"""Where the motor's power comes from: the pen's battery, or a bench supply."""

from __future__ import annotations

BATTERY_EMPTY_V = 9.9
BATTERY_FULL_V = 12.3
"""A 3-cell Li-ion pack: ~12.3 V full, ~9.9 V empty (3.3 V a cell)."""


class PowerSource:
    """Battery EMF behind an internal resistance, so the supply sags under load and a weak
    battery limits top speed, as on a real cordless pen."""

    __slots__ = ("battery_pct", "capacity_ah", "external_mv", "idle_draw_a", "internal_ohm")

    def __init__(
        self,
        battery_pct: float = 100.0,
        capacity_ah: float = 2.0,
        internal_ohm: float = 0.3,
        idle_draw_a: float = 0.02,
    ) -> None:
        self.battery_pct = battery_pct
        self.capacity_ah = capacity_ah
        self.internal_ohm = internal_ohm
        self.idle_draw_a = idle_draw_a
        self.external_mv = 0
        """Non-zero: a bench supply of this EMF feeds the pen and the battery is not drawn."""

    @property
    def emf_v(self) -> float:
        if self.external_mv:
            return self.external_mv / 1000.0
        return BATTERY_EMPTY_V + (BATTERY_FULL_V - BATTERY_EMPTY_V) * self.battery_pct / 100.0

    def draw(self, amps: float, dt: float) -> None:
        if self.external_mv:
            return
        used_pct = (amps + self.idle_draw_a) * dt / 3600.0 / self.capacity_ah * 100.0
        self.battery_pct = max(0.0, self.battery_pct - used_pct)
