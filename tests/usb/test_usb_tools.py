"""tools/list_devices.py and tools/flash_firmware.py as a technician runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from firmware_signing import signed_image

ROOT = Path(__file__).resolve().parents[2]


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("tool", ["tools/list_devices.py", "tools/flash_firmware.py"])
def test_each_tool_has_help_with_port_and_json(tool: str) -> None:
    result = _tool(tool, "--help")
    assert result.returncode == 0, result.stderr
    assert "--port" in result.stdout and "--json" in result.stdout


def test_list_devices_runs_on_this_machine_whatever_its_usb() -> None:
    result = _tool("tools/list_devices.py", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert listing["simulated"] is False
    assert listing["usb_available"] is (listing["usb_problem"] is None)


def test_list_devices_shows_the_simulated_pen_labelled() -> None:
    result = _tool("tools/list_devices.py", "--port", "sim://tool?serial=SIMTOOL1")
    assert result.returncode == 0, result.stderr
    assert "SIMULATED" in result.stdout and "SIMTOOL1" in result.stdout
    assert "sim://tool" in result.stdout


def test_flash_firmware_updates_the_simulated_pen(tmp_path: Path) -> None:
    image = tmp_path / "fw.smpfw"
    image.write_bytes(signed_image("1.3.0"))
    result = _tool(
        "tools/flash_firmware.py", str(image), "--json", "--backup-dir", str(tmp_path / "b")
    )
    assert result.returncode == 0, result.stderr
    assert "SIMULATED" in result.stderr and "write" in result.stderr
    report = json.loads(result.stdout)
    assert report["simulated"] and report["verified"] and report["settings_preserved"]
    assert report["new_firmware"] == "1.3.0" and report["previous_firmware"] == "1.0.0"


def test_flash_firmware_refuses_a_damaged_image_with_a_message(tmp_path: Path) -> None:
    image = tmp_path / "fw.smpfw"
    image.write_bytes(signed_image()[:500])
    result = _tool("tools/flash_firmware.py", str(image), "--backup-dir", str(tmp_path))
    assert result.returncode == 1
    assert "flash_firmware.py: error:" in result.stderr and "truncated" in result.stderr


def test_flash_firmware_refuses_a_downgrade_unless_told(tmp_path: Path) -> None:
    image = tmp_path / "old.smpfw"
    image.write_bytes(signed_image("0.9.0"))
    base = ["tools/flash_firmware.py", str(image), "--backup-dir", str(tmp_path)]
    refused = _tool(*base)
    assert refused.returncode == 1 and "--allow-downgrade" in refused.stderr
    allowed = _tool(*base, "--allow-downgrade")
    assert allowed.returncode == 0, allowed.stderr
    assert "downgrade, allowed" in allowed.stdout
