"""What a profile file may say, checked strictly at load.

A wrong number here puts a needle too deep into someone's scalp, so: unknown keys are errors,
numbers are never parsed from strings, every value carries its unit in its name and lies
inside the hard limits, and the rules that tie fields together (depth within the stroke,
soft start shorter than a pass, sane pulse times) are checked here, once.

Every field is optional in the models, because a profile that ``extends`` another may say
only what it changes; ``completeness_problems`` checks the merged result has everything.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, model_validator
from pydantic_core import PydanticCustomError

from smpctl import hard_limits as hard
from smpctl.errors import MISSING
from smpctl.zones import ScarKind, ZoneCode

MAX_SESSION = 6
"""A treatment is 2–4 sessions, scar zones one more; beyond this it is a new plan."""

CARTRIDGE_DIAMETER_MM = (0.18, 0.30)
"""SMP needle cartridges in use (shared/domain.md, "The pen"): 0.18–0.30 mm."""

RAMP_MS_RANGE = (0, 2000)
PULSE_MS_RANGE = (10, 1000)
"""What SET_RUN_MODE accepts (docs/protocol.md, 0x06); the client's builders check the same."""

MIN_PASS_MS_RANGE = (50, 60_000)
"""A pass is one pedal-down: a single dot is tens of ms, a long glide under a minute."""

SPEED_CHANGE_PCT_RANGE = (-50.0, 50.0)
MM_CHANGE_RANGE = (-1.0, 1.0)
"""Modifiers are corrections of a few tenths of a millimetre or a few percent; a bigger
change belongs in the zone's own values, where it is visible."""

ProblemList = list[tuple[tuple[str | int, ...], object, str]]
"""(key path relative to the model, bad value, what is allowed) -- see ``_raise_problems``."""


class NeedleKind(StrEnum):
    """Cartridge configuration: single round liner (hairline, temples) or three (fill)."""

    RL1 = "1RL"
    RL3 = "3RL"


class RunModeName(StrEnum):
    CONTINUOUS = "continuous"
    PULSED = "pulsed"
    """Dotting: the motor runs ``pulse_on_ms`` then pauses ``pulse_off_ms`` while the pedal
    is down, so each touch lays a dot of a known number of strokes."""


class SkinCondition(StrEnum):
    """Skin modifiers a practitioner picks for the client (shared/domain.md)."""

    THIN = "thin"
    OILY = "oily"
    SCARRED = "scarred"
    SUN_DAMAGED = "sun-damaged"


def _range(lo: float, hi: float, unit: str, why: str, *, lo_open: bool = False) -> Any:
    span = f"above {lo:g} up to {hi:g}" if lo_open else f"{lo:g}–{hi:g}"
    allowed = f"allowed {span} {unit} ({why})"

    def check(value: float) -> float:
        if (value <= lo if lo_open else value < lo) or value > hi:
            raise PydanticCustomError("out_of_range", "{allowed}", {"allowed": allowed})
        return value

    return AfterValidator(check)


_HARD = "hard limits, smpctl.hard_limits"
SpeedHz = Annotated[float, Strict(), _range(0, hard.MAX_SPEED_HZ, "Hz", _HARD, lo_open=True)]
StrokeMm = Annotated[float, Strict(), _range(hard.MIN_STROKE_MM, hard.MAX_STROKE_MM, "mm", _HARD)]
DepthMm = Annotated[float, Strict(), _range(0, hard.MAX_DEPTH_MM, "mm", _HARD, lo_open=True)]
LimitDepthMm = Annotated[float, Strict(), _range(0, hard.MAX_DEPTH_MM, "mm", _HARD)]
LimitSpeedHz = Annotated[float, Strict(), _range(0, hard.MAX_SPEED_HZ, "Hz", _HARD)]
DiameterMm = Annotated[float, Strict(), _range(*CARTRIDGE_DIAMETER_MM, "mm", "SMP cartridges")]
RampMs = Annotated[int, Strict(), _range(*RAMP_MS_RANGE, "ms", "what the pen accepts")]
PulseMs = Annotated[int, Strict(), _range(*PULSE_MS_RANGE, "ms", "what the pen accepts")]
PassMs = Annotated[int, Strict(), _range(*MIN_PASS_MS_RANGE, "ms", "one pedal-down")]
SpeedChangePct = Annotated[
    float, Strict(), _range(*SPEED_CHANGE_PCT_RANGE, "%", "a modifier is a correction")
]
MmChange = Annotated[float, Strict(), _range(*MM_CHANGE_RANGE, "mm", "a modifier is a correction")]
SessionNumber = Annotated[int, Field(ge=1, le=MAX_SESSION)]
Text = Annotated[str, Strict()]


def _raise_problems(problems: ProblemList) -> None:
    if problems:
        raise PydanticCustomError(
            "cross_field",
            "{summary}",
            {"summary": "; ".join(p[2] for p in problems), "problems": problems},
        )


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(StrictModel):
    """Bounds that can only tighten the hard limits and the pen's (profile or clinic)."""

    min_speed_hz: LimitSpeedHz | None = None
    max_speed_hz: LimitSpeedHz | None = None
    min_stroke_mm: StrokeMm | None = None
    max_stroke_mm: StrokeMm | None = None
    min_depth_mm: LimitDepthMm | None = None
    max_depth_mm: LimitDepthMm | None = None

    @model_validator(mode="after")
    def _min_below_max(self) -> Limits:
        problems: ProblemList = []
        for quantity, unit in (("speed", "Hz"), ("stroke", "mm"), ("depth", "mm")):
            lo = getattr(self, f"min_{quantity}_{unit.lower()}")
            hi = getattr(self, f"max_{quantity}_{unit.lower()}")
            if lo is not None and hi is not None and lo > hi:
                problems.append(
                    (
                        (f"min_{quantity}_{unit.lower()}",),
                        lo,
                        f"must not exceed max_{quantity}_{unit.lower()} = {hi:g} {unit}",
                    )
                )
        _raise_problems(problems)
        return self


class RunSettings(StrictModel):
    """How the motor runs while the pedal is down, for every zone of the profile."""

    mode: RunModeName | None = None
    ramp_ms: RampMs | None = None
    min_pass_ms: PassMs | None = None
    pulse_on_ms: PulseMs | None = None
    pulse_off_ms: PulseMs | None = None

    @model_validator(mode="after")
    def _timing(self) -> RunSettings:
        problems: ProblemList = []
        ramp, min_pass = self.ramp_ms, self.min_pass_ms
        if ramp is not None and min_pass is not None and ramp >= min_pass:
            problems.append(
                (
                    ("ramp_ms",),
                    ramp,
                    f"the soft start must be shorter than a pass (min_pass_ms = {min_pass}), "
                    "or the needle never reaches speed in skin",
                )
            )
        if self.mode is RunModeName.CONTINUOUS:
            for key in ("pulse_on_ms", "pulse_off_ms"):
                if getattr(self, key) is not None:
                    problems.append(
                        ((key,), getattr(self, key), 'only with mode = "pulsed"; remove it')
                    )
        if self.mode is RunModeName.PULSED:
            on, off = self.pulse_on_ms, self.pulse_off_ms
            if on is not None and off is not None and min_pass is not None and on + off > min_pass:
                problems.append(
                    (
                        ("pulse_off_ms",),
                        off,
                        f"pulse_on_ms + pulse_off_ms must fit in one pass (min_pass_ms = "
                        f"{min_pass}), so each pass lays at least one whole dot",
                    )
                )
            if on is not None and self.ramp_ms is not None and self.ramp_ms > on:
                problems.append(
                    (
                        ("ramp_ms",),
                        self.ramp_ms,
                        f"in pulsed mode the soft start must not be longer than one dot "
                        f"(pulse_on_ms = {on}), or the first dot goes in slow",
                    )
                )
        _raise_problems(problems)
        return self


class Adjustment(StrictModel):
    """A change laid over a zone's values: a session, a skin condition or a scar overlay.

    Changes add (mm) or scale (%); a needle given here replaces the zone's.
    """

    description: Text | None = None
    needle: NeedleKind | None = None
    needle_diameter_mm: DiameterMm | None = None
    speed_change_pct: SpeedChangePct | None = None
    stroke_change_mm: MmChange | None = None
    depth_change_mm: MmChange | None = None


class SessionOverride(StrictModel):
    """A zone's own values for one session, replacing the zone's (absolute, not a change)."""

    description: Text | None = None
    needle: NeedleKind | None = None
    needle_diameter_mm: DiameterMm | None = None
    speed_hz: SpeedHz | None = None
    stroke_mm: StrokeMm | None = None
    depth_mm: DepthMm | None = None


class ZoneSettings(StrictModel):
    description: Text | None = None
    max_depth_mm: DepthMm | None = None
    """The deepest this zone may ever go, whatever session, skin or scar (domain.md gives
    1.2 mm for the hairline, temples and nape, 1.5 mm elsewhere)."""
    needle: NeedleKind | None = None
    needle_diameter_mm: DiameterMm | None = None
    speed_hz: SpeedHz | None = None
    stroke_mm: StrokeMm | None = None
    depth_mm: DepthMm | None = None
    sessions: dict[SessionNumber, SessionOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _depth_within_stroke(self) -> ZoneSettings:
        problems: ProblemList = []
        depth, stroke = self.depth_mm, self.stroke_mm
        if depth is not None and stroke is not None and depth > stroke:
            problems.append(
                (
                    ("depth_mm",),
                    depth,
                    f"depth must not exceed the stroke (stroke_mm = {stroke:g})",
                )
            )
        deepest = self.max_depth_mm
        if deepest is not None:
            places: list[tuple[tuple[str | int, ...], float | None]] = [
                (("depth_mm",), self.depth_mm)
            ]
            places += [(("sessions", n, "depth_mm"), o.depth_mm) for n, o in self.sessions.items()]
            for path, value in places:
                if value is not None and value > deepest:
                    problems.append(
                        (path, value, f"deeper than this zone's max_depth_mm = {deepest:g}")
                    )
        for number, override in sorted(self.sessions.items()):
            depth = override.depth_mm if override.depth_mm is not None else self.depth_mm
            stroke = override.stroke_mm if override.stroke_mm is not None else self.stroke_mm
            if depth is not None and stroke is not None and depth > stroke:
                key = "depth_mm" if override.depth_mm is not None else "stroke_mm"
                problems.append(
                    (
                        ("sessions", number, key),
                        getattr(override, key),
                        f"in session {number} the depth ({depth:g} mm) must not exceed the "
                        f"stroke ({stroke:g} mm)",
                    )
                )
        _raise_problems(problems)
        return self


class ProfileFile(StrictModel):
    """One profile file as written (``extends`` and ``description`` are the file's own)."""

    description: Text | None = None
    extends: Text | None = None
    limits: Limits = Field(default_factory=Limits)
    run: RunSettings = Field(default_factory=RunSettings)
    sessions: dict[SessionNumber, Adjustment] = Field(default_factory=dict)
    zones: dict[ZoneCode, ZoneSettings] = Field(default_factory=dict)
    skin: dict[SkinCondition, Adjustment] = Field(default_factory=dict)
    scars: dict[ScarKind, Adjustment] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _zones_within_own_limits(self) -> ProfileFile:
        """A profile's values must respect the profile's own ``[limits]``."""
        lim = self.limits
        problems: ProblemList = []
        bounds = (
            ("speed_hz", lim.min_speed_hz, lim.max_speed_hz, "Hz"),
            ("stroke_mm", lim.min_stroke_mm, lim.max_stroke_mm, "mm"),
            ("depth_mm", lim.min_depth_mm, lim.max_depth_mm, "mm"),
        )
        for code, zone in self.zones.items():
            places: list[tuple[tuple[str | int, ...], ZoneSettings | SessionOverride]] = [
                (("zones", code.value), zone)
            ]
            places += [
                (("zones", code.value, "sessions", n), o) for n, o in sorted(zone.sessions.items())
            ]
            for prefix, values in places:
                for key, lo, hi, unit in bounds:
                    value = getattr(values, key)
                    if value is None:
                        continue
                    if (lo is not None and value < lo) or (hi is not None and value > hi):
                        low = f"{lo:g}" if lo is not None else "0"
                        high = f"{hi:g}" if hi is not None else "the hard limit"
                        problems.append(
                            (
                                (*prefix, key),
                                value,
                                f"allowed {low}–{high} {unit} (this profile's [limits])",
                            )
                        )
        _raise_problems(problems)
        return self


ZONE_REQUIRED = ("needle", "needle_diameter_mm", "speed_hz", "stroke_mm", "depth_mm")
RUN_REQUIRED = ("mode", "ramp_ms", "min_pass_ms")


def completeness_problems(profile: ProfileFile) -> ProblemList:
    """What a merged profile still lacks before any zone can be resolved."""
    problems: ProblemList = []
    for key in RUN_REQUIRED:
        if getattr(profile.run, key) is None:
            problems.append((("run", key), MISSING, "required"))
    if profile.run.mode is RunModeName.PULSED:
        for key in ("pulse_on_ms", "pulse_off_ms"):
            if getattr(profile.run, key) is None:
                problems.append((("run", key), MISSING, 'required with mode = "pulsed"'))
    if not profile.zones:
        problems.append((("zones",), MISSING, "required: at least one zone table, e.g. [zones.HL]"))
    for code, zone in profile.zones.items():
        for key in ZONE_REQUIRED:
            if getattr(zone, key) is None:
                problems.append((("zones", code.value, key), MISSING, "required for every zone"))
    return problems
