"""The brushed DC motor that turns the needle cam, and the firmware's PI speed loop.

One motor revolution is one needle stroke, so stroke rate in Hz is rev/s. The electrical
time constant (L/R, ~0.1 ms) is far below the 0.5 ms integration step, so current is taken
as algebraic: i = (duty * V - ke * w) / R. That keeps the model stable at any step size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TWO_PI = 2.0 * math.pi


@dataclass(frozen=True, slots=True)
class MotorParams:
    """A 12 V coreless pen motor: ~160 Hz no-load, ~0.3 A in air, 5 A stall (limited)."""

    inertia_kgm2: float = 2.0e-6
    ke_v_s_per_rad: float = 0.01125
    """Back-EMF constant; equal to the torque constant in SI units."""
    winding_ohm: float = 2.0
    coulomb_friction_nm: float = 2.0e-3
    viscous_nm_s_per_rad: float = 1.6e-6
    skin_torque_nm: float = 5.0e-3
    """Mean load torque of the needle working in skin at 1 mm depth, nominal load."""
    current_limit_a: float = 2.5
    """The driver's cycle-by-cycle limit: a jammed rotor shows as a stall, not a burn-out."""
    short_current_a: float = 4.0
    """Extra current of an injected winding short, which the limiter cannot see or stop."""

    @property
    def kt_nm_per_a(self) -> float:
        return self.ke_v_s_per_rad


class DcMotor:
    """Rotor speed, current and revolutions. Never turns backwards (the cam has a one-way
    load and the driver never reverses)."""

    __slots__ = ("applied_duty", "current_a", "jammed", "omega", "params", "revolutions")

    def __init__(self, params: MotorParams) -> None:
        self.params = params
        self.omega = 0.0
        """Rotor speed, rad/s."""
        self.current_a = 0.0
        """Winding current: positive drives, negative brakes."""
        self.applied_duty = 0.0
        """PWM duty after the current limiter (what the bridge really applied)."""
        self.revolutions = 0.0
        self.jammed = False

    @property
    def speed_hz(self) -> float:
        return self.omega / TWO_PI

    def step(
        self, dt: float, duty: float, emf_v: float, source_ohm: float, load_nm: float
    ) -> float:
        """Advance ``dt`` seconds at PWM ``duty`` from a source of ``emf_v`` behind
        ``source_ohm``; returns the current drawn from the source (A).

        duty 0 means active braking (low side shorted), which is how the firmware stops
        the needle at once instead of letting it coast.
        """
        p = self.params
        ke = p.ke_v_s_per_rad
        r = p.winding_ohm
        w = self.omega
        back_emf = ke * w
        limit = p.current_limit_a
        if duty > 0.0:
            current = (duty * emf_v - back_emf) / (r + source_ohm * duty * duty)
            if current < 0.0:
                current = (duty * emf_v - back_emf) / r
        else:
            current = -back_emf / r
        if current > limit:
            current = limit
        elif current < -limit:
            current = -limit
        source_current = duty * current if current > 0.0 else 0.0
        bus_v = emf_v - source_ohm * source_current
        self.applied_duty = (current * r + back_emf) / bus_v if duty > 0.0 and bus_v > 0 else 0.0
        self.current_a = current
        if self.jammed:
            self.omega = 0.0
            return source_current
        torque = ke * current
        if w <= 0.0:
            breakaway = p.coulomb_friction_nm + load_nm
            if torque <= breakaway:
                self.omega = 0.0
                return source_current
            net = torque - breakaway
        else:
            net = torque - p.coulomb_friction_nm - p.viscous_nm_s_per_rad * w - load_nm
        w += net / p.inertia_kgm2 * dt
        if w < 0.0:
            w = 0.0
        self.omega = w
        self.revolutions += w * dt / TWO_PI
        return source_current


class SpeedLoop:
    """PI speed controller with feed-forward and anti-windup, output a PWM duty 0..1.

    Feed-forward (the duty the back-EMF alone needs) does most of the work, so the PI only
    corrects load and model error; the integrator is clamped so that, when the duty
    saturates (e.g. low battery), it does not wind up and overshoot when load drops.
    """

    __slots__ = ("integral", "ke_hz", "ki", "kp")

    def __init__(self, ke_v_s_per_rad: float, kp: float = 0.02, ki: float = 0.6) -> None:
        self.ke_hz = ke_v_s_per_rad * TWO_PI
        """Volts of back-EMF per Hz of stroke rate."""
        self.kp = kp
        self.ki = ki
        self.integral = 0.0

    def reset(self) -> None:
        self.integral = 0.0

    def update(self, reference_hz: float, measured_hz: float, bus_v: float, dt: float) -> float:
        error = reference_hz - measured_hz
        feed_forward = self.ke_hz * reference_hz / bus_v if bus_v > 1.0 else 1.0
        unclamped = feed_forward + self.kp * error + self.integral
        if (unclamped < 1.0 or error < 0.0) and (unclamped > 0.0 or error > 0.0):
            self.integral += self.ki * error * dt
            if self.integral > 0.5:
                self.integral = 0.5
            elif self.integral < -0.5:
                self.integral = -0.5
        duty = feed_forward + self.kp * error + self.integral
        if duty < 0.0:
            return 0.0
        if duty > 1.0:
            return 1.0
        return duty
