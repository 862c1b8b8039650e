"""What to tell a user who may not open a pen's USB device: the udev rule we ship."""

from __future__ import annotations

import sys
from pathlib import Path

UDEV_RULE_NAME = "99-smpctl.rules"
UDEV_RULE_IN_SOURCE = f"tools/udev/{UDEV_RULE_NAME}"


def udev_rule_path() -> Path | None:
    """The rule file in this smpctl's source tree, when it is there (a git checkout)."""
    candidate = Path(__file__).resolve().parents[2] / UDEV_RULE_IN_SOURCE
    return candidate if candidate.is_file() else None


def udev_install_commands(rule: Path | str | None = None) -> list[str]:
    source = str(rule if rule is not None else udev_rule_path() or UDEV_RULE_IN_SOURCE)
    return [
        f"sudo cp {source} /etc/udev/rules.d/{UDEV_RULE_NAME}",
        "sudo udevadm control --reload-rules && sudo udevadm trigger",
        "sudo usermod -aG plugdev,dialout $USER",
    ]


def permission_advice(platform: str = sys.platform) -> str:
    """One paragraph: which rule, where it is, the commands; then replug the pen."""
    if platform.startswith("linux"):
        commands = "; ".join(udev_install_commands())
        return (
            f"Install the udev rule shipped with smpctl ({UDEV_RULE_IN_SOURCE}): {commands}. "
            "Then log out and in again (for the groups), unplug the pen and plug it back in."
        )
    if platform == "win32":
        return (
            "Windows needs the WinUSB driver bound to the pen's bootloader (install it with "
            "Zadig for USB ID 1209:5351), then unplug the pen and plug it back in."
        )
    return "Run as a user allowed to open USB devices, then unplug the pen and plug it back in."
