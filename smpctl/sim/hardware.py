"""The pen's physical side: motor, power, heat, depth adjuster, encoder, and the world
around it (hand, foot, injected faults). The firmware sees it only through sensors and
the PWM duty it commands, like real firmware sees its board."""

from __future__ import annotations

import math
import random

from smpctl.protocol import SimAction, SimFault

from .hand import FootModel, HandModel
from .motor import DcMotor, MotorParams
from .options import HAND_AUTO, PedalMode, PenOptions
from .power import PowerSource
from .thermal import HandpieceThermal

DEPTH_SPEED_UM_S = 2000.0
"""The motorised depth adjuster moves 2 mm/s."""
LOW_BATTERY_FAULT_PCT = 10.0
OVERHEAT_FAULT_W = 100.0
"""Heat of the injected over-heat fault: about 4.4 K/s, so 41 °C is crossed in seconds."""


class DepthAdjuster:
    __slots__ = ("position_um", "target_um")

    def __init__(self, position_um: float) -> None:
        self.position_um = position_um
        self.target_um = position_um

    def step(self, dt: float) -> None:
        gap = self.target_um - self.position_um
        if gap:
            move = DEPTH_SPEED_UM_S * dt
            self.position_um = (
                self.target_um if abs(gap) <= move else self.position_um + math.copysign(move, gap)
            )


class PenHardware:
    """Everything of the pen that is not firmware, integrated in small fixed substeps.

    Its sensors carry small built-in errors (seeded), so calibration has something real to
    correct: the speed sensor reads 1-2 % high, the depth sensor a few tens of µm off.
    """

    def __init__(self, options: PenOptions, rng: random.Random, params: MotorParams | None = None):
        self.params = params or MotorParams()
        self.motor = DcMotor(self.params)
        self.power = PowerSource()
        self.thermal = HandpieceThermal()
        self.depth = DepthAdjuster(1000.0)
        self.hand = HandModel(random.Random(rng.random()), options.skin_load_pct)
        self.foot = FootModel(
            random.Random(rng.random()),
            pedal_down=options.pedal is PedalMode.DOWN,
            automatic=options.pedal is PedalMode.AUTO,
        )
        self.speed_sensor_gain = 1.0 + rng.uniform(0.010, 0.020)
        self.depth_sensor_offset_um = rng.uniform(-40.0, 40.0)
        self.duty = 0.0
        """PWM duty commanded by the firmware (0 = brake)."""
        self.bus_v = self.power.emf_v
        self.encoder_ok = True
        self.short_circuit = False
        self._battery_before_fault: float | None = None
        self.encoder_revolutions = 0.0
        self.strokes = 0
        """True needle strokes since power-on (ground truth, not the encoder's count)."""
        self.skin_strokes = 0
        """True strokes made with the needle in skin (ground truth)."""
        self.time_in_contact_s = 0.0

    # ------------------------------------------------------------------ integration

    def step(self, dt: float) -> None:
        pedal = self.foot.step(dt)
        load = self.hand.step(dt, pedal)
        self.depth.step(dt)
        motor = self.motor
        skin_nm = 0.0
        if load:
            skin_nm = self.params.skin_torque_nm * load * (0.5 + 0.0005 * self.depth.position_um)
            self.time_in_contact_s += dt
        power = self.power
        before = motor.revolutions
        source_a = motor.step(dt, self.duty, power.emf_v, power.internal_ohm, skin_nm)
        heat_w = motor.current_a * motor.current_a * self.params.winding_ohm
        if self.short_circuit and motor.applied_duty > 0.0:
            short_a = self.params.short_current_a
            source_a += short_a * motor.applied_duty
            heat_w += short_a * short_a * 0.5
        self.bus_v = power.emf_v - power.internal_ohm * source_a
        self.thermal.step(heat_w, dt)
        power.draw(source_a, dt)
        after = motor.revolutions
        if after != before:
            new = int(after) - int(before)
            if new:
                self.strokes += new
                if self.hand.in_contact:
                    self.skin_strokes += new
            if self.encoder_ok:
                self.encoder_revolutions += after - before

    # ------------------------------------------------------------------ sensors

    @property
    def pedal_down(self) -> bool:
        return self.foot.pedal_down

    @property
    def encoder_speed_hz(self) -> float:
        """Raw speed from the encoder: no edges, no speed."""
        if not self.encoder_ok:
            return 0.0
        return self.motor.speed_hz * self.speed_sensor_gain

    @property
    def encoder_strokes(self) -> int:
        return int(self.encoder_revolutions)

    @property
    def sensed_current_a(self) -> float:
        """The shunt sees the winding current plus any short (braking current reads as 0:
        the shunt sits in the supply leg)."""
        current = self.motor.current_a
        if self.short_circuit and self.motor.applied_duty > 0.0:
            current += self.params.short_current_a
        return current if current > 0.0 else 0.0

    @property
    def depth_sensor_um(self) -> float:
        return self.depth.position_um + self.depth_sensor_offset_um

    @property
    def rotor_locked(self) -> bool:
        """What the firmware's locked-rotor test (a short current pulse) would find."""
        return self.motor.jammed

    # ------------------------------------------------------------------ faults

    def inject(self, fault: SimFault) -> None:
        if fault is SimFault.STALL:
            self.motor.jammed = True
        elif fault is SimFault.OVERCURRENT:
            self.short_circuit = True
        elif fault is SimFault.OVERHEAT:
            self.thermal.fault_heat_w = OVERHEAT_FAULT_W
        elif fault is SimFault.LOW_BATTERY:
            if self._battery_before_fault is None:
                self._battery_before_fault = self.power.battery_pct
            self.power.battery_pct = LOW_BATTERY_FAULT_PCT
        elif fault is SimFault.ENCODER:
            self.encoder_ok = False

    def clear_faults(self) -> None:
        """Remove every injected physical fault; heat already in the pen stays there."""
        self.motor.jammed = False
        self.short_circuit = False
        self.thermal.fault_heat_w = 0.0
        self.encoder_ok = True
        if self._battery_before_fault is not None:
            self.power.battery_pct = self._battery_before_fault
            self._battery_before_fault = None

    # ------------------------------------------------------------------ the world

    def apply_world_control(self, action: int, value: int) -> bool:
        """One SIM_CONTROL action on the world around the pen; False if the action or
        its value is not valid (the firmware NAKs INVALID_VALUE)."""
        if action == SimAction.PEDAL and value in (0, 1):
            self.foot.press(bool(value))
        elif action == SimAction.SKIN_LOAD and (value == HAND_AUTO or 0 <= value <= 200):
            self.hand.skin_load_pct = value
        elif action == SimAction.INJECT_FAULT and value in SimFault._value2member_map_:
            self.inject(SimFault(value))
        elif action == SimAction.CLEAR_FAULTS:
            self.clear_faults()
        elif action == SimAction.BATTERY_PCT and 0 <= value <= 100:
            self.power.battery_pct = float(value)
            self._battery_before_fault = None
        elif action == SimAction.SUPPLY_MV and 0 <= value <= 30_000:
            self.power.external_mv = value
        elif action == SimAction.AMBIENT_CDEGC and -4000 <= value <= 6000:
            self.thermal.ambient_c = value / 100.0
        else:
            return False
        return True
