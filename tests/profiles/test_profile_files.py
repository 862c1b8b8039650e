"""Profile files: every bad input gets its own clear message; the shipped set is valid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from profiles_support import MINIMAL

from smpctl import hard_limits as hard
from smpctl.errors import (
    ProfileCycleError,
    ProfileError,
    ProfileNotFoundError,
    ProfileSyntaxError,
)
from smpctl.profiles import ProfileLibrary, RunModeName
from smpctl.profiles.loader import SHIPPED_DIR
from smpctl.profiles.model import NeedleKind
from smpctl.zones import ScarKind, ZoneCode

Write = Callable[[str, str], Path]


def library(tmp_path: Path) -> ProfileLibrary:
    return ProfileLibrary([tmp_path, SHIPPED_DIR])


def problems_of(tmp_path: Path, path: Path) -> list[str]:
    with pytest.raises(ProfileError) as info:
        library(tmp_path).load(path)
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------------- shipped set


def test_shipped_profiles_are_valid() -> None:
    lib = ProfileLibrary.default()
    names = lib.names()
    assert {"smp-base", "smp-conservative", "smp-dotting"} <= set(names)
    for name in names:
        loaded = lib.load(name)
        assert loaded.description


def test_base_profile_covers_every_zone_sessions_scars_and_skin() -> None:
    base = ProfileLibrary.default().load("smp-base").profile
    assert set(base.zones) == set(ZoneCode)
    assert {1, 2, 3} <= set(base.sessions)
    assert set(base.scars) == set(ScarKind)
    assert {s.value for s in base.skin} == {"thin", "oily", "scarred", "sun-damaged"}


def test_base_zone_values_lie_in_the_domain_ranges() -> None:
    base = ProfileLibrary.default().load("smp-base").profile
    fine = {ZoneCode.HL, ZoneCode.TMP_L, ZoneCode.TMP_R, ZoneCode.NAP}
    for code, zone in base.zones.items():
        assert zone.speed_hz is not None and zone.stroke_mm is not None
        assert zone.depth_mm is not None and zone.needle_diameter_mm is not None
        if code in fine:
            assert zone.needle is NeedleKind.RL1
            assert 0.18 <= zone.needle_diameter_mm <= 0.20
            assert 2.5 <= zone.stroke_mm <= 3.0 and 90 <= zone.speed_hz <= 110
            assert zone.depth_mm <= 0.8 and zone.max_depth_mm == 1.2
        else:
            assert zone.needle is NeedleKind.RL3 and zone.needle_diameter_mm == 0.25
            assert 3.0 <= zone.stroke_mm <= 3.5 and 100 <= zone.speed_hz <= 120
            assert zone.depth_mm <= 1.0 and zone.max_depth_mm == 1.5
        assert zone.speed_hz <= hard.MAX_SPEED_HZ
    for scar in base.scars.values():
        assert scar.needle is NeedleKind.RL1 and scar.needle_diameter_mm == 0.20
        assert scar.depth_change_mm == -0.2 and scar.speed_change_pct == -10


def test_shipped_variants_extend_the_base() -> None:
    lib = ProfileLibrary.default()
    dotting = lib.load("smp-dotting")
    assert [p.stem for p in dotting.chain] == ["smp-dotting", "smp-base"]
    assert dotting.profile.run.mode is RunModeName.PULSED
    assert lib.load("smp-conservative").profile.limits.max_depth_mm == 1.1


# ------------------------------------------------------------------------- bad input


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ProfileNotFoundError) as info:
        library(tmp_path).load(missing)
    assert str(info.value) == f"{missing}: no such file; check the path"
    assert isinstance(info.value, FileNotFoundError)


def test_unknown_profile_name_suggests_a_close_one(tmp_path: Path) -> None:
    with pytest.raises(
        ProfileNotFoundError, match="no profile named 'smp-bse'; did you mean 'smp-base'"
    ):
        library(tmp_path).load("smp-bse")


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path, write: Write) -> None:
    path = write("bad.toml", 'description = "x"\n[run]\nmode = = "continuous"\n')
    with pytest.raises(ProfileSyntaxError) as info:
        library(tmp_path).load(path)
    assert (info.value.line, info.value.column) == (3, 8)
    assert str(info.value) == (
        f"{path}: TOML syntax error at line 3, column 8: Invalid value. Fix the syntax there."
    )


def test_wrong_type_says_what_is_expected(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL.replace("depth_mm = 0.8", 'depth_mm = "0.8"'))
    assert problems_of(tmp_path, path) == [
        f'{path}: zones.HL.depth_mm = "0.8": must be a number in mm'
    ]


def test_out_of_range_value_names_the_hard_limit(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL.replace("depth_mm = 0.8", "depth_mm = 2.5"))
    found = problems_of(tmp_path, path)
    assert (
        f"{path}: zones.HL.depth_mm = 2.5: allowed above 0 up to 2 mm "
        "(hard limits, smpctl.hard_limits)"
    ) in found


def test_speed_above_hard_limit_is_refused(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL.replace("speed_hz = 100.0", "speed_hz = 151.0"))
    assert problems_of(tmp_path, path) == [
        f"{path}: zones.HL.speed_hz = 151.0: allowed above 0 up to 150 Hz "
        "(hard limits, smpctl.hard_limits)"
    ]


def test_unknown_zone_code_suggests_the_right_one(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL + '[zones.HLL]\nneedle = "1RL"\n')
    [message] = problems_of(tmp_path, path)
    assert message.startswith(
        f"{path}: zones.HLL = \"HLL\": unknown zone code; did you mean 'HL'? allowed: HL, TMP_L"
    )


def test_unknown_key_suggests_the_right_one(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL.replace("depth_mm = 0.8", "depth_mm = 0.8\ndepht_mm = 0.9"))
    [message] = problems_of(tmp_path, path)
    assert message.startswith(
        f"{path}: zones.HL.depht_mm = 0.9: unknown key; did you mean 'depth_mm'? allowed here:"
    )


def test_unknown_needle_suggests_the_right_one(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL.replace('needle = "1RL"', 'needle = "1rl"'))
    assert problems_of(tmp_path, path) == [
        f"{path}: zones.HL.needle = \"1rl\": did you mean '1RL'? allowed: '1RL', '3RL'"
    ]


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path, write: Write) -> None:
    text = MINIMAL.replace("depth_mm = 0.8", "depth_mm = 2.5").replace("ramp_ms = 100", "ramp = 1")
    found = problems_of(tmp_path, write("t.toml", text))
    assert len(found) == 2
    assert any("zones.HL.depth_mm" in p for p in found)
    assert any("run.ramp = 1: unknown key; did you mean 'ramp_ms'?" in p for p in found)


def test_extends_cycle_is_refused(tmp_path: Path, write: Write) -> None:
    write("a.toml", 'extends = "b"\n' + MINIMAL)
    b = write("b.toml", 'extends = "a"\n')
    with pytest.raises(ProfileCycleError) as info:
        library(tmp_path).load("a")
    assert str(info.value) == (
        f'{b}: extends = "a": profiles extend each other in a cycle (a -> b -> a); '
        "make one of them stop extending the other"
    )


def test_extending_itself_is_a_cycle(tmp_path: Path, write: Write) -> None:
    write("a.toml", 'extends = "a"\n' + MINIMAL)
    with pytest.raises(ProfileCycleError, match=r"\(a -> a\)"):
        library(tmp_path).load("a")


def test_extends_a_missing_profile(tmp_path: Path, write: Write) -> None:
    path = write("a.toml", 'extends = "nothere"\n')
    with pytest.raises(ProfileNotFoundError) as info:
        library(tmp_path).load(path)
    assert str(info.value).startswith(f"{path}: extends = \"nothere\": no profile named 'nothere'")


def test_depth_beyond_the_zones_own_maximum_is_refused(tmp_path: Path, write: Write) -> None:
    text = MINIMAL.replace("depth_mm = 0.8", "depth_mm = 0.8\nmax_depth_mm = 1.0") + (
        "[zones.HL.sessions.2]\ndepth_mm = 1.1\n"
    )
    path = write("t.toml", text)
    assert problems_of(tmp_path, path) == [
        f"{path}: zones.HL.sessions.2.depth_mm = 1.1: deeper than this zone's max_depth_mm = 1"
    ]


def test_depth_never_exceeds_stroke_within_the_hard_limits() -> None:
    # The model's depth <= stroke rule is a guard: with the hard limits as they are (depth at
    # most MAX_DEPTH_MM, stroke at least MIN_STROKE_MM) no valid pair can break it.
    assert hard.MAX_DEPTH_MM <= hard.MIN_STROKE_MM


def test_limits_min_above_max_is_refused(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL + "[limits]\nmin_speed_hz = 110.0\nmax_speed_hz = 100.0\n")
    assert f"{path}: limits.min_speed_hz = 110.0: must not exceed max_speed_hz = 100 Hz" in (
        problems_of(tmp_path, path)
    )


def test_ramp_must_be_shorter_than_a_pass(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL.replace("ramp_ms = 100", "ramp_ms = 400"))
    assert problems_of(tmp_path, path) == [
        f"{path}: run.ramp_ms = 400: the soft start must be shorter than a pass "
        "(min_pass_ms = 400), or the needle never reaches speed in skin"
    ]


def test_pulsed_mode_needs_sane_pulse_times(tmp_path: Path, write: Write) -> None:
    text = MINIMAL.replace(
        'mode = "continuous"', 'mode = "pulsed"\npulse_on_ms = 300\npulse_off_ms = 200'
    )
    path = write("t.toml", text)
    assert problems_of(tmp_path, path) == [
        f"{path}: run.pulse_off_ms = 200: pulse_on_ms + pulse_off_ms must fit in one pass "
        "(min_pass_ms = 400), so each pass lays at least one whole dot"
    ]
    text = MINIMAL.replace('mode = "continuous"', 'mode = "pulsed"\npulse_on_ms = 5')
    found = problems_of(tmp_path, write("u.toml", text))
    assert found == [
        f"{tmp_path / 'u.toml'}: run.pulse_on_ms = 5: allowed 10–1000 ms (what the pen accepts)"
    ]


def test_pulsed_mode_without_pulse_times_is_incomplete(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL.replace('mode = "continuous"', 'mode = "pulsed"'))
    assert problems_of(tmp_path, path) == [
        f'{path}: run.pulse_on_ms: missing; required with mode = "pulsed"',
        f'{path}: run.pulse_off_ms: missing; required with mode = "pulsed"',
    ]


def test_pulse_times_in_continuous_mode_are_refused(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL.replace("ramp_ms = 100", "ramp_ms = 100\npulse_on_ms = 50"))
    assert problems_of(tmp_path, path) == [
        f'{path}: run.pulse_on_ms = 50: only with mode = "pulsed"; remove it'
    ]


def test_a_zone_missing_a_value_is_incomplete(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL.replace("stroke_mm = 2.8\n", ""))
    assert problems_of(tmp_path, path) == [
        f"{path}: zones.HL.stroke_mm: missing; required for every zone"
    ]


def test_value_outside_the_profiles_own_limits(tmp_path: Path, write: Write) -> None:
    path = write("t.toml", MINIMAL + "[limits]\nmax_depth_mm = 0.7\n")
    assert problems_of(tmp_path, path) == [
        f"{path}: zones.HL.depth_mm = 0.8: allowed 0–0.7 mm (this profile's [limits])"
    ]


def test_child_problem_is_reported_against_the_child_file(tmp_path: Path, write: Write) -> None:
    write("parent.toml", MINIMAL)
    child = write("child.toml", 'extends = "parent"\n[zones.HL]\ndepth_mm = 2.9\n')
    found = problems_of(tmp_path, child)
    assert found[0].startswith(f"{child}: zones.HL.depth_mm = 2.9: allowed above 0 up to 2 mm")


def test_rule_spanning_files_names_the_file_that_broke_it(tmp_path: Path, write: Write) -> None:
    write("parent.toml", MINIMAL)
    child = write("child.toml", 'extends = "parent"\n[limits]\nmax_speed_hz = 90.0\n')
    found = problems_of(tmp_path, child)
    assert found == [
        f"{tmp_path / 'parent.toml'}: zones.HL.speed_hz = 100.0: allowed 0–90 Hz "
        "(this profile's [limits])"
    ]


def test_a_child_overrides_only_what_it_says(tmp_path: Path, write: Write) -> None:
    write("parent.toml", MINIMAL)
    child = write(
        "child.toml", 'extends = "parent"\ndescription = "c"\n[zones.HL]\ndepth_mm = 0.7\n'
    )
    loaded = library(tmp_path).load(child)
    zone = loaded.profile.zones[ZoneCode.HL]
    assert (zone.depth_mm, zone.stroke_mm) == (0.7, 2.8)
    assert loaded.origin("zones.HL.depth_mm") == "child.toml"
    assert loaded.origin("zones.HL.stroke_mm") == "parent.toml"
    assert loaded.description == "c"


def test_shipped_dir_is_found_next_to_the_package() -> None:
    assert (SHIPPED_DIR / "smp-base.toml").is_file()
