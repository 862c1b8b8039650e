"""Dose bounds in profiles (target, ceiling, minimum interval per zone), microneedling
profiles, and where each bound came from."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from profiles_support import MINIMAL

from smpctl import hard_limits as hard
from smpctl.cli import main
from smpctl.client import connect
from smpctl.dose import CartridgeKind, DoseBounds, interval_warnings
from smpctl.errors import ProfileError, UnknownZoneError
from smpctl.profiles import ProfileLibrary, apply_setpoints, resolve
from smpctl.profiles.loader import SHIPPED_DIR
from smpctl.profiles.model import ProfileKind
from smpctl.profiles.resolve import sessions_of
from smpctl.zones import ZoneCode

Write = Callable[[str, str], Path]

BASE = SHIPPED_DIR / "smp-base.toml"
FILL = (ZoneCode.FRN, ZoneCode.MID, ZoneCode.CRN, ZoneCode.PAR_L, ZoneCode.PAR_R, ZoneCode.OCC)
HARD_MAX = {
    ProfileKind.SMP: hard.MAX_SMP_DOSE_CEILING_PER_CM2,
    ProfileKind.MICRONEEDLING: hard.MAX_MICRONEEDLING_DOSE_CEILING_PER_CM2,
}


def library(tmp_path: Path) -> ProfileLibrary:
    return ProfileLibrary([tmp_path, SHIPPED_DIR])


def problems_of(tmp_path: Path, path: Path) -> list[str]:
    with pytest.raises(ProfileError) as info:
        library(tmp_path).load(path)
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------------- shipped set


def test_every_shipped_profile_loads_with_bounds_inside_the_hard_limits() -> None:
    lib = ProfileLibrary.default()
    names = lib.names()
    assert {"smp-base", "smp-conservative", "smp-dotting", "mn-scalp", "mn-gentle"} <= set(names)
    for name in names:
        loaded = lib.load(name)
        top = HARD_MAX[loaded.kind]
        assert set(loaded.profile.zones) == set(ZoneCode), name
        for zone in loaded.profile.zones:
            for session in sessions_of(loaded, zone):
                bounds = loaded.bounds_for(zone, session)
                assert bounds is not None, (name, zone)
                assert 0 < bounds.target_per_cm2 <= bounds.ceiling_per_cm2 <= top, (name, zone)
                assert bounds.min_interval_days >= 0
                resolved = resolve(loaded, zone, session)
                assert resolved.dose == bounds
                assert resolved.kind is loaded.kind


def test_smp_base_bounds_are_the_documented_arithmetic() -> None:
    base = ProfileLibrary.default().load("smp-base")
    # docs/dose.md: target 33 dots × 8 strokes × needles, ceiling 50 dots × 12 strokes
    assert base.bounds_for("HL") == DoseBounds(ZoneCode.HL, 200.0, 480.0, 10)
    for zone in (ZoneCode.TMP_L, ZoneCode.TMP_R, ZoneCode.NAP):
        assert base.bounds_for(zone) == DoseBounds(zone, 260.0, 600.0, 10)
    for zone in FILL:
        assert base.bounds_for(zone) == DoseBounds(zone, 800.0, 1800.0, 10)
    assert base.min_intervals() == {zone: 10 for zone in ZoneCode}


def test_conservative_and_dotting_overlay_the_base_bounds() -> None:
    lib = ProfileLibrary.default()
    conservative = lib.load("smp-conservative").zone_bounds()
    assert conservative[ZoneCode.HL] == DoseBounds(ZoneCode.HL, 200.0, 360.0, 14)
    assert conservative[ZoneCode.CRN] == DoseBounds(ZoneCode.CRN, 800.0, 1440.0, 14)
    dotting = lib.load("smp-dotting").zone_bounds()
    assert dotting[ZoneCode.HL] == DoseBounds(ZoneCode.HL, 300.0, 480.0, 10)
    assert dotting[ZoneCode.OCC] == DoseBounds(ZoneCode.OCC, 1200.0, 1800.0, 10)


def test_microneedling_profile_resolves_to_multi_needle_cartridges_at_shallow_depths() -> None:
    lib = ProfileLibrary.default()
    for name, deepest in (("mn-scalp", 1.0), ("mn-gentle", 0.8)):
        loaded = lib.load(name)
        assert loaded.kind is ProfileKind.MICRONEEDLING
        for zone in ZoneCode:
            for session in sessions_of(loaded, zone):
                r = resolve(loaded, zone, session)
                assert r.needle is None and r.needle_diameter_mm is None
                assert r.cartridges and all(k.microneedling for k in r.cartridges)
                assert all(k.needles >= 9 for k in r.cartridges)
                low = 0.4 if session == 1 else 0.5  # session 1 is a tenth shallower
                assert low <= r.depth_mm <= deepest, (name, zone, session, r.depth_mm)
                assert r.depth_mm <= r.stroke_mm
    crn = resolve(lib.load("mn-scalp"), "CRN", 2)
    assert crn.cartridges == (CartridgeKind.PIN12, CartridgeKind.PIN36)
    assert crn.cartridge_text == "12-pin or 36-pin"
    assert crn.dose == DoseBounds(ZoneCode.CRN, 250.0, 300.0, 7)
    assert [str(s) for s in crn.provenance["cartridges"]] == [
        'mn-scalp.toml cartridges = ["12-pin", "36-pin"]'
    ]
    hl = resolve(lib.load("mn-gentle"), "HL", 3)
    assert hl.cartridges == (CartridgeKind.PIN12, CartridgeKind.NANO)
    assert hl.dose == DoseBounds(ZoneCode.HL, 150.0, 200.0, 28)
    assert [s.file for s in hl.provenance["depth_mm"]] == ["mn-gentle.toml"]


def test_an_smp_zone_expects_the_cartridge_of_its_needle() -> None:
    base = ProfileLibrary.default().load("smp-base")
    crn = resolve(base, "CRN", 2)
    assert crn.kind is ProfileKind.SMP and crn.cartridges == (CartridgeKind.RL3,)
    assert crn.cartridge_text == "3RL 0.25 mm"
    scarred = resolve(base, "CRN", 2, scar="FUE")
    assert scarred.cartridges == (CartridgeKind.RL1,)
    assert scarred.provenance["cartridges"] == scarred.provenance["needle"]


def test_a_microneedling_profile_applies_to_the_pen(sim_name: str) -> None:
    loaded = ProfileLibrary.default().load("mn-scalp")
    with connect(f"sim://{sim_name}?seed=3") as pen:
        resolved = resolve(loaded, "CRN", 2)
        applied = apply_setpoints(pen, resolved)
    assert (applied.setpoints.speed_hz, applied.setpoints.stroke_mm) == (110.0, 2.5)
    assert applied.setpoints.depth_mm == 0.8


# ------------------------------------------------------------------------- overlays


def test_an_overlay_changes_a_bound_and_show_names_its_file(
    tmp_path: Path, write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    child = write(
        "ours.toml",
        'extends = "smp-base"\ndescription = "ours"\n'
        "[zones.HL]\ndose_ceiling_per_cm2 = 400\nmin_interval_days = 14\n",
    )
    loaded = library(tmp_path).load(child)
    assert loaded.bounds_for("hl") == DoseBounds(ZoneCode.HL, 200.0, 400.0, 14)
    r = resolve(loaded, "HL", 2)
    assert [str(s) for s in r.provenance["dose_ceiling_per_cm2"]] == [
        "ours.toml zones.HL.dose_ceiling_per_cm2 = 400"
    ]
    assert r.came_from("dose_target_per_cm2") == "smp-base.toml zones.HL.dose_target_per_cm2 = 200"
    assert r.came_from("min_interval_days") == "ours.toml zones.HL.min_interval_days = 14"

    args = ["profiles", "show", "ours", "--zone", "HL", "--session", "2"]
    assert main([*args, "--profiles-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "dose bounds (punctures per cm² per session; see docs/dose.md):" in out
    assert (
        "  dose_ceiling_per_cm2 400 /cm²  (near from 360, 90 % of the ceiling)\n"
        "                         <- ours.toml zones.HL.dose_ceiling_per_cm2 = 400\n"
    ) in out
    assert "<- smp-base.toml zones.HL.dose_target_per_cm2 = 200" in out

    assert main([*args, "--profiles-dir", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dose"] == {
        "zone": "HL",
        "target_per_cm2": 200.0,
        "ceiling_per_cm2": 400.0,
        "near_per_cm2": 360.0,
        "min_interval_days": 14,
    }
    assert data["provenance"]["min_interval_days"][0]["file"] == "ours.toml"
    assert data["kind"] == "smp" and data["cartridges"] == ["1RL"]


def test_a_session_may_have_its_own_target_and_ceiling(tmp_path: Path, write: Write) -> None:
    child = write(
        "light.toml",
        'extends = "smp-base"\n[zones.HL.sessions.1]\ndose_target_per_cm2 = 150\n'
        "dose_ceiling_per_cm2 = 300\n",
    )
    loaded = library(tmp_path).load(child)
    assert loaded.bounds_for("HL", 1) == DoseBounds(ZoneCode.HL, 150.0, 300.0, 10)
    assert loaded.bounds_for("HL", 2) == DoseBounds(ZoneCode.HL, 200.0, 480.0, 10)
    assert loaded.bounds_for("HL") == DoseBounds(ZoneCode.HL, 200.0, 480.0, 10)
    r = resolve(loaded, "HL", 1)
    assert r.came_from("dose_target_per_cm2") == (
        "light.toml zones.HL.sessions.1.dose_target_per_cm2 = 150"
    )


def test_a_profile_without_bounds_still_loads_and_has_none(tmp_path: Path, write: Write) -> None:
    loaded = library(tmp_path).load(write("old.toml", MINIMAL))
    assert loaded.kind is ProfileKind.SMP
    assert loaded.bounds_for("HL") is None and loaded.zone_bounds() == {}
    assert loaded.min_intervals() == {}
    assert resolve(loaded, "HL", 1).dose is None


def test_bounds_for_a_zone_the_profile_lacks_is_refused(tmp_path: Path, write: Write) -> None:
    loaded = library(tmp_path).load(write("old.toml", MINIMAL))
    with pytest.raises(UnknownZoneError, match="has no settings for zone CRN; it covers HL"):
        loaded.bounds_for("CRN")
    with pytest.raises(UnknownZoneError, match="unknown zone code 'XX'"):
        loaded.bounds_for("XX")


def test_the_profiles_intervals_feed_the_interval_warnings() -> None:
    gentle = ProfileLibrary.default().load("mn-gentle")
    last = {ZoneCode.CRN: date(2026, 11, 10), ZoneCode.HL: date(2026, 10, 1)}
    [warning] = interval_warnings(last, gentle.min_intervals(), date(2026, 11, 25))
    assert warning.message.startswith(
        "CRN last treated 2026-11-10, 15 days ago (today is 2026-11-25); this profile asks "
        "for at least 28 days"
    )


# ------------------------------------------------------------------------- bad input


def test_a_target_above_its_ceiling_is_refused(tmp_path: Path, write: Write) -> None:
    path = write(
        "t.toml",
        MINIMAL + "dose_target_per_cm2 = 500\ndose_ceiling_per_cm2 = 400\nmin_interval_days = 10\n",
    )
    assert problems_of(tmp_path, path) == [
        f"{path}: zones.HL.dose_target_per_cm2 = 500.0: must not exceed dose_ceiling_per_cm2 = "
        "400 punctures/cm²: the target is what a session aims for, the ceiling where it stops; "
        "lower the target or raise the ceiling"
    ]


def test_a_ceiling_lowered_below_the_parents_target_names_both_files(
    tmp_path: Path, write: Write
) -> None:
    child = write("low.toml", 'extends = "smp-base"\n[zones.HL]\ndose_ceiling_per_cm2 = 150\n')
    assert problems_of(tmp_path, child) == [
        f"{BASE}: zones.HL.dose_target_per_cm2 = 200.0: must not exceed "
        "dose_ceiling_per_cm2 = 150 punctures/cm²: the target is what a session aims for, the "
        "ceiling where it stops; lower the target or raise the ceiling "
        f"(zones.HL.dose_ceiling_per_cm2 is set in {child})"
    ]


def test_a_session_target_above_the_zone_ceiling_is_refused(tmp_path: Path, write: Write) -> None:
    child = write(
        "s.toml", 'extends = "smp-base"\n[zones.HL.sessions.2]\ndose_target_per_cm2 = 500\n'
    )
    [problem] = problems_of(tmp_path, child)
    assert problem.startswith(
        f"{child}: zones.HL.sessions.2.dose_target_per_cm2 = 500.0: must not exceed "
        "dose_ceiling_per_cm2 = 480 punctures/cm²"
    )
    assert problem.endswith(f"(zones.HL.dose_ceiling_per_cm2 is set in {BASE})")


def test_a_negative_interval_is_refused(tmp_path: Path, write: Write) -> None:
    child = write("neg.toml", 'extends = "smp-base"\n[zones.CRN]\nmin_interval_days = -1\n')
    assert problems_of(tmp_path, child) == [
        f"{child}: zones.CRN.min_interval_days = -1: allowed 0–365 days "
        "(0: no minimum; a year or more is a new plan)"
    ]
    frac = write("frac.toml", 'extends = "smp-base"\n[zones.CRN]\nmin_interval_days = 7.5\n')
    assert problems_of(tmp_path, frac) == [
        f"{frac}: zones.CRN.min_interval_days = 7.5: must be a whole number in days"
    ]


def test_a_ceiling_above_the_hard_maximum_is_refused(tmp_path: Path, write: Write) -> None:
    smp = write("big.toml", 'extends = "smp-base"\n[zones.OCC]\ndose_ceiling_per_cm2 = 4000\n')
    assert problems_of(tmp_path, smp) == [
        f"{smp}: zones.OCC.dose_ceiling_per_cm2 = 4000: allowed above 0 up to 3600 "
        "punctures/cm² (hard limits, smpctl.hard_limits)"
    ]
    mn = write("mnbig.toml", 'extends = "mn-scalp"\n[zones.OCC]\ndose_ceiling_per_cm2 = 700\n')
    assert problems_of(tmp_path, mn) == [
        f"{mn}: zones.OCC.dose_ceiling_per_cm2 = 700.0: allowed above 0 up to 600 "
        "punctures/cm² in a microneedling profile (hard limits, smpctl.hard_limits); lower it"
    ]
    zero = write("zero.toml", 'extends = "smp-base"\n[zones.OCC]\ndose_target_per_cm2 = 0\n')
    assert problems_of(tmp_path, zero) == [
        f"{zero}: zones.OCC.dose_target_per_cm2 = 0: allowed above 0 up to 3600 "
        "punctures/cm² (hard limits, smpctl.hard_limits)"
    ]


def test_smp_dose_keys_come_all_together(tmp_path: Path, write: Write) -> None:
    path = write("part.toml", MINIMAL + "dose_target_per_cm2 = 200\n")
    expected = (
        "missing; required with dose_target_per_cm2: set all of dose_target_per_cm2, "
        "dose_ceiling_per_cm2, min_interval_days for the zone, or none"
    )
    assert problems_of(tmp_path, path) == [
        f"{path}: zones.HL.dose_ceiling_per_cm2: {expected}",
        f"{path}: zones.HL.min_interval_days: {expected}",
    ]


def test_a_microneedling_profile_must_not_name_an_smp_needle(tmp_path: Path, write: Write) -> None:
    path = write("mn.toml", 'extends = "mn-scalp"\n[zones.HL]\nneedle = "1RL"\n')
    assert problems_of(tmp_path, path) == [
        f'{path}: zones.HL.needle = "1RL": a microneedling profile names cartridge kinds in '
        '`cartridges` (e.g. ["12-pin", "36-pin"]), not an SMP needle: remove it'
    ]


def test_a_microneedling_profile_takes_only_multi_needle_cartridges(
    tmp_path: Path, write: Write
) -> None:
    liner = write("liner.toml", 'extends = "mn-scalp"\ncartridges = ["3RL", "36-pin"]\n')
    assert problems_of(tmp_path, liner) == [
        f'{liner}: cartridges.0 = "3RL": not a microneedling cartridge; allowed: 9-pin, '
        "12-pin, 16-pin, 24-pin, 36-pin, 42-pin, nano"
    ]
    typo = write("typo.toml", 'extends = "mn-scalp"\ncartridges = ["36pin"]\n')
    [problem] = problems_of(tmp_path, typo)
    assert problem.startswith(f"{typo}: cartridges.0 = \"36pin\": did you mean '36-pin'?")
    empty = write("empty.toml", 'extends = "mn-scalp"\n[zones.CRN]\ncartridges = []\n')
    assert problems_of(tmp_path, empty) == [
        f'{empty}: zones.CRN.cartridges = []: list at least one cartridge kind, e.g. ["12-pin", '
        '"36-pin"]'
    ]


def test_a_microneedling_zone_needs_cartridges_and_dose_bounds(
    tmp_path: Path, write: Write
) -> None:
    text = (
        MINIMAL.replace('needle = "1RL"\nneedle_diameter_mm = 0.18\n', "")
        .replace('description = "one zone"', 'description = "mn"\nkind = "microneedling"')
        .replace("depth_mm = 0.8", "depth_mm = 0.6")
    )
    path = write("bare.toml", text)
    dose = "missing; required for every zone of a microneedling profile (docs/dose.md)"
    assert problems_of(tmp_path, path) == [
        f"{path}: zones.HL.dose_target_per_cm2: {dose}",
        f"{path}: zones.HL.dose_ceiling_per_cm2: {dose}",
        f"{path}: zones.HL.min_interval_days: {dose}",
        f"{path}: zones.HL.cartridges: missing; required in a microneedling profile: a list of "
        'cartridge kinds, e.g. ["12-pin", "36-pin"], for the whole profile or for this zone',
    ]


def test_an_smp_profile_names_no_cartridge_list(tmp_path: Path, write: Write) -> None:
    path = write("smp.toml", 'extends = "smp-base"\ncartridges = ["12-pin"]\n')
    assert problems_of(tmp_path, path) == [
        f'{path}: cartridges = ["12-pin"]: only in a microneedling profile (kind = '
        '"microneedling"); an SMP zone\'s cartridge is its needle (1RL or 3RL): remove it'
    ]


def test_an_unknown_kind_suggests_the_right_one(tmp_path: Path, write: Write) -> None:
    path = write("k.toml", 'kind = "microneedle"\n' + MINIMAL)
    assert problems_of(tmp_path, path) == [
        f"{path}: kind = \"microneedle\": did you mean 'microneedling'? allowed: 'smp', "
        "'microneedling'"
    ]
