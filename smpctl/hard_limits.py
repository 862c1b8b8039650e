"""The hard safety limits: the one place they are written down.

Nothing smpctl sends may exceed these, whatever a profile, a clinic setting or a pen says.
Limits in force are the strictest of these, the pen's own (from the handshake), the clinic's
settings and the profile. Figures from shared/domain.md ("Hard limits").
"""

from __future__ import annotations

from typing import Final

MAX_DEPTH_MM: Final = 2.0
WARN_DEPTH_MM: Final = 1.5
MIN_STROKE_MM: Final = 2.0
MAX_STROKE_MM: Final = 4.0
MAX_SPEED_HZ: Final = 150.0
MAX_SLEW_HZ_PER_S: Final = 2000.0
"""Speed changes are slew-limited: no step from 0 to full."""

UNDERSPEED_WARN_FRACTION: Final = 0.8
UNDERSPEED_WARN_S: Final = 0.25
UNDERSPEED_STOP_FRACTION: Final = 0.5
UNDERSPEED_STOP_S: Final = 0.1

MAX_CURRENT_A: Final = 3.0
MAX_TEMP_C: Final = 41.0
MIN_BATTERY_PCT: Final = 15

MIN_WATCHDOG_MS: Final = 200
MAX_WATCHDOG_MS: Final = 500
PEDAL_RELEASE_STOP_S: Final = 0.1

# Micro-injury dose: punctures per cm² in one session (shared/domain.md, "Micro-injury";
# the arithmetic is in docs/dose.md). A profile's per-zone ceiling may not be set above
# these; the shipped ceilings are half of these or less.
MAX_SMP_DOSE_CEILING_PER_CM2: Final = 3600.0
"""100 dots/cm² (the densest SMP pattern, dots 1 mm apart) × 12 strokes a dot (the top of
"a few to a dozen") × 3 needles (3RL): a whole treatment's final density laid in one
session with every figure at its top. An SMP dot's strokes re-enter the same spot, so its
punctures are bounded by the dots; no single session can need more."""
MAX_MICRONEEDLING_DOSE_CEILING_PER_CM2: Final = 600.0
"""Twice the top of published pen practice (250–300 punctures/cm² a session). Microneedling
spreads its punctures: at 600/cm², 0.25 mm needle holes (0.049 mm² each) would open ~30 %
of the skin's surface (600 × 0.049 = 29 mm² of every 100 mm²), past micro-injury."""
