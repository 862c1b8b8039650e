"""How a dose reads on the dashboard: a number, a bar toward the target, a band of the
scalp map's shading, days since a zone was last treated. The same words on every screen, so
a figure in the zone table is the one in the end-of-session summary and the history."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from smpctl.dose import DoseCheck, DoseState
from smpctl.journal.doses import ZoneDoseHistory


def dose_bar(fraction: float, width: int = 10) -> str:
    """``██████░░░░``: the share of the target done (full at the target and beyond)."""
    filled = max(0, min(width, math.floor(fraction * width + 1e-9)))
    return "█" * filled + "░" * (width - filled)


def dose_shade(check: DoseCheck | None) -> tuple[str, int] | None:
    """The scalp map's shading of a zone: (band, whole tens of % of the target), or None
    for a zone without dose or bounds. Bands: low (< 50 % of the target), mid, target
    (reached), near (the ceiling), ceiling."""
    if check is None or check.per_cm2 <= 0:
        return None
    tens = min(990, math.floor(check.fraction_of_target * 10 + 1e-9) * 10)
    if check.state is DoseState.AT_CEILING:
        return "ceiling", tens
    if check.state is DoseState.NEAR:
        return "near", tens
    if check.target_reached:
        return "target", tens
    return ("low" if check.fraction_of_target < 0.5 else "mid"), tens


def percent_of(per_cm2: float, target_per_cm2: float) -> int:
    """Whole percent of the target, rounded down like the guard's messages (a zone shown
    at 100 % has reached its target)."""
    return min(999, math.floor(per_cm2 / target_per_cm2 * 100 + 1e-9))


def dose_text(per_cm2: float | None) -> str:
    """A dose as shown everywhere on the dashboard: a tenth under 10, whole above."""
    if per_cm2 is None:
        return "—"
    return f"{per_cm2:.1f}" if 0 < per_cm2 < 10 else f"{per_cm2:.0f}"


def days_text(days: int | None) -> str:
    if days is None:
        return "never"
    if days == 0:
        return "today"
    return f"{days} d ago" if days > 0 else f"in {-days} d?"


def dose_history_lines(history: Mapping[str, ZoneDoseHistory], today: dt.date) -> list[str]:
    """Per treated zone: cumulative punctures/cm² over the client's sessions and when last
    treated (a floor, marked ≥, when some session's dose is unknown)."""
    lines = []
    for zone, h in history.items():
        if h.sessions == 0:
            continue
        floor = "≥" if h.unknown_sessions else " "
        last = h.last_treated_day.isoformat() if h.last_treated_day else "—"
        lines.append(
            f"  {zone:6}{floor}{dose_text(h.cumulative_per_cm2):>6}/cm² {h.sessions}× "
            f"last {last} ({days_text(h.days_since(today))})"
        )
    return lines
