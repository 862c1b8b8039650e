"""Who the pen is and what it allows, in physical units, from its HELLO_REPLY."""

from __future__ import annotations

from dataclasses import dataclass

from smpctl import hard_limits as hard
from smpctl.protocol import Capability, HelloReply


@dataclass(frozen=True)
class PenLimits:
    """The limits the pen reported at connect, capped by the hard limits. Profile and
    clinic limits can only be stricter than these, never looser."""

    max_speed_hz: float
    min_stroke_mm: float
    max_stroke_mm: float
    min_depth_mm: float
    max_depth_mm: float
    max_current_a: float
    max_temp_c: float
    watchdog_ms: int
    max_telemetry_hz: int
    max_slew_hz_per_s: int

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PenIdentity:
    model: str
    serial: str
    firmware: str
    protocol_version: str
    capabilities: Capability
    limits: PenLimits

    @property
    def simulated(self) -> bool:
        return Capability.SIMULATED in self.capabilities

    @classmethod
    def from_hello(cls, reply: HelloReply) -> PenIdentity:
        # A pen that allows more than the hard limits is held to them: the host never
        # sends past them, whatever the pen would accept.
        limits = PenLimits(
            max_speed_hz=min(reply.max_speed_chz / 100, hard.MAX_SPEED_HZ),
            min_stroke_mm=max(reply.min_stroke_um / 1000, hard.MIN_STROKE_MM),
            max_stroke_mm=min(reply.max_stroke_um / 1000, hard.MAX_STROKE_MM),
            min_depth_mm=reply.min_depth_um / 1000,
            max_depth_mm=min(reply.max_depth_um / 1000, hard.MAX_DEPTH_MM),
            max_current_a=min(reply.max_current_ma / 1000, hard.MAX_CURRENT_A),
            max_temp_c=min(reply.max_temp_cdegc / 100, hard.MAX_TEMP_C),
            watchdog_ms=reply.watchdog_ms,
            max_telemetry_hz=reply.max_telemetry_hz,
            max_slew_hz_per_s=reply.max_slew_hz_per_s,
        )
        return cls(
            model=reply.model,
            serial=reply.serial,
            firmware=reply.firmware,
            protocol_version=reply.protocol_version,
            capabilities=Capability(reply.capabilities),
            limits=limits,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "serial": self.serial,
            "firmware": self.firmware,
            "protocol_version": self.protocol_version,
            "simulated": self.simulated,
            "capabilities": [c.name for c in Capability if c in self.capabilities],
            "limits": self.limits.as_dict(),
        }
