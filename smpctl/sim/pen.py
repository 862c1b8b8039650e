"""The simulated pen as one deterministic object: bytes in, time forward, bytes out.

No threads and no sleeping: whoever owns the pen moves its time (a test by hand with a
virtual clock, the real-time runner against the monotonic clock), so the same seed and the
same inputs at the same times always give the same output bytes.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from smpctl.protocol import FRAME_GAP_S, SimAction, SimFault, StreamDecoder

from .clock import Clock, VirtualClock
from .eeprom import Eeprom
from .firmware import FIRMWARE_VERSION, BootCause, Firmware, LinkLeave
from .hardware import PenHardware
from .options import PenOptions
from .uart import TransmitQueue

FRAME_GAP_US = round(FRAME_GAP_S * 1_000_000)
SUBSTEP_US = 500
"""Integration step: the motor's mechanical time constant is ~30 ms, the control loop and
every safety timer run at this rate, and telemetry instants split a step exactly."""


class GroundTruth(NamedTuple):
    """What really happened, for tests and benchmarks only: never on the wire."""

    time_s: float
    """Pen time since power-on."""
    speed_hz: float
    strokes: int
    skin_strokes: int
    in_contact: bool
    motor_on: bool
    duty: float
    current_a: float
    bus_v: float
    temp_c: float
    battery_pct: float
    depth_um: float
    motor_stopped_at_s: float | None
    """Pen time the firmware last set the motor command to zero (None: never, this boot)."""
    link_up: bool
    boot_count: int


class SimulatedPen:
    """Hardware, firmware and the serial line of one simulated pen.

    ``advance(t)`` integrates to time ``t`` of ``clock`` (the pen's own time line starts
    when it is built); ``receive`` executes commands at the current pen time; output
    leaves the 512-byte transmit buffer at the line rate and waits for ``take_output``.
    """

    def __init__(self, options: PenOptions | None = None, clock: Clock | None = None) -> None:
        self.options = options = options or PenOptions()
        self.clock: Clock = clock if clock is not None else VirtualClock()
        self._t0 = self.clock.now()
        self._now_us = 0
        seed = options.seed
        self.hardware = PenHardware(options, random.Random(f"{seed}/hardware"))
        self.eeprom = Eeprom(options.eeprom)
        self._noise_rng = random.Random(f"{seed}/noise")
        self._line_rng = random.Random(f"{seed}/line")
        self._decoder = StreamDecoder()
        self._last_rx_us = 0
        self._tx = TransmitQueue(options.line_bytes_per_s, self._line_rng)
        self._stranded = b""
        """Bytes that reached the host before the link went: still readable, once."""
        self.firmware: Firmware | None = None
        self.firmware_version: tuple[int, int, int] = FIRMWARE_VERSION
        """The image the pen boots; the simulated USB side sets it when a flash lands."""
        self.link_up = True
        self.link_epoch = 0
        """+1 each time the link goes away: a port opened before is dead for good."""
        self.powered = True
        self._replug_at_us: int | None = None
        self._replug_cause = BootCause.LINK_REPLUG
        self._boot(BootCause.POWER_ON)

    # ------------------------------------------------------------------ time

    @property
    def now_us(self) -> int:
        """Pen microseconds since power-on."""
        return self._now_us

    @property
    def time(self) -> float:
        """Pen seconds since power-on."""
        return self._now_us / 1_000_000

    def advance(self, to_t: float) -> None:
        """Run the pen up to time ``to_t`` of its clock; earlier times are ignored."""
        target = round((to_t - self._t0) * 1_000_000)
        now = self._now_us
        hw = self.hardware
        tx = self._tx
        step = hw.step
        while now < target:
            end = now + SUBSTEP_US
            if end > target:
                end = target
            fw = self.firmware
            if fw is not None:
                due = fw.next_sample_us
                if due is not None and due < end:
                    end = due
            replug = self._replug_at_us
            if replug is not None and replug < end:
                end = max(replug, now + 1)
            dt_us = end - now
            dt = dt_us * 1e-6
            tx.drain(dt_us)
            step(dt)
            now = self._now_us = end
            if fw is not None:
                fw.tick(now, dt)
                due = fw.next_sample_us
                if due is not None and due <= now:
                    fw.sample(now)
                leave = fw.link_leave
                if leave is not None and tx.sent_total >= leave.after_sent:
                    fw.link_leave = None
                    self._leave_link(leave)
            if self._decoder.pending and now - self._last_rx_us >= FRAME_GAP_US:
                self._expire_partial_frame()
            if not self.link_up:
                tx.line.clear()
                if replug is not None and now >= replug:
                    self.plug()
                    tx = self._tx

    def step(self, dt: float) -> None:
        """Move the pen's virtual clock on by ``dt`` seconds and run the pen to it (a pen
        on real time cannot be hurried)."""
        if not isinstance(self.clock, VirtualClock):
            raise TypeError("step() needs a pen on a VirtualClock; this one follows real time")
        self.clock.advance(dt)
        self.advance(self.clock.now())

    def sync(self) -> None:
        """Catch up with the pen's clock."""
        self.advance(self.clock.now())

    # ------------------------------------------------------------------ bytes

    def receive(self, data: bytes) -> None:
        """Host -> pen bytes, arriving now. Lost while the link is down."""
        if not self.link_up or not data:
            return
        self._last_rx_us = self._now_us
        frames = self._decoder.feed(data)
        if frames and self.firmware is not None:
            self.firmware.receive(frames, self._now_us)

    def _expire_partial_frame(self) -> None:
        """docs/protocol.md frame gap: a frame still incomplete after 20 ms of silence was a
        false start byte; rescan what followed it (a STOP may be in there)."""
        frames = self._decoder.expire()
        if frames and self.firmware is not None:
            self.firmware.receive(frames, self._now_us)

    def take_output(self, max_bytes: int | None = None) -> bytes:
        """Pen -> host bytes that have crossed the line so far."""
        if self._stranded:
            cut = len(self._stranded) if max_bytes is None else max_bytes
            data, self._stranded = self._stranded[:cut], self._stranded[cut:]
            return data
        return self._tx.take(max_bytes)

    @property
    def output_waiting(self) -> int:
        return len(self._stranded) + len(self._tx.line)

    # ------------------------------------------------------------------ link and power

    def _boot(self, cause: BootCause) -> None:
        self.eeprom.load()
        self._decoder.reset()
        self._stranded = b""
        self._tx = TransmitQueue(self.options.line_bytes_per_s, self._line_rng)
        self.firmware = Firmware(
            self.hardware,
            self.eeprom,
            self._tx,
            serial=self.options.serial_number,
            baud=self.options.baud,
            boot_us=self._now_us,
            boot_cause=cause,
            noise_rng=self._noise_rng,
            version=self.firmware_version,
        )

    def _leave_link(self, leave: LinkLeave) -> None:
        self.unplug()
        self._replug_at_us = self._now_us + leave.away_us
        self._replug_cause = leave.boot_cause
        if leave.boot_cause is BootCause.FROM_BOOTLOADER:
            self.firmware = None
            self.hardware.duty = 0.0

    def unplug(self) -> None:
        """Pull the cable: the port vanishes and bytes in flight are lost. The pen runs on
        (its watchdog stops the motor) until plugged in again."""
        if not self.link_up:
            return
        self.link_up = False
        self.link_epoch += 1
        self._replug_at_us = None
        self._replug_cause = BootCause.LINK_REPLUG
        self._stranded += self._tx.take()
        self._tx.clear()

    def plug(self) -> None:
        """Plug the cable back in: the pen re-enumerates and reboots (stopped, disarmed,
        same serial number and EEPROM)."""
        if self.link_up or not self.powered:
            return
        self.link_up = True
        self._replug_at_us = None
        self._boot(self._replug_cause)

    def power_off(self) -> None:
        self.unplug()
        self.powered = False
        self.firmware = None
        self.hardware.duty = 0.0

    # ------------------------------------------------------------------ the world

    def _world(self, action: SimAction, value: int) -> None:
        if not self.hardware.apply_world_control(action, value):
            raise ValueError(f"invalid value {value} for {action.name}")

    def set_pedal(self, down: bool) -> None:
        self._world(SimAction.PEDAL, int(down))

    def set_skin_load(self, percent: int) -> None:
        """0..200 % of nominal skin load, or -1 for the automatic tapping hand."""
        self._world(SimAction.SKIN_LOAD, percent)

    def inject_fault(self, fault: SimFault) -> None:
        self._world(SimAction.INJECT_FAULT, int(fault))

    def clear_faults(self) -> None:
        self._world(SimAction.CLEAR_FAULTS, 0)

    def set_battery(self, percent: int) -> None:
        self._world(SimAction.BATTERY_PCT, percent)

    def set_supply_mv(self, millivolts: int) -> None:
        """A bench supply of this EMF instead of the battery; 0 returns to the battery."""
        self._world(SimAction.SUPPLY_MV, millivolts)

    def set_ambient(self, cdegc: int) -> None:
        self._world(SimAction.AMBIENT_CDEGC, cdegc)

    def drop_link(self, ms: int) -> None:
        """Unplug now and plug in again ``ms`` later (pen time)."""
        self.unplug()
        self._replug_at_us = self._now_us + ms * 1000

    def corrupt_next(self, count: int) -> None:
        """Flip one bit in each of the next ``count`` bytes the pen sends."""
        self._tx.corrupt(count, self._tx.sent_total)

    # ------------------------------------------------------------------ ground truth

    def clock_time(self, pen_time_s: float) -> float:
        """The reading of the pen's clock at pen time ``pen_time_s``: lets a benchmark put
        ground-truth instants on the same time line as the host's monotonic clock."""
        return self._t0 + pen_time_s

    def truth(self) -> GroundTruth:
        hw = self.hardware
        fw = self.firmware
        stopped = fw.motor_stopped_at_us if fw is not None else None
        return GroundTruth(
            time_s=self.time,
            speed_hz=hw.motor.speed_hz,
            strokes=hw.strokes,
            skin_strokes=hw.skin_strokes,
            in_contact=hw.hand.in_contact,
            motor_on=fw is not None and fw.motor_on,
            duty=hw.duty,
            current_a=hw.motor.current_a,
            bus_v=hw.bus_v,
            temp_c=hw.thermal.temp_c,
            battery_pct=hw.power.battery_pct,
            depth_um=hw.depth.position_um,
            motor_stopped_at_s=None if stopped is None else stopped / 1_000_000,
            link_up=self.link_up,
            boot_count=self.eeprom.boot_count,
        )

    def __repr__(self) -> str:
        state = "up" if self.link_up else "down"
        return (
            f"SimulatedPen(serial={self.options.serial_number!r}, t={self.time:.3f}s, link={state})"
        )
