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
