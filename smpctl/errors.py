"""Every error smpctl raises, in one tree.

Each derives from ``SmpctlError`` and, where it fits, from the matching builtin, so callers
can catch ``OSError`` or ``TimeoutError`` as they already do. Messages say what to do next.
"""

from __future__ import annotations


class SmpctlError(Exception):
    """Base of every smpctl error."""


# ------------------------------------------------------------------ link / port


class LinkError(SmpctlError, OSError):
    """The serial link to the pen cannot be used."""


class PortNotFoundError(LinkError):
    def __init__(self, port: str, available: list[str]) -> None:
        self.port = port
        self.available = available
        listed = ", ".join(available) if available else "none"
        super().__init__(
            f"no serial port {port!r}. Ports found: {listed}. "
            "Check the cable, or run `smpctl devices`; use sim:// for the simulated pen."
        )


class PortBusyError(LinkError):
    def __init__(self, port: str, holder: str | None = None) -> None:
        self.port = port
        self.holder = holder
        who = f" (held by {holder})" if holder else ""
        super().__init__(
            f"port {port!r} is busy{who}. Close the other program using the pen "
            "(another smpctl, a serial terminal, ModemManager) and try again."
        )


class PortPermissionError(LinkError, PermissionError):
    def __init__(self, port: str) -> None:
        self.port = port
        super().__init__(
            f"permission denied opening {port!r}. Add yourself to the 'dialout' group "
            "(`sudo usermod -aG dialout $USER`, then log in again) or install the udev rule "
            "from tools/udev/ (`sudo cp tools/udev/99-smpctl.rules /etc/udev/rules.d/`)."
        )


class LinkLostError(LinkError):
    """The pen stopped answering or its port vanished mid-session."""


# ------------------------------------------------------------------ protocol / pen


class PenProtocolError(SmpctlError):
    """The pen said something this host cannot accept."""


class VersionMismatchError(PenProtocolError):
    def __init__(self, host: str, pen: str) -> None:
        self.host_version = host
        self.pen_version = pen
        super().__init__(
            f"protocol mismatch: this smpctl speaks {host}, the pen speaks {pen}. "
            "Major versions must match: update "
            + ("smpctl" if pen.split(".")[0] > host.split(".")[0] else "the pen's firmware")
            + " (tools/flash_firmware.py for the pen)."
        )


class WrongPenError(PenProtocolError):
    """A different pen appeared where the session's pen was."""


class PenTimeoutError(SmpctlError, TimeoutError):
    """The pen did not answer a command after every retry."""


class NakError(SmpctlError):
    """The pen refused a command; ``code`` is its NAK code."""

    def __init__(self, command: str, code: int, reason: str) -> None:
        self.command = command
        self.code = code
        self.reason = reason
        super().__init__(f"pen refused {command}: {reason} (error {code})")


class LimitViolationError(SmpctlError, ValueError):
    """A setpoint outside the limits in force was refused before it reached the pen."""


class SimulatorError(SmpctlError):
    """The simulated pen was asked for something it cannot do (bad URL option, …)."""


class NotArmedError(NakError):
    """RUN before ARM."""


class EStopLatchedError(NakError):
    """Emergency stop latched: re-arm first."""


class FaultActiveError(NakError):
    """A stop fault's cause is still present."""


class BatteryLowError(NakError):
    """Battery below 15 %: the pen refuses to arm or run."""


class PenBusyError(NakError):
    """Not allowed while the motor runs."""


class NoHandshakeError(NakError):
    """The pen has not seen HELLO (it rebooted?)."""


class ReconnectRefusedError(WrongPenError):
    """After a link loss, a pen with another serial number answered on the port."""
