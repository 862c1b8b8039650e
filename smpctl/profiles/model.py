"""What a profile file may say, checked strictly at load.

A wrong number here puts a needle too deep into someone's scalp, so: unknown keys are errors,
numbers are never parsed from strings, every value carries its unit in its name and lies
inside the hard limits, and the rules that tie fields together (depth within the stroke,
soft start shorter than a pass, sane pulse times, a dose target within its ceiling) are
checked here, once.

Every field is optional in the models, because a profile that ``extends`` another may say
only what it changes; ``completeness_problems`` checks the merged result has everything.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, model_validator
from pydantic_core import PydanticCustomError

from smpctl import hard_limits as hard
from smpctl.dose import CartridgeKind
from smpctl.errors import MISSING
from smpctl.zones import ScarKind, ZoneCode

from .problems import dotted

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

MAX_INTERVAL_DAYS = 365
"""A year between two sessions on a zone is a new treatment plan, not an interval; a bigger
number is a slip (hours or weeks written as days)."""

DOSE_UNIT = "punctures/cm²"

ProblemList = list[tuple[tuple[str | int, ...], object, str]]
"""(key path relative to the model, bad value, what is allowed) -- see ``_raise_problems``."""
Related = dict[int, tuple[str | int, ...]]
"""Problem index -> the other key a cross-field problem involves (so the message can name
the file that set it when that is another file)."""


class ProfileKind(StrEnum):
    """What a profile treats with: pigment dots, or needling without pigment."""

    SMP = "smp"
    MICRONEEDLING = "microneedling"


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
PerCm2 = Annotated[
    float,
    Strict(),
    _range(0, hard.MAX_SMP_DOSE_CEILING_PER_CM2, DOSE_UNIT, _HARD, lo_open=True),
]
"""Checked again against the microneedling maximum once the profile's kind is known."""
IntervalDays = Annotated[
    int,
    Strict(),
    _range(0, MAX_INTERVAL_DAYS, "days", "0: no minimum; a year or more is a new plan"),
]
SessionNumber = Annotated[int, Field(ge=1, le=MAX_SESSION)]
Text = Annotated[str, Strict()]


def _raise_problems(problems: ProblemList, related: Related | None = None) -> None:
    if problems:
        raise PydanticCustomError(
            "cross_field",
            "{summary}",
            {
                "summary": "; ".join(p[2] for p in problems),
                "problems": problems,
                "related": related or {},
            },
        )


def _target_within_ceiling(
    target: float | None,
    ceiling: float | None,
    target_path: tuple[str | int, ...],
    ceiling_path: tuple[str | int, ...],
    problems: ProblemList,
    related: Related,
) -> None:
    if target is None or ceiling is None or target <= ceiling:
        return
    related[len(problems)] = ceiling_path
    problems.append(
        (
            target_path,
            target,
            f"must not exceed {dotted(ceiling_path)} = {ceiling:g} {DOSE_UNIT}: the target "
            "is what a session aims for, the ceiling where it stops; lower the target or "
            "raise the ceiling",
        )
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
    dose_target_per_cm2: PerCm2 | None = None
    dose_ceiling_per_cm2: PerCm2 | None = None


class ZoneSettings(StrictModel):
    description: Text | None = None
    max_depth_mm: DepthMm | None = None
    """The deepest this zone may ever go, whatever session, skin or scar (domain.md gives
    1.2 mm for the hairline, temples and nape, 1.5 mm elsewhere)."""
    needle: NeedleKind | None = None
    needle_diameter_mm: DiameterMm | None = None
    cartridges: list[CartridgeKind] | None = None
    """Microneedling: the cartridge kinds this zone expects, replacing the profile's list."""
    speed_hz: SpeedHz | None = None
    stroke_mm: StrokeMm | None = None
    depth_mm: DepthMm | None = None
    dose_target_per_cm2: PerCm2 | None = None
    """Punctures per cm² a session aims for on this zone (docs/dose.md)."""
    dose_ceiling_per_cm2: PerCm2 | None = None
    """Punctures per cm² at which a session stops on this zone (until overridden)."""
    min_interval_days: IntervalDays | None = None
    """Fewest days between two sessions that treat this zone."""
    sessions: dict[SessionNumber, SessionOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _zone_rules(self) -> ZoneSettings:
        problems: ProblemList = []
        related: Related = {}
        if self.cartridges is not None:
            problems += _cartridge_list_problems(self.cartridges, ("cartridges",))
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
        target, ceiling = "dose_target_per_cm2", "dose_ceiling_per_cm2"
        _target_within_ceiling(
            self.dose_target_per_cm2,
            self.dose_ceiling_per_cm2,
            (target,),
            (ceiling,),
            problems,
            related,
        )
        for number, override in sorted(self.sessions.items()):
            own_target = override.dose_target_per_cm2 is not None
            own_ceiling = override.dose_ceiling_per_cm2 is not None
            if not (own_target or own_ceiling):
                continue
            _target_within_ceiling(
                override.dose_target_per_cm2 if own_target else self.dose_target_per_cm2,
                override.dose_ceiling_per_cm2 if own_ceiling else self.dose_ceiling_per_cm2,
                ("sessions", number, target) if own_target else (target,),
                ("sessions", number, ceiling) if own_ceiling else (ceiling,),
                problems,
                related,
            )
        _raise_problems(problems, related)
        return self


def _cartridge_list_problems(
    cartridges: list[CartridgeKind], path: tuple[str | int, ...]
) -> ProblemList:
    problems: ProblemList = []
    if not cartridges:
        problems.append((path, [], 'list at least one cartridge kind, e.g. ["12-pin", "36-pin"]'))
    seen: set[CartridgeKind] = set()
    for i, kind in enumerate(cartridges):
        if kind in seen:
            problems.append(((*path, i), kind.value, "listed twice; remove one"))
        seen.add(kind)
    return problems


class ProfileFile(StrictModel):
    """One profile file as written (``extends`` and ``description`` are the file's own)."""

    description: Text | None = None
    extends: Text | None = None
    kind: ProfileKind | None = None
    """``smp`` when no file of the chain says (profiles written before microneedling)."""
    cartridges: list[CartridgeKind] | None = None
    """Microneedling: the cartridge kinds every zone expects unless it lists its own."""
    limits: Limits = Field(default_factory=Limits)
    run: RunSettings = Field(default_factory=RunSettings)
    sessions: dict[SessionNumber, Adjustment] = Field(default_factory=dict)
    zones: dict[ZoneCode, ZoneSettings] = Field(default_factory=dict)
    skin: dict[SkinCondition, Adjustment] = Field(default_factory=dict)
    scars: dict[ScarKind, Adjustment] = Field(default_factory=dict)

    @property
    def profile_kind(self) -> ProfileKind:
        return self.kind if self.kind is not None else ProfileKind.SMP

    @model_validator(mode="after")
    def _zones_within_own_limits(self) -> ProfileFile:
        """A profile's values must respect the profile's own ``[limits]``."""
        lim = self.limits
        problems: ProblemList = []
        if self.cartridges is not None:
            problems += _cartridge_list_problems(self.cartridges, ("cartridges",))
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


ZONE_REQUIRED = ("speed_hz", "stroke_mm", "depth_mm")
NEEDLE_KEYS = ("needle", "needle_diameter_mm")
"""Required in every SMP zone; never in a microneedling profile (it has ``cartridges``)."""
RUN_REQUIRED = ("mode", "ramp_ms", "min_pass_ms")
DOSE_KEYS = ("dose_target_per_cm2", "dose_ceiling_per_cm2", "min_interval_days")
SESSION_DOSE_KEYS = ("dose_target_per_cm2", "dose_ceiling_per_cm2")


def completeness_problems(profile: ProfileFile) -> ProblemList:
    """What a merged profile still lacks, or mixes from the other kind, before any zone can
    be resolved. Rules that depend on the kind live here, not in the models: a file that
    extends another may leave ``kind`` to its parent."""
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
    smp = profile.profile_kind is ProfileKind.SMP
    for code, zone in profile.zones.items():
        for key in (*NEEDLE_KEYS, *ZONE_REQUIRED) if smp else ZONE_REQUIRED:
            if getattr(zone, key) is None:
                problems.append((("zones", code.value, key), MISSING, "required for every zone"))
        problems += _dose_problems(profile, code, zone)
    problems += _smp_problems(profile) if smp else _microneedling_problems(profile)
    return problems


def _dose_problems(profile: ProfileFile, code: ZoneCode, zone: ZoneSettings) -> ProblemList:
    """Dose keys come as a set of three (all or none; all for microneedling), session
    overrides need the zone's own, and microneedling has its own hard maximum."""
    problems: ProblemList = []
    prefix: tuple[str | int, ...] = ("zones", code.value)
    given = [key for key in DOSE_KEYS if getattr(zone, key) is not None]
    if profile.profile_kind is ProfileKind.MICRONEEDLING:
        for key in DOSE_KEYS:
            if key not in given:
                problems.append(
                    (
                        (*prefix, key),
                        MISSING,
                        "required for every zone of a microneedling profile (docs/dose.md)",
                    )
                )
    elif given and len(given) < len(DOSE_KEYS):
        for key in DOSE_KEYS:
            if key not in given:
                problems.append(
                    (
                        (*prefix, key),
                        MISSING,
                        f"required with {' and '.join(given)}: set all of "
                        f"{', '.join(DOSE_KEYS)} for the zone, or none",
                    )
                )
    for number, override in sorted(zone.sessions.items()):
        for key in SESSION_DOSE_KEYS:
            value = getattr(override, key)
            if value is not None and not given:
                problems.append(
                    (
                        (*prefix, "sessions", number, key),
                        value,
                        f"a session's dose needs the zone's own {', '.join(DOSE_KEYS)}; "
                        f"set them under [zones.{code.value}]",
                    )
                )
    if profile.profile_kind is ProfileKind.MICRONEEDLING:
        top = hard.MAX_MICRONEEDLING_DOSE_CEILING_PER_CM2
        places: list[tuple[tuple[str | int, ...], ZoneSettings | SessionOverride]] = [
            (prefix, zone)
        ]
        places += [((*prefix, "sessions", n), o) for n, o in sorted(zone.sessions.items())]
        for path, values in places:
            for key in SESSION_DOSE_KEYS:
                value = getattr(values, key)
                if value is not None and value > top:
                    problems.append(
                        (
                            (*path, key),
                            value,
                            f"allowed above 0 up to {top:g} {DOSE_UNIT} in a microneedling "
                            f"profile ({_HARD}); lower it",
                        )
                    )
    return problems


def _needle_places(
    profile: ProfileFile,
) -> list[tuple[tuple[str | int, ...], Adjustment | ZoneSettings | SessionOverride]]:
    places: list[tuple[tuple[str | int, ...], Adjustment | ZoneSettings | SessionOverride]] = []
    for code, zone in profile.zones.items():
        places.append((("zones", code.value), zone))
        places += [
            (("zones", code.value, "sessions", n), o) for n, o in sorted(zone.sessions.items())
        ]
    places += [(("sessions", n), a) for n, a in sorted(profile.sessions.items())]
    places += [(("skin", c.value), a) for c, a in profile.skin.items()]
    places += [(("scars", k.value), a) for k, a in profile.scars.items()]
    return places


def _smp_problems(profile: ProfileFile) -> ProblemList:
    problems: ProblemList = []
    why = (
        'only in a microneedling profile (kind = "microneedling"); an SMP zone\'s cartridge '
        "is its needle (1RL or 3RL): remove it"
    )
    if profile.cartridges is not None:
        problems.append((("cartridges",), [k.value for k in profile.cartridges], why))
    for code, zone in profile.zones.items():
        if zone.cartridges is not None:
            problems.append(
                (("zones", code.value, "cartridges"), [k.value for k in zone.cartridges], why)
            )
    return problems


def _microneedling_problems(profile: ProfileFile) -> ProblemList:
    problems: ProblemList = []
    for path, values in _needle_places(profile):
        for key in NEEDLE_KEYS:
            value = getattr(values, key)
            if value is not None:
                problems.append(
                    (
                        (*path, key),
                        value.value if isinstance(value, NeedleKind) else value,
                        "a microneedling profile names cartridge kinds in `cartridges` "
                        '(e.g. ["12-pin", "36-pin"]), not an SMP needle: remove it',
                    )
                )
    for code, zone in profile.zones.items():
        own = zone.cartridges is not None
        cartridges = zone.cartridges if own else profile.cartridges
        list_path: tuple[str | int, ...] = (
            ("zones", code.value, "cartridges") if own else ("cartridges",)
        )
        if cartridges is None:
            problems.append(
                (
                    ("zones", code.value, "cartridges"),
                    MISSING,
                    "required in a microneedling profile: a list of cartridge kinds, e.g. "
                    '["12-pin", "36-pin"], for the whole profile or for this zone',
                )
            )
            continue
        for i, kind in enumerate(cartridges):
            if not kind.microneedling:
                multi = ", ".join(k.value for k in CartridgeKind if k.microneedling)
                problem = (
                    (*list_path, i),
                    kind.value,
                    f"not a microneedling cartridge; allowed: {multi}",
                )
                if problem not in problems:
                    problems.append(problem)
    return problems
