"""The practitioner: a hand that taps dots and glides between them, and a foot on the pedal.

The host tells needle-in-skin from needle-in-air only by the motor current, so the hand
must make contact the way a real one does: short, irregular touches of varying pressure.
The pen counts true in-skin strokes from this model (ground truth for tests).
"""

from __future__ import annotations

import random

from .options import HAND_AUTO

CONTACT_S = (0.03, 0.20)
"""A dot: a touch of tens of ms up to ~200 ms (a few to ~25 strokes at 120 Hz)."""
GAP_S = (0.05, 0.30)
"""Lifting and moving ~1 mm to the next dot."""
PRESSURE = (0.6, 1.45)
"""Load of one touch relative to nominal: hands press unevenly (±40 %)."""


class HandModel:
    """Skin load on the needle, as a fraction of nominal (0 = in air).

    ``skin_load_pct`` >= 0 holds a constant load (the pen pressed steadily);
    HAND_AUTO runs the tapping hand while the pedal is down.
    """

    __slots__ = ("_load", "_phase_left_s", "_rng", "in_contact", "skin_load_pct")

    def __init__(self, rng: random.Random, skin_load_pct: int = HAND_AUTO) -> None:
        self._rng = rng
        self.skin_load_pct = skin_load_pct
        self.in_contact = False
        self._load = 0.0
        self._phase_left_s = 0.0

    def step(self, dt: float, pedal_down: bool) -> float:
        """Advance ``dt`` seconds; returns the load factor over that interval."""
        if self.skin_load_pct != HAND_AUTO:
            self.in_contact = self.skin_load_pct > 0
            return self.skin_load_pct / 100.0
        if not pedal_down:
            self.in_contact = False
            self._phase_left_s = self._rng.uniform(*GAP_S) * 0.5
            return 0.0
        self._phase_left_s -= dt
        if self._phase_left_s <= 0.0:
            rng = self._rng
            self.in_contact = not self.in_contact
            if self.in_contact:
                self._phase_left_s += rng.uniform(*CONTACT_S)
                self._load = rng.uniform(*PRESSURE)
            else:
                self._phase_left_s += rng.uniform(*GAP_S)
        return self._load if self.in_contact else 0.0


PASS_S = (2.0, 6.0)
REST_S = (1.0, 3.0)


class FootModel:
    """The pedal. Manual unless automatic: then passes of a few seconds with rests between,
    so a dashboard demo shows passes without anyone at the pedal."""

    __slots__ = ("_left_s", "_rng", "automatic", "pedal_down")

    def __init__(self, rng: random.Random, *, pedal_down: bool = False, automatic: bool = False):
        self._rng = rng
        self.pedal_down = pedal_down
        self.automatic = automatic
        self._left_s = rng.uniform(*REST_S)

    def press(self, down: bool) -> None:
        """A manual press takes over from the automatic foot."""
        self.automatic = False
        self.pedal_down = down

    def step(self, dt: float) -> bool:
        if self.automatic:
            self._left_s -= dt
            if self._left_s <= 0.0:
                self.pedal_down = not self.pedal_down
                self._left_s += self._rng.uniform(*(PASS_S if self.pedal_down else REST_S))
        return self.pedal_down
