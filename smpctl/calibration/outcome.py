"""What every technician run hands on to the report file and the journal, whatever its kind."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from smpctl.client import PenIdentity
from smpctl.protocol import Fault


class RunKind(StrEnum):
    SPEED = "speed"
    DEPTH = "depth"
    BURN_IN = "burn_in"
    CONTACT = "contact"


class Cause(StrEnum):
    """Likely causes a failed run names, each with an explanation from its data."""

    SUPPLY = "supply voltage too low"
    WEAR = "encoder or cam wear"
    TEMPERATURE = "temperature drift"
    DRAG = "mechanical drag"
    OUT_OF_RANGE = "correction out of range"
    ADJUSTER = "depth adjuster wear"
    READINGS = "gauge readings inconsistent"
    CURRENT = "current drift"
    LOADED = "needle loaded"
    FIT = "acceleration fit failed"
    INTERRUPTED = "run interrupted"


@dataclass(frozen=True)
class Diagnosis:
    cause: Cause
    explanation: str

    def __str__(self) -> str:
        return f"{self.cause.value}: {self.explanation}"

    def as_dict(self) -> dict[str, str]:
        return {"cause": self.cause.value, "explanation": self.explanation}


@dataclass(frozen=True)
class Outcome:
    """The part of a run's result the history and the report name are built from."""

    kind: RunKind
    identity: PenIdentity
    day: dt.date
    passed: bool
    written: dict[str, int] | None
    """What the run put in force: the calibration keys written to the pen, or for a
    contact calibration (which the pen does not store) its host-side value (None: nothing
    was put in force)."""
    expires: dt.date | None
    tolerance: str
    residuals: list[dict[str, Any]]
    diagnoses: tuple[Diagnosis, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def report_head(self) -> dict[str, Any]:
        """The fields every report opens with: what was run, on which pen, when, result."""
        head: dict[str, Any] = {
            "kind": self.kind.value,
            "pen": self.identity.as_dict(),
            "date": self.day.isoformat(),
        }
        if self.kind is not RunKind.BURN_IN:  # a burn-in writes no calibration to expire
            head["expires"] = self.expires.isoformat() if self.expires else None
        head["passed"] = self.passed
        return head

    def pen_line(self) -> str:
        """The line a printed result opens with: which pen, and whether it is simulated."""
        return f"pen {self.identity.model} serial {self.identity.serial}" + (
            " (SIMULATED)" if self.identity.simulated else ""
        )

    def expires_text(self) -> str:
        return self.expires.isoformat() if self.expires else "never"


def stopped_run_diagnosis(setpoint_hz: float, faults: int, reason: str) -> Diagnosis:
    """A run the pen stopped for anything but a stall (each calibration words its own
    stall): over-temperature, or whatever else stopped it."""
    if faults & Fault.OVERTEMP:
        return Diagnosis(
            Cause.TEMPERATURE,
            f"the pen stopped on over-temperature at the {setpoint_hz:g} Hz step: let it "
            "cool, check its vents and bearing, then calibrate again.",
        )
    return Diagnosis(
        Cause.INTERRUPTED,
        f"the run stopped at the {setpoint_hz:g} Hz step: {reason}. Calibrate again.",
    )
