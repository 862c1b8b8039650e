"""Treatment profiles: per-zone stroke, depth and speed, resolved for a session and the
client's skin, checked against the limits in force and applied to a pen all or nothing;
and per zone the cartridges expected and the dose bounds (``LoadedProfile.bounds_for``,
``ResolvedSetpoints.dose``) that ``smpctl.dose`` guards."""

from __future__ import annotations

from .apply import AppliedProfile, PenSetpoints, apply_setpoints, plan
from .clinic import NO_CLINIC, ClinicSettings, NeedleSpec, load_clinic
from .limits import Bound, LimitsInForce, limits_for, limits_in_force
from .loader import LoadedProfile, ProfileEntry, ProfileLibrary, profile_hash, search_path
from .model import NeedleKind, ProfileFile, ProfileKind, RunModeName, SkinCondition
from .resolve import ResolvedSetpoints, Step, resolve

__all__ = [
    "NO_CLINIC",
    "AppliedProfile",
    "Bound",
    "ClinicSettings",
    "LimitsInForce",
    "LoadedProfile",
    "NeedleKind",
    "NeedleSpec",
    "PenSetpoints",
    "ProfileEntry",
    "ProfileFile",
    "ProfileKind",
    "ProfileLibrary",
    "ResolvedSetpoints",
    "RunModeName",
    "SkinCondition",
    "Step",
    "apply_setpoints",
    "limits_for",
    "limits_in_force",
    "load_clinic",
    "plan",
    "profile_hash",
    "resolve",
    "search_path",
]
