"""The pen on the technician's bench: running in the air with the pedal held.

Calibration and burn-in run the needle in the air (no skin load), in continuous mode. A real
pen runs only while its pedal is down (the pen's own safety rule), so the technician holds
the pedal; on a simulated pen the simulated foot does it, with the needle in the air. The
motor is always stopped and the pen disarmed on the way out, whatever went wrong.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from smpctl.client import Pen
from smpctl.errors import SmpctlError
from smpctl.protocol import RunMode, SimAction, Status, Telemetry

from .measure import TelemetryReader

Say = Callable[[str], None]

PEDAL_TIMEOUT_S = 60.0
START_TIMEOUT_S = 3.0


def _motor_on(sample: Telemetry) -> bool:
    return Status.MOTOR_ON in Status(sample.status)


@contextlib.contextmanager
def running_in_air(
    pen: Pen,
    reader: TelemetryReader,
    *,
    speed_hz: float,
    telemetry_hz: int,
    say: Say,
    pedal_timeout_s: float = PEDAL_TIMEOUT_S,
    sim_skin_load_pct: int = 0,
) -> Iterator[None]:
    """Motor running at ``speed_hz`` in the air for the body of the ``with``.

    ``sim_skin_load_pct``: on a simulated pen, the hand's skin load during the run (0, the
    default: in the air; the simulator's -1: a hand tapping dots), to show what a run with
    a loaded needle looks like. A real pen ignores it: the technician holds it."""
    pen.set_telemetry_rate(min(telemetry_hz, pen.identity.limits.max_telemetry_hz))
    pen.set_run_mode(RunMode.CONTINUOUS, ramp_ms=0)
    pen.set_speed(speed_hz)
    try:
        if pen.simulated:
            pen.sim(SimAction.SKIN_LOAD, sim_skin_load_pct)
            pen.sim(SimAction.PEDAL, 1)
        else:
            say("Hold the pen in the air, needle free, and press the pedal; keep it down.")
        reader.wait_for(
            lambda s: Status.PEDAL_DOWN in Status(s.status), pedal_timeout_s, "the pedal"
        )
        pen.arm()
        pen.run()

        reader.wait_for(_motor_on, START_TIMEOUT_S, "the motor to start")
        yield
    finally:
        with contextlib.suppress(SmpctlError):
            pen.stop()
        with contextlib.suppress(SmpctlError):
            pen.disarm()
        if pen.simulated:
            with contextlib.suppress(SmpctlError):
                pen.sim(SimAction.PEDAL, 0)
            if sim_skin_load_pct:
                with contextlib.suppress(SmpctlError):
                    pen.sim(SimAction.SKIN_LOAD, 0)
        elif not pen.latest or Status.PEDAL_DOWN in Status(pen.latest.status):
            say("You may release the pedal.")
        with contextlib.suppress(SmpctlError):
            reader.wait_for(lambda s: not _motor_on(s), START_TIMEOUT_S, "the motor to stop")
