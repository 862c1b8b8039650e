"""`smpctl profiles …` and `smpctl apply` through ``smpctl.cli.main``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from profiles_support import MINIMAL

import smpctl.sim as sim
from smpctl.cli import main
from smpctl.profiles.loader import SHIPPED_DIR

Write = Callable[[str, str], Path]


def test_list_shows_the_shipped_profiles_with_descriptions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["profiles", "list"]) == 0
    out = capsys.readouterr().out
    assert "smp-base  " in out
    assert "Standard SMP, three sessions" in out
    assert "smp-conservative" in out and "smp-dotting" in out


def test_list_json_includes_a_profiles_dir(
    write: Write, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write("mine.toml", MINIMAL)
    assert main(["profiles", "list", "--json", "--profiles-dir", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {p["name"] for p in data["profiles"]} >= {"mine", "smp-base"}
    assert data["search_path"][0] == str(tmp_path)


def test_show_prints_setpoints_and_where_each_came_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["profiles", "show", "smp-base", "--zone", "HL", "--session", "2"]
    assert main([*args, "--skin", "thin,scarred", "--scar", "FUE"]) == 0
    out = capsys.readouterr().out
    assert (
        "profile smp-base  zone HL (hairline)  session 2  skin: thin, scarred  scar: SCR_FUE" in out
    )
    assert "  depth_mm             0.4 mm" in out
    assert "<- smp-base.toml scars.SCR_FUE.depth_change_mm = -0.2 -> 0.4" in out
    assert "<- smp-base.toml skin.scarred.speed_change_pct = -10 -> 90" in out
    assert "limits in force:" in out


def test_show_json_is_machine_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["profiles", "show", "smp-dotting", "--zone", "crn", "--session", "1", "--json"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["zone"] == "CRN" and data["session"] == 1
    assert data["setpoints"]["run_mode"] == "pulsed"
    assert data["setpoints"]["depth_mm"] == 0.9
    assert data["provenance"]["run_mode"][0] == {
        "file": "smp-dotting.toml",
        "key": "run.mode",
        "written": "pulsed",
        "result": "pulsed",
    }


def test_show_unknown_zone_is_an_error_with_a_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["profiles", "show", "smp-base", "--zone", "NAPE", "--session", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("smpctl: error: unknown zone code 'NAPE'; did you mean 'NAP'?")


def test_check_passes_the_shipped_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in sorted(SHIPPED_DIR.glob("*.toml"))]
    assert main(["profiles", "check", *files]) == 0
    out = capsys.readouterr().out
    assert all(f"{f}: ok" in out for f in files)


def test_check_prints_every_problem_and_fails(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write("good.toml", MINIMAL)
    bad = write("bad.toml", MINIMAL.replace("depth_mm = 0.8", "depth_mm = 2.5\ndepht = 1"))
    broken = write("broken.toml", "[zones\n")
    assert main(["profiles", "check", str(good), str(bad), str(broken)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: zones.HL.depth_mm = 2.5: allowed above 0 up to 2 mm" in out
    assert f"{bad}: zones.HL.depht = 1: unknown key; did you mean 'depth_mm'?" in out
    assert f"{broken}: TOML syntax error at line 1, column 7" in out
    assert f"{good}: ok" in out
    assert "3 problems found" in out


def test_check_reports_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "gone.toml"
    assert main(["profiles", "check", str(missing)]) == 1
    assert f"{missing}: no such file; check the path" in capsys.readouterr().out


def test_check_reports_needles_the_clinic_does_not_take(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = write(
        "clinic.toml", 'accepted_needles = [{ needle = "3RL", needle_diameter_mm = 0.25 }]\n'
    )
    base = str(SHIPPED_DIR / "smp-base.toml")
    assert main(["profiles", "check", base, "--clinic", str(clinic)]) == 1
    out = capsys.readouterr().out
    assert 'zones.HL.needle = "1RL 0.18 mm": the clinic\'s pens does not accept' in out


def test_diff_lists_changes_per_zone_and_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "diff", "smp-base", "smp-conservative"]) == 0
    out = capsys.readouterr().out
    assert (
        "[zones.FRN]\n  depth_mm: 1 -> 0.9\n  dose_ceiling_per_cm2: 1800 -> 1440\n"
        "  min_interval_days: 10 -> 14\n  speed_hz: 110 -> 105\n"
    ) in out
    assert "[limits]\n  max_depth_mm: 1.5 -> 1.1\n" in out
    assert "[skin." not in out and "[scars." not in out


def test_diff_of_a_profile_with_itself_is_empty(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "diff", "smp-base", "smp-base"]) == 0
    assert "no differences" in capsys.readouterr().out


def test_apply_without_a_port_uses_the_labelled_simulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "smpctl.cli.profiles_cmd.resolve_port", lambda port: ("sim://cliapply", True)
    )
    try:
        assert main(["apply", "smp-base", "--zone", "HL", "--session", "2"]) == 0
    finally:
        if sim.BUS.get("cliapply") is not None:
            sim.BUS.power_off("cliapply")
    out = capsys.readouterr().out
    assert out.startswith("*** SIMULATED PEN")
    assert "— SIMULATED" in out
    assert (
        "acknowledged by the pen:\n  speed_hz             100 Hz\n  stroke_mm            2.8 mm"
        in out
    )


def test_apply_to_a_port_reports_json(sim_name: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["apply", "smp-base", "--zone", "MID", "--session", "1", "--skin", "oily"]
    assert main([*args, "--port", f"sim://{sim_name}", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["simulated"] is True
    assert data["applied"]["speed_hz"] == 115.5
    assert data["applied"]["depth_mm"] == 0.85
    assert data["resolved"]["setpoints"]["speed_hz"] == 115.5


def test_apply_refuses_a_combination_beyond_the_limits(
    sim_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["apply", "smp-base", "--zone", "OCC", "--session", "1", "--skin", "oily"]
    assert main([*args, "--port", f"sim://{sim_name}"]) == 1
    assert capsys.readouterr().err.startswith(
        "smpctl: error: speed_hz 120.75 is outside the limits in force: at most 120 Hz "
        "(smp-base.toml [limits])"
    )


def test_apply_refuses_bad_input_before_connecting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_connect(url: str) -> None:
        raise AssertionError("must not connect")

    monkeypatch.setattr("smpctl.cli.profiles_cmd.connect", no_connect)
    assert main(["apply", "smp-base", "--zone", "XX", "--session", "1"]) == 1
    assert "unknown zone code 'XX'" in capsys.readouterr().err
