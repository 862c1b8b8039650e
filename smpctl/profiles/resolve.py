"""A profile, a zone, a session, the client's skin and a scar overlay -> the setpoints to send,
each with the chain of files and keys it came from.

The order is fixed, so the same inputs always give the same setpoints: the zone's values, the
profile's session adjustment, the zone's own values for that session, the skin modifiers in
their canonical order (thin, oily, scarred, sun-damaged, whatever order they were picked in),
then the scar overlay. Each step is rounded to what the wire carries (0.01 Hz, 1 µm).
The result is checked against the limits in force; nothing is clamped.

The zone's dose bounds and the cartridges it expects come with the setpoints (they are not
sent to the pen), each with its source like every other value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from smpctl import hard_limits as hard
from smpctl.dose import CartridgeKind, DoseBounds
from smpctl.errors import SetpointOutsideLimitsError, UnknownZoneError
from smpctl.zones import ScarKind, ZoneCode

from .bounds import (
    DOSE_FIELDS,
    cartridge_source,
    cartridge_text,
    covered_zone,
    dose_bounds,
    dose_sources,
)
from .limits import LimitsInForce, limits_for, tighten
from .loader import LoadedProfile
from .model import (
    Adjustment,
    NeedleKind,
    ProfileKind,
    RunModeName,
    SessionOverride,
    SkinCondition,
    ZoneSettings,
)
from .problems import did_you_mean

SETPOINTS = ("speed_hz", "stroke_mm", "depth_mm")
FIELDS = (
    "needle",
    "needle_diameter_mm",
    "speed_hz",
    "stroke_mm",
    "depth_mm",
    "run_mode",
    "ramp_ms",
    "pulse_on_ms",
    "pulse_off_ms",
    "min_pass_ms",
)
"""The setpoints, in the order ``values()`` gives them (what ``apply`` sends)."""
SHOWN = (*FIELDS, "cartridges", *DOSE_FIELDS)
"""Everything ``show`` prints with its source."""


@dataclass(frozen=True)
class Step:
    """One file's say in a value: what was written at ``key_path`` and the value after it."""

    file: str
    key_path: str
    written: Any
    result: Any

    def __str__(self) -> str:
        written = _show(self.written)
        if _show(self.result) == written:
            return f"{self.file} {self.key_path} = {written}"
        return f"{self.file} {self.key_path} = {written} -> {_show(self.result)}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "key": self.key_path,
            "written": _plain(self.written),
            "result": _plain(self.result),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value.value if hasattr(value, "value") else value


def _show(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' if isinstance(v, str) else _show(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class ResolvedSetpoints:
    profile: str
    profile_hash: str
    zone: ZoneCode
    session: int
    skin: tuple[SkinCondition, ...]
    scar: ScarKind | None
    needle: NeedleKind | None
    """The SMP needle; None in a microneedling profile (see ``cartridges``)."""
    needle_diameter_mm: float | None
    speed_hz: float
    stroke_mm: float
    depth_mm: float
    run_mode: RunModeName
    ramp_ms: int
    pulse_on_ms: int
    """0 in continuous mode (the protocol's "send 0")."""
    pulse_off_ms: int
    min_pass_ms: int
    limits: LimitsInForce
    provenance: Mapping[str, tuple[Step, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    kind: ProfileKind = ProfileKind.SMP
    cartridges: tuple[CartridgeKind, ...] = ()
    """The cartridge kinds the zone expects: the needle for SMP, the profile's list for
    microneedling (preferred first)."""
    dose: DoseBounds | None = None
    """The zone's dose bounds for this session; None when the profile sets none."""

    @property
    def cartridge_text(self) -> str:
        """The cartridge in a few words: ``1RL 0.18 mm`` or ``12-pin or 36-pin``."""
        if self.needle is not None and self.needle_diameter_mm is not None:
            return f"{self.needle.value} {self.needle_diameter_mm:g} mm"
        return cartridge_text(self.cartridges)

    def values(self) -> dict[str, Any]:
        """The resolved values in plain types, in a fixed order (what ``apply`` sends)."""
        return {name: _plain(getattr(self, name)) for name in FIELDS}

    def came_from(self, name: str) -> str:
        return "; ".join(str(s) for s in self.provenance.get(name, ())) or "default"

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "profile_hash": self.profile_hash,
            "zone": self.zone.value,
            "session": self.session,
            "skin": [s.value for s in self.skin],
            "scar": self.scar.value if self.scar else None,
            "kind": self.kind.value,
            "cartridges": [k.value for k in self.cartridges],
            "setpoints": self.values(),
            "dose": self.dose.as_dict() if self.dose is not None else None,
            "provenance": {
                name: [s.as_dict() for s in self.provenance.get(name, ())] for name in SHOWN
            },
            "limits": self.limits.as_dict(),
            "warnings": list(self.warnings),
        }


class _Tracker:
    def __init__(self, profile: LoadedProfile) -> None:
        self.profile = profile
        self.values: dict[str, Any] = {}
        self.steps: dict[str, list[Step]] = {}

    def set(self, name: str, value: Any, key_path: str) -> None:
        self.values[name] = value
        self.steps.setdefault(name, []).append(
            Step(self.profile.origin(key_path), key_path, value, value)
        )

    def change(self, name: str, written: Any, result: Any, key_path: str) -> None:
        self.values[name] = result
        self.steps.setdefault(name, []).append(
            Step(self.profile.origin(key_path), key_path, written, result)
        )

    def absolute(self, values: ZoneSettings | SessionOverride, prefix: str) -> None:
        for name in ("needle", "needle_diameter_mm", *SETPOINTS):
            value = getattr(values, name)
            if value is not None:
                self.set(name, value, f"{prefix}.{name}")

    def adjust(self, adj: Adjustment, prefix: str) -> None:
        if adj.needle is not None:
            self.set("needle", adj.needle, f"{prefix}.needle")
        if adj.needle_diameter_mm is not None:
            self.set("needle_diameter_mm", adj.needle_diameter_mm, f"{prefix}.needle_diameter_mm")
        if adj.speed_change_pct is not None:
            speed = round(self.values["speed_hz"] * (1 + adj.speed_change_pct / 100), 2)
            self.change("speed_hz", adj.speed_change_pct, speed, f"{prefix}.speed_change_pct")
        if adj.stroke_change_mm is not None:
            stroke = round(self.values["stroke_mm"] + adj.stroke_change_mm, 3)
            self.change("stroke_mm", adj.stroke_change_mm, stroke, f"{prefix}.stroke_change_mm")
        if adj.depth_change_mm is not None:
            depth = round(self.values["depth_mm"] + adj.depth_change_mm, 3)
            self.change("depth_mm", adj.depth_change_mm, depth, f"{prefix}.depth_change_mm")


def sessions_of(loaded: LoadedProfile, zone: ZoneCode) -> list[int]:
    settings = loaded.profile.zones.get(zone)
    own = set(settings.sessions) if settings is not None else set()
    return sorted(set(loaded.profile.sessions) | own)


def _choose(
    loaded: LoadedProfile,
    zone: ZoneCode | str,
    session: int,
    skin: Iterable[SkinCondition | str],
    scar: ScarKind | str | None,
) -> tuple[ZoneCode, tuple[SkinCondition, ...], ScarKind | None]:
    profile = loaded.profile
    name = loaded.name
    code = covered_zone(name, profile, zone)
    sessions = sessions_of(loaded, code)
    if session not in sessions:
        raise UnknownZoneError(
            f"profile {name!r} defines no session {session} for zone {code.value}; "
            f"sessions: {', '.join(map(str, sessions))}"
        )
    conditions: set[SkinCondition] = set()
    known = [s.value for s in SkinCondition]
    for item in skin:
        try:
            condition = SkinCondition(item.lower() if isinstance(item, str) else item)
        except ValueError:
            raise UnknownZoneError(
                f"unknown skin condition {item!r}; {did_you_mean(str(item), known)}"
                f"skin conditions: {', '.join(known)}"
            ) from None
        if condition not in profile.skin:
            defined = ", ".join(s.value for s in profile.skin) or "none"
            raise UnknownZoneError(
                f"profile {name!r} has no modifier for {condition.value} skin; it has: {defined}"
            )
        conditions.add(condition)
    ordered = tuple(s for s in SkinCondition if s in conditions)
    kind: ScarKind | None = None
    if scar is not None:
        try:
            kind = scar if isinstance(scar, ScarKind) else ScarKind.parse(scar)
        except ValueError:
            scars = [s.value for s in ScarKind]
            raise UnknownZoneError(
                f"unknown scar kind {scar!r}; {did_you_mean('SCR_' + str(scar).upper(), scars)}"
                f"scar kinds: {', '.join(scars)} (or FUT, FUE, OTH)"
            ) from None
        if kind not in profile.scars:
            raise UnknownZoneError(f"profile {name!r} has no overlay for scar {kind.value}")
    return code, ordered, kind


def resolve(
    loaded: LoadedProfile,
    zone: ZoneCode | str,
    session: int,
    *,
    skin: Iterable[SkinCondition | str] = (),
    scar: ScarKind | str | None = None,
    limits: LimitsInForce | None = None,
) -> ResolvedSetpoints:
    """The setpoints for one zone and session; ``SetpointOutsideLimitsError`` when the
    combination leaves the limits in force (default: hard limits and the profile's)."""
    code, conditions, kind = _choose(loaded, zone, session, skin, scar)
    profile = loaded.profile
    if limits is None:
        limits = limits_for(loaded)
    zone_max = profile.zones[code].max_depth_mm
    if zone_max is not None:
        key = f"zones.{code.value}.max_depth_mm"
        limits = tighten(limits, {"max_depth_mm": zone_max}, f"{loaded.origin(key)} {key}")
    t = _Tracker(loaded)
    t.absolute(profile.zones[code], f"zones.{code.value}")
    if session in profile.sessions:
        t.adjust(profile.sessions[session], f"sessions.{session}")
    override = profile.zones[code].sessions.get(session)
    if override is not None:
        t.absolute(override, f"zones.{code.value}.sessions.{session}")
    for condition in conditions:
        t.adjust(profile.skin[condition], f"skin.{condition.value}")
    if kind is not None:
        t.adjust(profile.scars[kind], f"scars.{kind.value}")

    run = profile.run
    assert run.mode is not None and run.ramp_ms is not None and run.min_pass_ms is not None
    for name in ("ramp_ms", "min_pass_ms"):
        t.set(name, getattr(run, name), f"run.{name}")
    t.set("run_mode", run.mode, "run.mode")
    if run.mode is RunModeName.PULSED:
        t.set("pulse_on_ms", run.pulse_on_ms, "run.pulse_on_ms")
        t.set("pulse_off_ms", run.pulse_off_ms, "run.pulse_off_ms")
    else:
        t.values["pulse_on_ms"] = t.values["pulse_off_ms"] = 0

    cartridges = cartridge_source(profile, code)
    if cartridges is not None:
        assert isinstance(cartridges.value, tuple)
        t.set("cartridges", cartridges.value, cartridges.key_path)
    else:
        t.values["cartridges"] = (CartridgeKind(t.values["needle"].value),)
        t.steps["cartridges"] = list(t.steps["needle"])
    dose = dose_sources(profile, code, session)
    for name, source in (dose or {}).items():
        t.set(name, source.value, source.key_path)
    provenance = {name: tuple(steps) for name, steps in t.steps.items()}

    def came_from(name: str) -> str:
        return "; ".join(str(s) for s in provenance.get(name, ()))

    for name in SETPOINTS:
        limits.check(name, t.values[name], came_from(name))
    if t.values["depth_mm"] > t.values["stroke_mm"]:
        raise SetpointOutsideLimitsError(
            "depth_mm",
            t.values["depth_mm"],
            f"at most the stroke, {t.values['stroke_mm']:g} mm (depth <= stroke)",
            came_from("depth_mm") + "; stroke: " + came_from("stroke_mm"),
        )
    warnings = []
    if t.values["depth_mm"] > hard.WARN_DEPTH_MM:
        warnings.append(
            f"depth {t.values['depth_mm']:g} mm is above {hard.WARN_DEPTH_MM:g} mm: the pen "
            "raises DEPTH_WARN; check this is meant"
        )
    return ResolvedSetpoints(
        profile=loaded.name,
        profile_hash=loaded.hash,
        zone=code,
        session=session,
        skin=conditions,
        scar=kind,
        needle=t.values.get("needle"),
        needle_diameter_mm=t.values.get("needle_diameter_mm"),
        speed_hz=t.values["speed_hz"],
        stroke_mm=t.values["stroke_mm"],
        depth_mm=t.values["depth_mm"],
        run_mode=t.values["run_mode"],
        ramp_ms=t.values["ramp_ms"],
        pulse_on_ms=t.values["pulse_on_ms"],
        pulse_off_ms=t.values["pulse_off_ms"],
        min_pass_ms=t.values["min_pass_ms"],
        limits=limits,
        provenance=provenance,
        warnings=tuple(warnings),
        kind=profile.profile_kind,
        cartridges=t.values["cartridges"],
        dose=dose_bounds(profile, code, session),
    )
