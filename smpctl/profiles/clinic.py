"""The clinic's settings: limits stricter than the hard ones, and the needle cartridges its
pens take.

The protocol has no way for a pen to say which cartridges fit it, so the clinic writes it
down: ``accepted_needles`` for every pen, or under ``[pens.SERIAL]`` for one pen. Without
a list, a pen is taken to accept every standard SMP cartridge (1RL or 3RL, 0.18–0.30 mm),
which is all a profile may name anyway.

The file lives at ``user_config_dir("smpctl")/clinic.toml``; ``--clinic PATH`` or the
``SMPCTL_CLINIC`` variable point elsewhere (set empty: no clinic settings).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from platformdirs import user_config_dir
from pydantic import Field, ValidationError

from smpctl.errors import ClinicSettingsError, NeedleNotAcceptedError, ProfileProblem

from .loader import read_toml
from .model import DiameterMm, Limits, NeedleKind, ProfileFile, StrictModel, Text
from .problems import KeyPath, problems_from

CLINIC_ENV = "SMPCTL_CLINIC"


class NeedleSpec(StrictModel):
    needle: NeedleKind
    needle_diameter_mm: DiameterMm

    def label(self) -> str:
        return f"{self.needle.value} {self.needle_diameter_mm:.2f} mm"

    def matches(self, needle: NeedleKind, diameter_mm: float) -> bool:
        return self.needle is needle and round(self.needle_diameter_mm, 3) == round(diameter_mm, 3)


class PenSettings(StrictModel):
    description: Text | None = None
    accepted_needles: list[NeedleSpec] | None = None


class ClinicFile(StrictModel):
    description: Text | None = None
    limits: Limits = Field(default_factory=Limits)
    accepted_needles: list[NeedleSpec] | None = None
    pens: dict[str, PenSettings] = Field(default_factory=dict)
    server: Text | None = None
    """The clinic's PostgreSQL URL for `smpctl sync` (each chair signs in with its own role)."""


@dataclass(frozen=True)
class ClinicSettings:
    path: Path | None
    settings: ClinicFile

    @property
    def name(self) -> str:
        return f"clinic settings {self.path}" if self.path else "clinic settings"

    @property
    def limits(self) -> Limits:
        return self.settings.limits

    def accepted_needles(self, serial: str | None = None) -> tuple[list[NeedleSpec] | None, str]:
        """The cartridges a pen takes (None: any standard one) and where that is written."""
        pen = self.settings.pens.get(serial) if serial else None
        if pen is not None and pen.accepted_needles is not None:
            return pen.accepted_needles, f"{self.name} [pens.{serial}] accepted_needles"
        if self.settings.accepted_needles is not None:
            return self.settings.accepted_needles, f"{self.name} accepted_needles"
        return None, "any standard SMP cartridge (no list in the clinic settings)"


NO_CLINIC = ClinicSettings(None, ClinicFile())


def clinic_path(explicit: str | None = None) -> Path | None:
    """Which clinic file applies: the argument, else ``SMPCTL_CLINIC`` (empty = none), else
    the user's config directory."""
    if explicit is not None:
        return Path(explicit) if explicit else None
    if CLINIC_ENV in os.environ:
        value = os.environ[CLINIC_ENV]
        return Path(value) if value else None
    return Path(user_config_dir("smpctl")) / "clinic.toml"


def load_clinic(explicit: str | None = None) -> ClinicSettings:
    """The clinic settings in force; none when the default file does not exist. A file named
    explicitly (argument or variable) must exist."""
    path = clinic_path(explicit)
    if path is None:
        return NO_CLINIC
    named = explicit is not None or bool(os.environ.get(CLINIC_ENV))
    if not named and not path.exists():
        return NO_CLINIC
    raw = read_toml(path)
    try:
        settings = ClinicFile.model_validate(raw)
    except ValidationError as exc:
        shown = str(path)

        def file_of(_p: KeyPath) -> str:
            return shown

        problems = problems_from(exc, ClinicFile, file_of)
        for i, problem in enumerate(problems):
            if "hard limits" in problem.allowed:
                problems[i] = ProfileProblem(
                    problem.file,
                    problem.key_path,
                    problem.value,
                    problem.allowed + "; clinic settings can only tighten the hard limits",
                )
        raise ClinicSettingsError(problems) from None
    return ClinicSettings(path, settings)


def needles_used(profile: ProfileFile) -> Iterable[tuple[str, NeedleKind, float]]:
    """Every (key path, needle, diameter) a profile can resolve to, for checking ahead."""
    for code, zone in profile.zones.items():
        base = f"zones.{code.value}"
        if zone.needle is not None and zone.needle_diameter_mm is not None:
            yield f"{base}.needle", zone.needle, zone.needle_diameter_mm
        for number, override in sorted(zone.sessions.items()):
            needle = override.needle or zone.needle
            diameter = override.needle_diameter_mm or zone.needle_diameter_mm
            if (override.needle or override.needle_diameter_mm) and needle and diameter:
                yield f"{base}.sessions.{number}.needle", needle, diameter
    tables = (("sessions", profile.sessions), ("skin", profile.skin), ("scars", profile.scars))
    for table, adjustments in tables:
        for key, adj in adjustments.items():
            if adj.needle is not None and adj.needle_diameter_mm is not None:
                name = key.value if isinstance(key, Enum) else str(key)
                yield f"{table}.{name}.needle", adj.needle, adj.needle_diameter_mm


def check_needle(
    needle: NeedleKind,
    diameter_mm: float,
    accepted: list[NeedleSpec] | None,
    source: str,
    *,
    file: str,
    key_path: str,
    pen: str,
) -> ProfileProblem | None:
    if accepted is None or any(spec.matches(needle, diameter_mm) for spec in accepted):
        return None
    listed = ", ".join(spec.label() for spec in accepted) or "none"
    return ProfileProblem(
        file,
        key_path,
        f"{needle.value} {diameter_mm:.2f} mm",
        f"{pen} does not accept this cartridge; it accepts {listed} ({source})",
    )


def profile_needle_problems(
    profile: ProfileFile, clinic: ClinicSettings, *, file_of: dict[str, str], default_file: str
) -> list[ProfileProblem]:
    """Needles a profile names that the clinic's pens (its clinic-wide list) do not take."""
    accepted, source = clinic.accepted_needles(None)
    found = []
    for key_path, needle, diameter in needles_used(profile):
        problem = check_needle(
            needle,
            diameter,
            accepted,
            source,
            file=file_of.get(key_path, default_file),
            key_path=key_path,
            pen="the clinic's pens",
        )
        if problem is not None:
            found.append(problem)
    return found


def raise_needle_problems(problems: list[ProfileProblem]) -> None:
    if problems:
        raise NeedleNotAcceptedError(problems)
