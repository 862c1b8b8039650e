"""Checks any pen (or firmware under development) against docs/protocol.md.

Works on raw frames over its own link, not through the client, so it can send what a good
host never would (bad CRCs, false start bytes, out-of-range values, unknown commands) and
measure the pen's answers with the pen's own timestamps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

from smpctl.errors import SmpctlError
from smpctl.link import Link
from smpctl.protocol import (
    FRAME_GAP_S,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    SOF,
    Ack,
    Arm,
    ConfigKey,
    Disarm,
    EStop,
    Event,
    EventKind,
    Heartbeat,
    Hello,
    HelloReply,
    HostMessage,
    MsgType,
    Nak,
    NakCode,
    ParamTable,
    ParamValue,
    ReadParam,
    RebootBootloader,
    Run,
    SetDepth,
    SetRunMode,
    SetSpeed,
    SetStroke,
    SetTelemetryRate,
    SimAction,
    SimControl,
    Status,
    Stop,
    StreamDecoder,
    Telemetry,
    WriteParam,
    crc16,
    encode,
    type_of,
)

HEARTBEAT_EVERY_S = 0.05


@dataclass(frozen=True)
class CheckResult:
    id: str
    requirement: str
    outcome: str  # "pass", "fail" or "skip"
    measured: str

    @property
    def passed(self) -> bool:
        return self.outcome != "fail"

    def line(self) -> str:
        return f"{self.outcome.upper():4}  {self.id:22} {self.requirement} — {self.measured}"


class CheckFailed(Exception):
    pass


class Probe:
    """A raw protocol session: writes frames, keeps heartbeats going (unless told not to),
    and collects every reply, event and telemetry sample with host arrival times."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.decoder = StreamDecoder()
        self.seq = 0
        self.heartbeats = True
        self._next_hb = 0.0
        self._hb = 0
        self._last_rx = time.monotonic()
        self.replies: list[tuple[float, int, Any]] = []
        self.events: list[tuple[float, Event]] = []
        self.samples: list[tuple[float, Telemetry]] = []

    def next_seq(self) -> int:
        self.seq = (self.seq + 1) & 0xFF
        return self.seq

    def pump(self, duration: float) -> None:
        end = time.monotonic() + duration
        while True:
            now = time.monotonic()
            if self.heartbeats and now >= self._next_hb:
                self._hb = (self._hb + 1) & 0xFFFF
                self.link.write(encode(Heartbeat(self._hb), self.next_seq()))
                self._next_hb = now + HEARTBEAT_EVERY_S
            if now >= end:
                return
            data = self.link.read(4096, min(0.005, max(0.0, end - now)))
            now = time.monotonic()
            if data:
                self._last_rx = now
                msgs = self.decoder.feed(data)
            elif self.decoder.pending and now - self._last_rx >= FRAME_GAP_S:
                msgs = self.decoder.expire()
            else:
                continue
            for seq, msg in msgs:
                if isinstance(msg, Telemetry):
                    self.samples.append((now, msg))
                elif isinstance(msg, Event):
                    self.events.append((now, msg))
                else:
                    self.replies.append((now, seq, msg))

    def send_raw(self, frame: bytes) -> float:
        self.replies.clear()
        t = time.monotonic()
        self.link.write(frame)
        return t

    def wait_reply(self, match: Callable[[Any], bool], timeout: float) -> tuple[float, Any] | None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for t, _seq, msg in self.replies:
                if match(msg):
                    return t, msg
            self.pump(0.002)
        for t, _seq, msg in self.replies:
            if match(msg):
                return t, msg
        return None

    def request(self, command: HostMessage, timeout: float = 0.2) -> tuple[float, Any]:
        """Send, wait for the reply to this seq (retrying per the protocol's rule)."""
        seq = self.next_seq()
        frame = encode(command, seq)
        code = int(type_of(type(command)))
        start = self.send_raw(frame)

        def match(msg: Any) -> bool:
            if isinstance(msg, Ack | Nak):
                return msg.cmd_seq == seq and msg.cmd_type == code
            if isinstance(msg, ParamValue):
                c = command
                return isinstance(c, ReadParam) and (c.table, c.key) == (msg.table, msg.key)
            return isinstance(msg, HelloReply) and isinstance(command, Hello)

        for _ in range(3):  # 7.5: at most three resends, four sends in all
            got = self.wait_reply(match, 0.05)
            if got is not None:
                return got[0] - start, got[1]
            self.link.write(frame)
        got = self.wait_reply(match, max(0.05, timeout))
        if got is None:
            raise CheckFailed(f"no reply to {type(command).__name__}")
        return got[0] - start, got[1]

    def expect_ack(self, command: HostMessage) -> Ack:
        _rtt, reply = self.request(command)
        if not isinstance(reply, Ack):
            raise CheckFailed(f"{type(command).__name__} answered {reply!r}, expected ACK")
        return reply

    def expect_nak(self, command: HostMessage | bytes, code: NakCode) -> Nak:
        if isinstance(command, bytes):
            self.send_raw(command)
            got = self.wait_reply(lambda m: isinstance(m, Nak | Ack), 0.3)
            reply = got[1] if got else None
        else:
            _rtt, reply = self.request(command)
        if not isinstance(reply, Nak) or reply.code != code:
            raise CheckFailed(f"expected NAK {code.name}, got {reply!r}")
        return reply

    def latest(self) -> Telemetry | None:
        return self.samples[-1][1] if self.samples else None

    def wait_sample(self, pred: Callable[[Telemetry], bool], timeout: float) -> Telemetry:
        end = time.monotonic() + timeout
        start_index = len(self.samples)
        while time.monotonic() < end:
            self.pump(0.01)
            for _t, s in self.samples[start_index:]:
                if pred(s):
                    return s
            start_index = len(self.samples)
        raise CheckFailed("telemetry never showed the expected state")

    def wait_event(self, kind: EventKind, timeout: float, since: int = 0) -> Event:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for _t, ev in self.events[since:]:
                if ev.kind == kind:
                    return ev
            self.pump(0.005)
        raise CheckFailed(f"no {kind.name} event within {timeout * 1000:.0f} ms")


def _frame_with_payload(msg_type: int, payload: bytes, seq: int) -> bytes:
    body = bytes((len(payload), seq, msg_type)) + payload
    crc = crc16(body)
    return bytes((SOF,)) + body + bytes((crc >> 8, crc & 0xFF))


class Conformance:
    def __init__(self, link: Link) -> None:
        self.p = Probe(link)
        self.hello: HelloReply | None = None
        self.results: list[CheckResult] = []

    # each check returns the measured text or raises CheckFailed / _Skip
    def run(self) -> list[CheckResult]:
        checks: list[tuple[str, str, Callable[[], str]]] = [
            ("handshake", "HELLO answered by HELLO_REPLY, major version 1", self.c_handshake),
            ("limits", "reported limits are consistent", self.c_limits),
            ("commands_ack", "every setpoint/state command is ACKed", self.c_acks),
            ("params", "READ/WRITE_PARAM round-trip", self.c_params),
            ("nak_not_armed", "RUN while disarmed -> NAK NOT_ARMED", self.c_nak_not_armed),
            ("nak_unknown", "unknown type -> NAK UNKNOWN_COMMAND", self.c_nak_unknown),
            ("nak_bad_length", "short payload -> NAK BAD_LENGTH", self.c_nak_bad_length),
            ("nak_invalid_value", "bad run mode -> NAK INVALID_VALUE", self.c_nak_invalid),
            ("nak_unknown_param", "unknown key -> NAK UNKNOWN_PARAM", self.c_nak_param),
            ("nak_bad_magic", "bootloader without magic -> NAK BAD_MAGIC", self.c_nak_magic),
            ("bad_crc", "a frame with a bad CRC is ignored", self.c_bad_crc),
            ("resync", "good frame after garbage and a false start is answered", self.c_resync),
            ("duplicate", "a retried frame (same SEQ) gets the same reply", self.c_duplicate),
            ("clamping", "out-of-range speed clamped, ACK value and event", self.c_clamp),
            ("estop_latch", "ESTOP latches until ARM", self.c_estop),
            ("telemetry", "telemetry at the set rate, no gaps", self.c_telemetry),
            ("pedal_release", "motor off within 100 ms of pedal release", self.c_pedal),
            ("slew_limit", "speed ramps, never steps 0 -> full", self.c_slew),
            ("watchdog", "pen stops when heartbeats stop", self.c_watchdog),
        ]
        for cid, text, fn in checks:
            try:
                measured = fn()
                outcome = "pass"
            except _Skip as skip:
                outcome, measured = "skip", str(skip)
            except (CheckFailed, SmpctlError) as exc:
                outcome, measured = "fail", str(exc)
            self.results.append(CheckResult(cid, text, outcome, measured))
            if cid == "handshake" and outcome == "fail":
                break
            self._safe_state()
        self._safe_state()
        return self.results

    def _safe_state(self) -> None:
        p = self.p
        p.heartbeats = True
        try:
            if self.simulated:
                p.request(SimControl(SimAction.PEDAL, 0))
            p.request(Stop())
            p.request(Disarm())
        except (CheckFailed, SmpctlError):
            pass

    @property
    def simulated(self) -> bool:
        return self.hello is not None and self.hello.simulated

    # ------------------------------------------------------------------ checks

    def c_handshake(self) -> str:
        rtt, reply = self.p.request(Hello(PROTOCOL_MAJOR, PROTOCOL_MINOR))
        if not isinstance(reply, HelloReply):
            raise CheckFailed(f"HELLO answered {reply!r}")
        self.hello = reply
        if reply.version_major != PROTOCOL_MAJOR:
            raise CheckFailed(f"pen speaks {reply.protocol_version}, host {PROTOCOL_MAJOR}.x")
        return (
            f"{rtt * 1000:.1f} ms; {reply.model} fw {reply.firmware} serial {reply.serial} "
            f"protocol {reply.protocol_version}"
        )

    def c_limits(self) -> str:
        h = self._hello()
        problems = []
        if not h.min_stroke_um <= h.max_stroke_um:
            problems.append("min stroke > max stroke")
        if not h.min_depth_um <= h.max_depth_um:
            problems.append("min depth > max depth")
        if not 200 <= h.watchdog_ms <= 500:
            problems.append(f"watchdog {h.watchdog_ms} ms outside 200–500")
        if h.max_speed_chz <= 0 or h.max_telemetry_hz <= 0 or h.max_slew_hz_per_s <= 0:
            problems.append("zero speed, telemetry or slew limit")
        if problems:
            raise CheckFailed("; ".join(problems))
        return (
            f"speed ≤ {h.max_speed_chz / 100:g} Hz, stroke {h.min_stroke_um / 1000:g}–"
            f"{h.max_stroke_um / 1000:g} mm, depth {h.min_depth_um / 1000:g}–"
            f"{h.max_depth_um / 1000:g} mm, watchdog {h.watchdog_ms} ms"
        )

    def _hello(self) -> HelloReply:
        if self.hello is None:
            raise CheckFailed("no handshake")
        return self.hello

    def c_acks(self) -> str:
        h = self._hello()
        p = self.p
        rtts = []
        speed = min(10000, h.max_speed_chz)
        stroke = max(h.min_stroke_um, min(3000, h.max_stroke_um))
        depth = max(h.min_depth_um, min(1000, h.max_depth_um, stroke))
        for command, expect in (
            (SetSpeed(speed), speed),
            (SetStroke(stroke), stroke),
            (SetDepth(depth), depth),
            (SetRunMode(0, 100, 0, 0), None),
            (Arm(), None),
            (Run(), None),
            (Stop(), None),
            (Disarm(), None),
            (SetTelemetryRate(100), 100),
        ):
            rtt, reply = p.request(command)
            if not isinstance(reply, Ack):
                raise CheckFailed(f"{type(command).__name__} answered {reply!r}")
            if expect is not None and reply.value != expect:
                raise CheckFailed(f"{type(command).__name__} applied {reply.value}, sent {expect}")
            rtts.append(rtt)
        return f"9 commands ACKed, round trip max {max(rtts) * 1000:.1f} ms"

    def c_params(self) -> str:
        h = self._hello()
        _rtt, reply = self.p.request(ReadParam(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS))
        if not isinstance(reply, ParamValue) or reply.value != h.watchdog_ms:
            raise CheckFailed(f"WATCHDOG_MS read {reply!r}, HELLO said {h.watchdog_ms}")
        ack = self.p.expect_ack(WriteParam(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS, reply.value))
        if ack.value != reply.value:
            raise CheckFailed(f"WRITE_PARAM stored {ack.value}, sent {reply.value}")
        return f"WATCHDOG_MS = {reply.value} read and written back"

    def c_nak_not_armed(self) -> str:
        self.p.expect_ack(Disarm())
        self.p.expect_nak(Run(), NakCode.NOT_ARMED)
        return "NAK NOT_ARMED"

    def c_nak_unknown(self) -> str:
        self.p.expect_nak(
            _frame_with_payload(0x3E, b"", self.p.next_seq()), NakCode.UNKNOWN_COMMAND
        )
        return "type 0x3E -> NAK UNKNOWN_COMMAND"

    def c_nak_bad_length(self) -> str:
        frame = _frame_with_payload(MsgType.SET_SPEED, b"\x10", self.p.next_seq())
        self.p.expect_nak(frame, NakCode.BAD_LENGTH)
        return "SET_SPEED with 1 payload byte -> NAK BAD_LENGTH"

    def c_nak_invalid(self) -> str:
        self.p.expect_nak(SetRunMode(7, 0, 0, 0), NakCode.INVALID_VALUE)
        return "run mode 7 -> NAK INVALID_VALUE"

    def c_nak_param(self) -> str:
        self.p.expect_nak(ReadParam(ParamTable.CONFIG, 0xEE), NakCode.UNKNOWN_PARAM)
        return "config key 0xEE -> NAK UNKNOWN_PARAM"

    def c_nak_magic(self) -> str:
        self.p.expect_nak(RebootBootloader(0), NakCode.BAD_MAGIC)
        return "magic 0 -> NAK BAD_MAGIC (pen did not reboot)"

    def c_bad_crc(self) -> str:
        p = self.p
        p.expect_ack(Disarm())
        frame = bytearray(encode(Arm(), p.next_seq()))
        frame[-1] ^= 0x5A
        p.send_raw(bytes(frame))
        got = p.wait_reply(lambda m: isinstance(m, Ack | Nak), 0.15)
        if got is not None:
            raise CheckFailed(f"pen answered a bad-CRC frame: {got[1]!r}")
        s = p.wait_sample(lambda s: True, 0.5)
        if s.status & Status.ARMED:
            raise CheckFailed("pen executed a bad-CRC ARM")
        return "no reply in 150 ms, not executed"

    def c_resync(self) -> str:
        p = self.p
        seq = p.next_seq()
        good = encode(ReadParam(ParamTable.CONFIG, ConfigKey.WATCHDOG_MS), seq)
        # false start byte with the largest legal LEN, then line noise, then a good frame
        garbage = bytes((SOF, 200, 0x00, 0x21)) + b"\x00\xff\x13"
        t0 = p.send_raw(garbage + good)
        got = p.wait_reply(lambda m: isinstance(m, ParamValue), 0.5)
        if got is None:
            raise CheckFailed("the good frame after garbage was never answered")
        return f"answered after {(got[0] - t0) * 1000:.1f} ms (frame-gap resync)"

    def c_duplicate(self) -> str:
        p = self.p
        seq = p.next_seq()
        frame = encode(SetSpeed(5000), seq)
        p.send_raw(frame)
        p.wait_reply(lambda m: isinstance(m, Ack) and m.cmd_seq == seq, 0.3)
        p.link.write(frame)

        def matching() -> list[Ack]:
            return [m for _t, _s, m in p.replies if isinstance(m, Ack) and m.cmd_seq == seq]

        deadline = time.monotonic() + 0.3  # generous: a loaded host must not fail the pen
        while len(matching()) < 2 and time.monotonic() < deadline:
            p.pump(0.01)
        acks = matching()
        if len(acks) != 2 or acks[0] != acks[1]:
            raise CheckFailed(f"expected two identical ACKs, got {acks!r}")
        return "two identical ACKs"

    def c_clamp(self) -> str:
        h = self._hello()
        p = self.p
        since = len(p.events)
        ack = p.expect_ack(SetSpeed(0xFFFF))
        if ack.value > h.max_speed_chz:
            raise CheckFailed(f"applied {ack.value} above the pen's max {h.max_speed_chz}")
        ev = p.wait_event(EventKind.SETPOINT_CLAMPED, 0.3, since)
        p.expect_ack(SetSpeed(min(10000, h.max_speed_chz)))
        return f"655.35 Hz -> {ack.value / 100:g} Hz, SETPOINT_CLAMPED value {ev.value}"

    def c_estop(self) -> str:
        p = self.p
        p.expect_ack(Arm())
        p.expect_ack(EStop())
        p.expect_nak(Run(), NakCode.ESTOP_LATCHED)
        p.wait_sample(lambda s: bool(s.status & Status.ESTOP_LATCHED), 0.5)
        p.expect_ack(Arm())
        p.expect_ack(Run())
        p.expect_ack(Stop())
        return "RUN refused while latched; ARM cleared it"

    def c_telemetry(self) -> str:
        h = self._hello()
        p = self.p
        want = min(200, h.max_telemetry_hz)
        applied = p.expect_ack(SetTelemetryRate(want)).value
        p.pump(0.2)
        start = len(p.samples)
        p.pump(1.0)
        got = [s for _t, s in p.samples[start:]]
        if len(got) < 10:
            raise CheckFailed(f"only {len(got)} samples in 1 s at {applied} Hz")
        gaps = sum((b.sample_seq - a.sample_seq - 1) % (1 << 32) for a, b in pairwise(got))
        span = (got[-1].t_us - got[0].t_us) % (1 << 32) / 1e6
        rate = (len(got) - 1 + gaps) / span if span else 0.0
        if gaps or abs(rate - applied) > applied * 0.02:
            raise CheckFailed(f"{rate:.1f} Hz by device clock for {applied} Hz, {gaps} lost")
        return f"{rate:.1f} Hz by device clock (asked {applied}), 0 lost"

    def _run_with_pedal(self) -> list[Telemetry]:
        h = self._hello()
        p = self.p
        speed = min(10000, h.max_speed_chz)
        p.expect_ack(SetTelemetryRate(min(1000, h.max_telemetry_hz)))
        p.expect_ack(SetRunMode(0, 0, 0, 0))
        p.expect_ack(SetSpeed(speed))
        p.expect_ack(Arm())
        p.expect_ack(Run())
        start = len(p.samples)
        p.expect_ack(SimControl(SimAction.PEDAL, 1))
        p.wait_sample(lambda s: s.speed_chz >= speed * 0.9, 3.0)
        p.pump(0.1)
        return [s for _t, s in p.samples[start:]]

    def c_pedal(self) -> str:
        if not self.simulated:
            raise _Skip("needs a person on the pedal: run with the pen in hand (manual)")
        p = self.p
        self._run_with_pedal()
        since = len(p.events)
        p.expect_ack(SimControl(SimAction.PEDAL, 0))
        up = p.wait_event(EventKind.PEDAL_UP, 0.5, since)
        stopped = p.wait_event(EventKind.MOTOR_STOPPED, 0.5, since)
        ms = ((stopped.t_us - up.t_us) % (1 << 32)) / 1000
        if ms > 100:
            raise CheckFailed(f"motor stopped {ms:.1f} ms after pedal release")
        return f"motor off {ms:.1f} ms after pedal up (device clock)"

    def c_slew(self) -> str:
        if not self.simulated:
            raise _Skip("needs a person on the pedal (manual)")
        h = self._hello()
        samples = self._run_with_pedal()
        # What the slew limit promises is that the needle never jumps from 0 to full speed:
        # the ramp from standstill to 90 % of the setpoint takes at least as long as the
        # limit allows (with 20 % tolerance). The measured speed itself may briefly rise
        # faster than the reference while the speed loop catches up, so the peak rate is
        # reported, not judged.
        setpoint = samples[-1].setpoint_chz / 100 if samples else 0.0
        moving = next((s for s in samples if s.speed_chz >= 100), None)
        near = next((s for s in samples if s.speed_chz >= setpoint * 90), None)
        if moving is None or near is None or setpoint <= 0:
            raise CheckFailed("the motor never reached 90 % of its setpoint")
        rise_s = ((near.t_us - moving.t_us) % (1 << 32)) / 1e6
        slew = h.max_slew_hz_per_s
        least_s = 0.8 * (0.9 * setpoint - 1.0) / slew
        peak = 0.0
        j = 0
        for i, a in enumerate(samples):  # over 50 ms windows, so sensor noise does not count
            j = max(j, i + 1)
            while j < len(samples) and (samples[j].t_us - a.t_us) % (1 << 32) < 50_000:
                j += 1
            if j == len(samples):
                break
            b = samples[j]
            dt = ((b.t_us - a.t_us) % (1 << 32)) / 1e6
            peak = max(peak, (b.speed_chz - a.speed_chz) / 100 / dt)
        if rise_s < least_s:
            raise CheckFailed(
                f"0 -> 90 % of {setpoint:g} Hz in {rise_s * 1000:.0f} ms; a {slew} Hz/s slew "
                f"limit needs at least {least_s * 1000:.0f} ms"
            )
        return (
            f"0 -> 90 % of {setpoint:g} Hz in {rise_s * 1000:.0f} ms (limit {slew} Hz/s needs "
            f">= {least_s * 1000:.0f} ms); peak rise {peak:.0f} Hz/s"
        )

    def c_watchdog(self) -> str:
        h = self._hello()
        p = self.p
        p.expect_ack(Arm())
        p.expect_ack(Run())
        p.pump(0.1)
        since = len(p.events)
        p.heartbeats = False
        t0 = time.monotonic()
        ev = p.wait_event(EventKind.WATCHDOG_STOP, 1.5, since)
        host_ms = (time.monotonic() - t0) * 1000
        p.heartbeats = True
        p.pump(0.1)
        s = p.latest()
        if s is not None and s.status & (Status.ARMED | Status.MOTOR_ON):
            raise CheckFailed("pen still armed after the watchdog stop")
        if ev.value > h.watchdog_ms + 50:
            raise CheckFailed(f"stopped {ev.value} ms after the last heartbeat")
        return (
            f"stopped {ev.value} ms after the last heartbeat by the pen's clock "
            f"(host saw {host_ms:.0f} ms; timeout {h.watchdog_ms} ms), disarmed"
        )


class _Skip(Exception):
    pass


def run_conformance(link: Link) -> list[CheckResult]:
    return Conformance(link).run()


def results_json(results: list[CheckResult]) -> dict[str, object]:
    return {
        "passed": all(r.passed for r in results),
        "checks": [asdict(r) for r in results],
    }


def iter_lines(results: list[CheckResult]) -> Iterator[str]:
    for r in results:
        yield r.line()
    fails = sum(r.outcome == "fail" for r in results)
    skips = sum(r.outcome == "skip" for r in results)
    yield f"{len(results) - fails - skips} passed, {fails} failed, {skips} skipped"
