"""`smpctl profiles list|show|check|diff` and `smpctl apply`: treatment profiles from the
command line. ``show`` prints a zone's setpoints, cartridges and dose bounds, each value with
the file and key it came from."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from smpctl.client import connect
from smpctl.dose import NEAR_CEILING_FRACTION
from smpctl.errors import ProfileError, ProfileProblem
from smpctl.profiles import (
    LoadedProfile,
    ProfileLibrary,
    ResolvedSetpoints,
    apply_setpoints,
    limits_for,
    load_clinic,
    resolve,
)
from smpctl.profiles.clinic import ClinicSettings, profile_needle_problems
from smpctl.profiles.model import MAX_SESSION, ProfileKind
from smpctl.profiles.resolve import FIELDS, Step
from smpctl.zones import ZoneCode

from .args import (
    add_clinic,
    add_json,
    add_port,
    add_profiles_dir,
    print_json,
    resolve_port,
    simulated_banner,
)

_UNITS = {"hz": "Hz", "mm": "mm", "ms": "ms"}


def register(sub: Any) -> None:
    profiles = sub.add_parser("profiles", help="treatment profiles: list, show, check, diff")
    psub = profiles.add_subparsers(dest="profiles_command", metavar="ACTION", required=True)

    p = psub.add_parser("list", help="the profiles found, with their descriptions")
    add_profiles_dir(p)
    add_json(p)
    p.set_defaults(func=run_list)

    p = psub.add_parser("show", help="resolved setpoints for a zone and where each came from")
    p.add_argument("name", help="profile name (or path to a .toml file)")
    _add_selection(p)
    add_profiles_dir(p)
    add_clinic(p)
    add_json(p)
    p.set_defaults(func=run_show)

    p = psub.add_parser("check", help="validate profile files, printing every problem")
    p.add_argument("files", nargs="+", metavar="FILE", help="profile files to check")
    add_profiles_dir(p)
    add_clinic(p)
    add_json(p)
    p.set_defaults(func=run_check)

    p = psub.add_parser("diff", help="what differs between two profiles, per zone and field")
    p.add_argument("a", help="profile name or file")
    p.add_argument("b", help="profile name or file")
    add_profiles_dir(p)
    add_json(p)
    p.set_defaults(func=run_diff)

    p = sub.add_parser("apply", help="apply a profile's setpoints for a zone to the pen")
    p.add_argument("name", help="profile name (or path to a .toml file)")
    _add_selection(p)
    add_port(p)
    add_profiles_dir(p)
    add_clinic(p)
    add_json(p)
    p.set_defaults(func=run_apply)


def _session(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"session must be a number 1–{MAX_SESSION}") from None
    if not 1 <= number <= MAX_SESSION:
        raise argparse.ArgumentTypeError(f"session must be 1–{MAX_SESSION}, got {number}")
    return number


def _add_selection(p: argparse.ArgumentParser) -> None:
    codes = ", ".join(z.value for z in ZoneCode)
    p.add_argument("--zone", required=True, help=f"zone code ({codes})")
    p.add_argument("--session", required=True, type=_session, help="session number (1 = first)")
    p.add_argument(
        "--skin", default="", help="skin modifiers, comma-separated (thin,oily,scarred,sun-damaged)"
    )
    p.add_argument("--scar", default=None, help="scar overlay: FUT, FUE or OTH (SCR_… too)")


def _skin(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def _library(args: argparse.Namespace) -> ProfileLibrary:
    return ProfileLibrary.default(args.profiles_dir)


def _load(library: ProfileLibrary, ref: str) -> LoadedProfile:
    path = Path(ref)
    if ref.endswith(".toml") or path.is_file():
        return library.load(path)
    return library.load(ref)


def _resolve(
    args: argparse.Namespace, loaded: LoadedProfile, clinic: ClinicSettings, **pen: Any
) -> ResolvedSetpoints:
    limits = limits_for(loaded, clinic=clinic, **pen)
    return resolve(
        loaded, args.zone, args.session, skin=_skin(args.skin), scar=args.scar, limits=limits
    )


# ---------------------------------------------------------------------------------- list


def run_list(args: argparse.Namespace) -> int:
    library = _library(args)
    entries = library.entries()
    if args.json:
        print_json(
            {
                "search_path": [str(d) for d in library.dirs],
                "profiles": [
                    {
                        "name": e.name,
                        "path": str(e.path),
                        "description": e.description,
                        "shadows": [str(s) for s in e.shadows],
                    }
                    for e in entries
                ],
            }
        )
        return 0
    if not entries:
        print("No profiles found in: " + ", ".join(str(d) for d in library.dirs))
        return 0
    width = max(len(e.name) for e in entries)
    for e in entries:
        print(f"{e.name:{width}}  {e.description}")
        print(f"{'':{width}}  {e.path}" + (f" (hides {len(e.shadows)} more)" if e.shadows else ""))
    return 0


# ---------------------------------------------------------------------------------- show


def _unit(name: str) -> str:
    return _UNITS.get(name.rsplit("_", 1)[-1], "")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _print_steps(name: str, shown: str, steps: tuple[Step, ...], missing: str) -> None:
    print(f"  {name:20} {shown}")
    if not steps:
        print(f"  {'':20}   ({missing})")
    for step in steps:
        print(f"  {'':20}   <- {step}")


def print_resolved(resolved: ResolvedSetpoints) -> None:
    skin = ", ".join(s.value for s in resolved.skin) or "none"
    scar = resolved.scar.value if resolved.scar else "none"
    print(
        f"profile {resolved.profile}  zone {resolved.zone.value} ({resolved.zone.label})  "
        f"session {resolved.session}  skin: {skin}  scar: {scar}"
    )
    print(f"hash {resolved.profile_hash}")
    print(f"kind {resolved.kind.value}")
    print()
    values = resolved.values()
    microneedling = resolved.kind is ProfileKind.MICRONEEDLING
    for name in FIELDS:
        value = values[name]
        shown = "—" if value is None else f"{_fmt(value)} {_unit(name)}".strip()
        if microneedling and name in ("needle", "needle_diameter_mm"):
            missing = "microneedling: see cartridges"
        else:
            missing = f"not used in {values['run_mode']} mode"
        _print_steps(name, shown, resolved.provenance.get(name, ()), missing)
    _print_steps(
        "cartridges",
        ", ".join(k.value for k in resolved.cartridges),
        resolved.provenance.get("cartridges", ()),
        "none",
    )
    print()
    print("dose bounds (punctures per cm² per session; see docs/dose.md):")
    dose = resolved.dose
    if dose is None:
        print(f"  none: this profile sets no dose bounds for {resolved.zone.value}")
    else:
        near = (
            f"near from {dose.near_per_cm2:g}, {round(NEAR_CEILING_FRACTION * 100)} % of the "
            "ceiling"
        )
        rows = (
            ("dose_target_per_cm2", f"{dose.target_per_cm2:g} /cm²"),
            ("dose_ceiling_per_cm2", f"{dose.ceiling_per_cm2:g} /cm²  ({near})"),
            ("min_interval_days", f"{dose.min_interval_days} days"),
        )
        for name, shown in rows:
            _print_steps(name, shown, resolved.provenance.get(name, ()), "default")
    print()
    print("limits in force:")
    lim = resolved.limits
    for name in ("speed_hz", "stroke_mm", "depth_mm"):
        lo, hi = getattr(lim, f"min_{name}"), getattr(lim, f"max_{name}")
        span = f"{lo.value:g}–{hi.value:g} {_unit(name)}"
        print(f"  {name:20} {span:14} (min: {lo.source}; max: {hi.source})")
    for warning in resolved.warnings:
        print(f"warning: {warning}")


def run_show(args: argparse.Namespace) -> int:
    library = _library(args)
    clinic = load_clinic(args.clinic)
    loaded = _load(library, args.name)
    resolved = _resolve(args, loaded, clinic)
    if args.json:
        print_json(resolved.as_dict())
        return 0
    print_resolved(resolved)
    print("(the pen's own limits are added when the profile is applied)")
    return 0


# ---------------------------------------------------------------------------------- check


def run_check(args: argparse.Namespace) -> int:
    library = _library(args)
    problems: list[ProfileProblem] = []
    try:
        clinic = load_clinic(args.clinic)
    except ProfileError as exc:
        problems += exc.problems
        clinic = None
    results: dict[str, list[ProfileProblem]] = {}
    for name in args.files:
        found: list[ProfileProblem] = []
        try:
            loaded = library.load(Path(name))
        except ProfileError as exc:
            found = exc.problems
        else:
            if clinic is not None:
                origins = {k: str(v) for k, v in loaded.origins.items()}
                found = profile_needle_problems(
                    loaded.profile, clinic, file_of=origins, default_file=str(loaded.path)
                )
        results[name] = found
        problems += found
    if args.json:
        print_json(
            {
                "valid": not problems,
                "files": {
                    name: [
                        {
                            "file": p.file,
                            "key": p.key_path,
                            "value": p.value if p.value is not None else None,
                            "allowed": p.allowed,
                        }
                        for p in found
                    ]
                    for name, found in results.items()
                },
            }
        )
        return 0 if not problems else 1
    for problem in problems:
        print(problem)
    for name, found in results.items():
        if not found:
            print(f"{name}: ok")
    if problems:
        count = len(problems)
        print(f"{count} problem{'s' if count != 1 else ''} found")
        return 1
    return 0


# ---------------------------------------------------------------------------------- diff


def _flatten(value: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if isinstance(value, dict):
        flat: dict[tuple[str, ...], Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, (*prefix, str(key))))
        return flat
    return {prefix: value}


def profile_diff(a: LoadedProfile, b: LoadedProfile) -> list[tuple[str, str, Any, Any]]:
    """(table, field, value in a, value in b) for every field that differs."""
    fa, fb = _flatten(a.as_dict()), _flatten(b.as_dict())
    missing = object()
    changes = []
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key, missing), fb.get(key, missing)
        if va != vb:
            changes.append(
                (
                    ".".join(key[:-1]),
                    key[-1],
                    None if va is missing else va,
                    None if vb is missing else vb,
                )
            )
    return changes


def run_diff(args: argparse.Namespace) -> int:
    library = _library(args)
    a, b = _load(library, args.a), _load(library, args.b)
    changes = profile_diff(a, b)
    if args.json:
        print_json(
            {
                "a": {"name": a.name, "path": str(a.path), "hash": a.hash},
                "b": {"name": b.name, "path": str(b.path), "hash": b.hash},
                "changes": [{"table": t, "field": f, "a": va, "b": vb} for t, f, va, vb in changes],
            }
        )
        return 0
    print(f"--- {a.name} ({a.path})")
    print(f"+++ {b.name} ({b.path})")
    if not changes:
        print("no differences")
        return 0
    table = None
    for t, field, va, vb in changes:
        if t != table:
            table = t
            print(f"[{t}]" if t else "[top]")
        left = "(not set)" if va is None else _fmt(va)
        right = "(not set)" if vb is None else _fmt(vb)
        print(f"  {field}: {left} -> {right}")
    return 0


# ---------------------------------------------------------------------------------- apply


def run_apply(args: argparse.Namespace) -> int:
    library = _library(args)
    clinic = load_clinic(args.clinic)
    loaded = _load(library, args.name)
    _resolve(args, loaded, clinic)  # refuse bad input before touching any pen
    url, simulated = resolve_port(args.port)
    with connect(url) as pen:
        resolved = _resolve(
            args, loaded, clinic, pen=pen.identity.limits, pen_name=f"pen {pen.serial}"
        )
        applied = apply_setpoints(pen, resolved, clinic=clinic)
        label = simulated or pen.simulated
        serial = pen.serial
    if args.json:
        print_json(
            {
                "simulated": label,
                "port": url,
                "pen": serial,
                "applied": applied.setpoints.as_dict(),
                "resolved": resolved.as_dict(),
            }
        )
        return 0
    if label:
        print(simulated_banner())
    print(f"applied to pen {serial} ({url}){' — SIMULATED' if label else ''}:")
    print_resolved(resolved)
    print()
    print("acknowledged by the pen:")
    for name, value in applied.setpoints.as_dict().items():
        print(f"  {name:20} {_fmt(value)} {_unit(name)}".rstrip())
    return 0
