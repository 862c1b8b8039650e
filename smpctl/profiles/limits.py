"""The limits in force: the strictest of the hard limits, the pen's, the clinic's and the
profile's, each bound remembering who set it so a refusal can say why.

The hard limits are imported from ``smpctl.hard_limits``, never restated; the pen's
``PenLimits`` are already capped by them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from smpctl import hard_limits as hard
from smpctl.client import PenLimits
from smpctl.errors import SetpointOutsideLimitsError

from .clinic import ClinicSettings
from .loader import LoadedProfile
from .model import Limits

HARD = "hard limit"
NO_LIMIT = "no limit"


@dataclass(frozen=True)
class Bound:
    value: float
    source: str


@dataclass(frozen=True)
class LimitsInForce:
    min_speed_hz: Bound
    max_speed_hz: Bound
    min_stroke_mm: Bound
    max_stroke_mm: Bound
    min_depth_mm: Bound
    max_depth_mm: Bound

    def check(self, name: str, value: float, came_from: str) -> None:
        """Refuse ``value`` for setpoint ``name`` (``speed_hz``, ``stroke_mm``, ``depth_mm``)
        unless it lies inside the bounds in force."""
        lo: Bound = getattr(self, f"min_{name}")
        hi: Bound = getattr(self, f"max_{name}")
        unit = name.rsplit("_", 1)[1].replace("hz", "Hz")
        if value < lo.value:
            limit = f"at least {lo.value:g} {unit} ({lo.source})"
            raise SetpointOutsideLimitsError(name, value, limit, came_from)
        if value > hi.value:
            limit = f"at most {hi.value:g} {unit} ({hi.source})"
            raise SetpointOutsideLimitsError(name, value, limit, came_from)

    def contains(self, name: str, value: float) -> bool:
        lo: Bound = getattr(self, f"min_{name}")
        hi: Bound = getattr(self, f"max_{name}")
        return lo.value <= value <= hi.value

    def as_dict(self) -> dict[str, dict[str, float | str]]:
        return {
            f.name: {"value": getattr(self, f.name).value, "source": getattr(self, f.name).source}
            for f in fields(self)
        }


def _hard() -> LimitsInForce:
    return LimitsInForce(
        min_speed_hz=Bound(0.0, NO_LIMIT),
        max_speed_hz=Bound(hard.MAX_SPEED_HZ, HARD),
        min_stroke_mm=Bound(hard.MIN_STROKE_MM, HARD),
        max_stroke_mm=Bound(hard.MAX_STROKE_MM, HARD),
        min_depth_mm=Bound(0.0, NO_LIMIT),
        max_depth_mm=Bound(hard.MAX_DEPTH_MM, HARD),
    )


def tighten(current: LimitsInForce, values: dict[str, float | None], source: str) -> LimitsInForce:
    changes: dict[str, Bound] = {}
    for name, value in values.items():
        if value is None:
            continue
        bound: Bound = getattr(current, name)
        stricter = value > bound.value if name.startswith("min_") else value < bound.value
        if stricter:
            changes[name] = Bound(float(value), source)
    if not changes:
        return current
    merged = {f.name: changes.get(f.name, getattr(current, f.name)) for f in fields(current)}
    return LimitsInForce(**merged)


def limits_in_force(
    *,
    pen: PenLimits | None = None,
    pen_name: str = "the pen",
    clinic: Limits | None = None,
    clinic_name: str = "clinic settings",
    profile: Limits | None = None,
    profile_name: str = "the profile",
) -> LimitsInForce:
    """Strictest of all; on a tie the earlier source (hard, pen, clinic, profile) is named."""
    limits = _hard()
    if pen is not None:
        limits = tighten(
            limits,
            {
                "max_speed_hz": pen.max_speed_hz,
                "min_stroke_mm": pen.min_stroke_mm,
                "max_stroke_mm": pen.max_stroke_mm,
                "min_depth_mm": pen.min_depth_mm,
                "max_depth_mm": pen.max_depth_mm,
            },
            f"{pen_name}'s own limit",
        )
    for settings, source in ((clinic, clinic_name), (profile, profile_name)):
        if settings is not None:
            limits = tighten(limits, settings.model_dump(), source)
    return limits


def limits_for(
    loaded: LoadedProfile,
    *,
    pen: PenLimits | None = None,
    pen_name: str = "the pen",
    clinic: ClinicSettings | None = None,
) -> LimitsInForce:
    """The limits in force for a profile: hard, the pen's, the clinic's, then the profile's
    ``[limits]``, each bound named by the file that set it."""
    limits = limits_in_force(
        pen=pen,
        pen_name=pen_name,
        clinic=clinic.limits if clinic is not None else None,
        clinic_name=clinic.name if clinic is not None else "clinic settings",
    )
    for name, value in loaded.profile.limits.model_dump().items():
        key = f"limits.{name}"
        limits = tighten(limits, {name: value}, f"{loaded.origin(key)} [limits]")
    return limits
