"""Resolution: deterministic, with the provenance of every value; clinic and limits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from profiles_support import MINIMAL

from smpctl import hard_limits as hard
from smpctl.client import PenLimits
from smpctl.errors import (
    ClinicSettingsError,
    SetpointOutsideLimitsError,
    UnknownZoneError,
)
from smpctl.profiles import (
    ProfileLibrary,
    limits_for,
    limits_in_force,
    load_clinic,
    resolve,
)
from smpctl.profiles.clinic import profile_needle_problems
from smpctl.profiles.loader import SHIPPED_DIR, profile_hash
from smpctl.profiles.model import Limits, NeedleKind
from smpctl.zones import ScarKind, ZoneCode

Write = Callable[[str, str], Path]


@pytest.fixture
def lib() -> ProfileLibrary:
    return ProfileLibrary.default()


def test_resolution_is_deterministic_whatever_the_order_of_modifiers(lib: ProfileLibrary) -> None:
    base = lib.load("smp-base")
    a = resolve(base, "HL", 2, skin=["scarred", "thin"], scar="FUE")
    b = resolve(lib.load("smp-base"), ZoneCode.HL, 2, skin=["thin", "scarred"], scar="SCR_FUE")
    assert a == b
    assert a.values() == b.values()
    assert [s.value for s in a.skin] == ["thin", "scarred"]


def test_provenance_names_each_file_and_key(lib: ProfileLibrary) -> None:
    r = resolve(lib.load("smp-base"), "HL", 2, skin=["thin", "scarred"], scar="FUE")
    assert (r.speed_hz, r.depth_mm, r.stroke_mm) == (81.0, 0.4, 2.8)
    assert r.needle is NeedleKind.RL1 and r.needle_diameter_mm == 0.20
    assert r.came_from("depth_mm") == (
        "smp-base.toml zones.HL.depth_mm = 0.8; "
        "smp-base.toml skin.thin.depth_change_mm = -0.1 -> 0.7; "
        "smp-base.toml skin.scarred.depth_change_mm = -0.1 -> 0.6; "
        "smp-base.toml scars.SCR_FUE.depth_change_mm = -0.2 -> 0.4"
    )
    assert r.came_from("speed_hz").endswith("scars.SCR_FUE.speed_change_pct = -10 -> 81")


def test_session_one_is_lighter_than_later_sessions(lib: ProfileLibrary) -> None:
    base = lib.load("smp-base")
    for zone in ZoneCode:
        first, second, third = (resolve(base, zone, n) for n in (1, 2, 3))
        assert first.depth_mm < second.depth_mm
        assert second.values() == third.values()
    hl = resolve(base, "HL", 1)
    assert hl.depth_mm == 0.65
    assert hl.came_from("depth_mm").endswith("smp-base.toml zones.HL.sessions.1.depth_mm = 0.65")


def test_scar_overlay_follows_the_domain_rule(lib: ProfileLibrary) -> None:
    base = lib.load("smp-base")
    for zone in ZoneCode:
        plain = resolve(base, zone, 2)
        for kind in ScarKind:
            scar = resolve(base, zone, 2, scar=kind)
            assert scar.needle is NeedleKind.RL1 and scar.needle_diameter_mm == 0.20
            assert scar.stroke_mm == plain.stroke_mm
            assert scar.depth_mm == pytest.approx(plain.depth_mm - 0.2)
            assert scar.speed_hz == pytest.approx(plain.speed_hz * 0.9)


def test_extending_profile_provenance_points_at_the_child(lib: ProfileLibrary) -> None:
    r = resolve(lib.load("smp-conservative"), "FRN", 2)
    assert r.came_from("depth_mm") == "smp-conservative.toml zones.FRN.depth_mm = 0.9"
    assert r.came_from("stroke_mm") == "smp-base.toml zones.FRN.stroke_mm = 3.2"
    assert r.limits.max_depth_mm.value == 1.1
    assert r.limits.max_depth_mm.source == "smp-conservative.toml [limits]"


def test_a_combination_outside_the_limits_is_refused_not_clamped(lib: ProfileLibrary) -> None:
    with pytest.raises(SetpointOutsideLimitsError) as info:
        resolve(
            lib.load("smp-base"),
            "HL",
            1,
            skin=["thin", "oily", "scarred", "sun-damaged"],
            scar="FUT",
        )
    message = str(info.value)
    assert message.startswith("depth_mm 0.1 is outside the limits in force: at least 0.4 mm")
    assert "smp-base.toml scars.SCR_FUT.depth_change_mm = -0.2 -> 0.1" in message
    assert "Nothing was sent to the pen" in message


def test_unknown_zone_code_suggests_one(lib: ProfileLibrary) -> None:
    with pytest.raises(UnknownZoneError, match="unknown zone code 'TMPL'; did you mean 'TMP_L'"):
        resolve(lib.load("smp-base"), "TMPL", 1)


def test_unknown_skin_condition_and_scar_are_named(lib: ProfileLibrary) -> None:
    base = lib.load("smp-base")
    with pytest.raises(UnknownZoneError, match="unknown skin condition 'thn'; did you mean 'thin'"):
        resolve(base, "HL", 1, skin=["thn"])
    with pytest.raises(UnknownZoneError, match="unknown scar kind 'FUEE'; did you mean 'SCR_FUE'"):
        resolve(base, "HL", 1, scar="FUEE")
    with pytest.raises(UnknownZoneError, match="defines no session 6 for zone HL"):
        resolve(base, "HL", 6)


def test_profile_hash_is_stable_and_changes_with_content(lib: ProfileLibrary) -> None:
    a, b = lib.load("smp-base"), lib.load("smp-base")
    assert a.hash == b.hash == profile_hash(a.profile)
    assert a.hash != lib.load("smp-conservative").hash


# ------------------------------------------------------------------------- limits, clinic


def test_limits_in_force_are_the_strictest_with_their_source() -> None:
    pen = PenLimits(140.0, 2.2, 3.8, 0.0, 1.6, 3.0, 41.0, 300, 500, 2000)
    limits = limits_in_force(
        pen=pen,
        pen_name="pen X",
        clinic=Limits(max_depth_mm=1.4, max_speed_hz=145.0),
        profile=Limits(max_speed_hz=120.0, max_stroke_mm=3.9),
        profile_name="profile p",
    )
    assert (limits.max_speed_hz.value, limits.max_speed_hz.source) == (120.0, "profile p")
    assert (limits.max_depth_mm.value, limits.max_depth_mm.source) == (1.4, "clinic settings")
    assert (limits.min_stroke_mm.value, limits.min_stroke_mm.source) == (2.2, "pen X's own limit")
    assert limits.max_stroke_mm.value == 3.8
    hard_only = limits_in_force()
    assert hard_only.max_speed_hz.value == hard.MAX_SPEED_HZ
    assert hard_only.max_depth_mm.value == hard.MAX_DEPTH_MM


def test_clinic_settings_tighten_the_profile(write: Write, lib: ProfileLibrary) -> None:
    clinic = load_clinic(str(write("clinic.toml", "[limits]\nmax_depth_mm = 0.9\n")))
    base = lib.load("smp-base")
    limits = limits_for(base, clinic=clinic)
    assert limits.max_depth_mm.value == 0.9
    assert limits.max_depth_mm.source.startswith("clinic settings ")
    assert resolve(base, "HL", 2, limits=limits).depth_mm == 0.8
    with pytest.raises(SetpointOutsideLimitsError, match=r"at most 0\.9 mm \(clinic settings"):
        resolve(base, "FRN", 2, limits=limits)


def test_clinic_settings_cannot_loosen_the_hard_limits(write: Write) -> None:
    path = write("clinic.toml", "[limits]\nmax_depth_mm = 2.5\nmin_stroke_mm = 1.5\n")
    with pytest.raises(ClinicSettingsError) as info:
        load_clinic(str(path))
    assert [str(p) for p in info.value.problems] == [
        f"{path}: limits.min_stroke_mm = 1.5: allowed 2–4 mm (hard limits, smpctl.hard_limits); "
        "clinic settings can only tighten the hard limits",
        f"{path}: limits.max_depth_mm = 2.5: allowed 0–2 mm (hard limits, smpctl.hard_limits); "
        "clinic settings can only tighten the hard limits",
    ]


def test_clinic_looser_than_the_profile_changes_nothing(write: Write, lib: ProfileLibrary) -> None:
    clinic = load_clinic(str(write("clinic.toml", "[limits]\nmax_speed_hz = 140.0\n")))
    limits = limits_for(lib.load("smp-base"), clinic=clinic)
    assert limits.max_speed_hz.value == 120.0
    assert limits.max_speed_hz.source == "smp-base.toml [limits]"


def test_no_clinic_file_means_no_clinic_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMPCTL_CLINIC", "")
    assert load_clinic().path is None


def test_a_named_clinic_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no such file"):
        load_clinic(str(tmp_path / "missing.toml"))


def test_needles_the_clinics_pens_do_not_take_are_listed(write: Write, lib: ProfileLibrary) -> None:
    clinic = load_clinic(
        str(
            write(
                "clinic.toml",
                'accepted_needles = [{ needle = "1RL", needle_diameter_mm = 0.20 },'
                ' { needle = "3RL", needle_diameter_mm = 0.25 }]\n',
            )
        )
    )
    base = lib.load("smp-base")
    problems = profile_needle_problems(
        base.profile, clinic, file_of={}, default_file=str(SHIPPED_DIR / "smp-base.toml")
    )
    assert [p.key_path for p in problems] == ["zones.HL.needle"]
    assert str(problems[0]).endswith(
        'zones.HL.needle = "1RL 0.18 mm": the clinic\'s pens does not accept this cartridge; '
        f"it accepts 1RL 0.20 mm, 3RL 0.25 mm (clinic settings {clinic.path} accepted_needles)"
    )


def test_a_profile_found_in_profiles_dir_hides_the_shipped_one(
    write: Write, tmp_path: Path
) -> None:
    write("smp-base.toml", MINIMAL)
    lib = ProfileLibrary.default([tmp_path])
    [entry] = [e for e in lib.entries() if e.name == "smp-base"]
    assert entry.path == tmp_path / "smp-base.toml"
    assert entry.shadows == (SHIPPED_DIR / "smp-base.toml",)
