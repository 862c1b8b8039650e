"""The connected pen: commands with acks and retries, a reader thread, heartbeats tied to the
application's liveness, honest link statistics, and reconnection that never restarts the
needle."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from smpctl import errors
from smpctl.link import Link
from smpctl.protocol import (
    FRAME_GAP_S,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    Ack,
    CalibrationKey,
    ConfigKey,
    EStop,
    Event,
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
    RunMode,
    SimAction,
    Stop,
    StreamDecoder,
    Telemetry,
    Unknown,
    encode,
    type_of,
)

from . import commands as cmd
from .identity import PenIdentity
from .notices import HostEvent, LinkEvent, LinkEventKind, LinkState, Notice
from .ring import Ring
from .stats import LinkStats, LinkStatsTracker

Clock = Callable[[], float]
Opener = Callable[[], Link]

REPLY_TIMEOUT_S = 0.05
"""docs/protocol.md retry rule: resend after 50 ms without a reply ..."""
MAX_RESENDS = 3
"""... at most three times, with the same sequence number."""
SILENCE_LOST_S = 0.3
"""No byte for this long while telemetry is on means the link is gone (detect < 500 ms)."""
SILENCE_SAMPLE_PERIODS = 2.5
"""... unless the telemetry rate is so low that the pen is silent longer between samples: then
this many sample periods (a 2 Hz stream is quiet for 500 ms at a time, and is not lost)."""
SILENCE_RATE_UNKNOWN_S = 1.1
"""Before the rate is known (the pen's configured default, 1 Hz or more), one slowest period."""
RECONNECT_POLL_S = 0.1
READ_TIMEOUT_S = 0.01

_NAK_ERRORS: dict[int, type[errors.NakError]] = {
    NakCode.NOT_ARMED: errors.NotArmedError,
    NakCode.ESTOP_LATCHED: errors.EStopLatchedError,
    NakCode.FAULT_ACTIVE: errors.FaultActiveError,
    NakCode.BATTERY_LOW: errors.BatteryLowError,
    NakCode.BUSY: errors.PenBusyError,
    NakCode.NO_HANDSHAKE: errors.NoHandshakeError,
}


def nak_error(command: HostMessage, nak: Nak) -> errors.NakError:
    cls = _NAK_ERRORS.get(nak.code, errors.NakError)
    return cls(type(command).__name__, nak.code, nak.reason)


class _Transaction:
    __slots__ = ("command", "done", "reply", "seq", "type_code")

    def __init__(self, command: HostMessage, seq: int) -> None:
        self.command = command
        self.seq = seq
        self.type_code = int(type_of(type(command)))
        self.done = threading.Event()
        self.reply: Ack | Nak | ParamValue | HelloReply | BaseException | None = None

    def matches(self, msg: Any) -> bool:
        if isinstance(msg, Ack | Nak):
            return msg.cmd_seq == self.seq and msg.cmd_type == self.type_code
        if isinstance(msg, ParamValue):
            c = self.command
            return isinstance(c, ReadParam) and (c.table, c.key) == (msg.table, msg.key)
        if isinstance(msg, HelloReply):
            return isinstance(self.command, Hello)
        return False


def handshake(link: Link, clock: Clock = time.monotonic) -> tuple[PenIdentity, int]:
    """Send HELLO on a fresh link and wait for HELLO_REPLY (retry rule applies).

    Runs without the reader thread, so the reconnect path can use it from that thread.
    Returns the identity and the next host sequence number to use.
    """
    decoder = StreamDecoder()
    seq = 0
    frame = encode(Hello(PROTOCOL_MAJOR, PROTOCOL_MINOR), seq)
    # a pen in mid-stream needs time to drain what it had queued: allow a longer first wait
    for attempt in range(MAX_RESENDS + 2):
        link.write(frame)
        deadline = clock() + REPLY_TIMEOUT_S * (4 if attempt == 0 else 2)
        while clock() < deadline:
            for _s, msg in decoder.feed(link.read(4096, READ_TIMEOUT_S)):
                if isinstance(msg, HelloReply):
                    host = f"{PROTOCOL_MAJOR}.{PROTOCOL_MINOR}"
                    if msg.version_major != PROTOCOL_MAJOR:
                        raise errors.VersionMismatchError(host, msg.protocol_version)
                    return PenIdentity.from_hello(msg), 1
                if isinstance(msg, Nak) and msg.cmd_type == MsgType.HELLO:
                    raise errors.PenProtocolError(f"pen refused HELLO: {msg.reason}")
    raise errors.PenTimeoutError(
        f"no answer to HELLO on {link.url}: is this a pen speaking smpctl protocol "
        f"{PROTOCOL_MAJOR}.x at the right baud rate? Try `smpctl devices`."
    )


class Pen:
    """A pen on a link. Build with ``smpctl.client.connect``."""

    def __init__(
        self,
        link: Link,
        identity: PenIdentity,
        *,
        opener: Opener | None,
        clock: Clock = time.monotonic,
        next_seq: int = 1,
        ring_capacity: int = 16384,
        heartbeat_interval_s: float | None = None,
        lease_s: float = 1.0,
        auto_reconnect: bool = True,
    ) -> None:
        self._link: Link | None = link
        self._opener = opener
        self._clock = clock
        self.identity = identity
        self.url = link.url
        self.telemetry: Ring[Telemetry] = Ring(ring_capacity)
        self.notices: Ring[Notice] = Ring(1024)
        self._decoder = StreamDecoder()
        self._tracker = LinkStatsTracker()
        self._seq = next_seq
        self._seq_lock = threading.Lock()
        self._pending: list[_Transaction] = []
        self._pending_lock = threading.Lock()
        self._command_lock = threading.Lock()
        """Stop-and-wait (protocol 7.5): one command outstanding; STOP and ESTOP never wait."""
        self._resend_lock = threading.Lock()
        self._stops_sent = 0
        """STOP/ESTOP frames sent; a command sent before one of them is never resent after it."""
        self._link_lock = threading.Lock()
        self._link_failure: tuple[Link, str] | None = None
        self._subscribers: list[Callable[[Notice], None]] = []
        self._state = LinkState.CONNECTED
        self._state_changed = threading.Condition()
        self._closing = threading.Event()
        self._auto_reconnect = auto_reconnect
        wd = identity.limits.watchdog_ms / 1000
        self._hb_interval = heartbeat_interval_s or max(0.02, wd / 4)
        self._lease_s = lease_s
        self._alive_until = clock() + lease_s
        self._hb_counter = 0
        self._next_hb = 0.0
        self._last_rx = clock()
        self._telemetry_on = True
        self._telemetry_rate: int | None = None
        self.latest: Telemetry | None = None
        self.last_heartbeat_at: float | None = None
        """Client clock time the last heartbeat was written (for watchdog measurements)."""
        self._reader = threading.Thread(
            target=self._run_reader, name="smpctl-pen-reader", daemon=True
        )
        self._reader.start()

    # ------------------------------------------------------------------ facts

    @property
    def serial(self) -> str:
        return self.identity.serial

    @property
    def limits(self) -> Any:
        return self.identity.limits

    @property
    def simulated(self) -> bool:
        return self.identity.simulated

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def link(self) -> Link | None:
        return self._link

    def stats(self) -> LinkStats:
        return self._tracker.snapshot(self._decoder.stats, self._clock())

    def subscribe(self, callback: Callable[[Notice], None]) -> Callable[[], None]:
        """Call ``callback`` (on the reader thread: keep it short) for every pen event and
        link event. Returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def post(self, kind: str, message: str, **data: Any) -> HostEvent:
        """Record a host-side event in the notice stream (see ``HostEvent``)."""
        event = HostEvent(kind, message, self._clock(), dict(data))
        self._notify(event)
        return event

    def wait_for_state(self, state: LinkState, timeout: float) -> bool:
        with self._state_changed:
            return self._state_changed.wait_for(lambda: self._state is state, timeout)

    # ------------------------------------------------------------------ liveness

    def alive(self, lease_s: float | None = None) -> None:
        """The application says it is alive: heartbeats continue for ``lease_s``.

        Call this from the application's own main loop. If that loop freezes, heartbeats
        stop and the pen's watchdog stops the needle: a frozen screen never leaves it running.
        """
        self._alive_until = self._clock() + (lease_s if lease_s is not None else self._lease_s)

    def heartbeat(self) -> None:
        """Send one heartbeat now (for applications that drive heartbeats themselves)."""
        self._send_heartbeat()

    def _send_heartbeat(self) -> None:
        link = self._link
        if link is None:
            return
        self._hb_counter = (self._hb_counter + 1) & 0xFFFF
        with contextlib.suppress(errors.LinkLostError):
            link.write(encode(Heartbeat(self._hb_counter), self._next_seq()))
            self.last_heartbeat_at = self._clock()

    # ------------------------------------------------------------------ commands

    def _next_seq(self) -> int:
        with self._seq_lock:
            seq = self._seq
            self._seq = (seq + 1) & 0xFF
            return seq

    def execute(self, command: HostMessage) -> Ack | ParamValue:
        """Send a command, wait for its reply with the documented retry rule.

        Commands travel one at a time; STOP and ESTOP go out at once, even while another
        command waits, and an unanswered command sent before them is not resent after them
        (its retry would undo the stop: a RUN re-enabling the needle).

        Raises ``NakError`` (subclass by code) when refused, ``PenTimeoutError`` after the
        last resend (the link then counts as lost and is reconnected), ``LinkLostError`` when
        the link is down.
        """
        if isinstance(command, Stop | EStop):
            return self._transact(command, urgent=True)
        with self._command_lock:
            return self._transact(command, urgent=False)

    def _transact(self, command: HostMessage, *, urgent: bool) -> Ack | ParamValue:
        link = self._link
        if link is None or self._state is not LinkState.CONNECTED:
            raise errors.LinkLostError(
                f"pen {self.serial} is not connected ({self._state.value}); "
                + (
                    "connect again to use it"
                    if self._state is LinkState.CLOSED
                    else "the pen stops by itself; wait for it to reconnect, then re-arm"
                )
            )
        seq = self._next_seq()
        tx = _Transaction(command, seq)
        frame = encode(command, seq)
        name = type(command).__name__
        with self._pending_lock:
            self._pending.append(tx)
        sent_at = self._clock()
        stops = self._stops_sent
        attempt = 0
        try:
            if urgent:
                with self._resend_lock:
                    self._stops_sent += 1
            link.write(frame)
            while not tx.done.wait(REPLY_TIMEOUT_S):
                if attempt == MAX_RESENDS or not self._resend(link, frame, urgent, stops):
                    break
                attempt += 1
        finally:
            with self._pending_lock, contextlib.suppress(ValueError):
                self._pending.remove(tx)
        if not tx.done.is_set():
            if attempt < MAX_RESENDS:
                raise errors.PenTimeoutError(
                    f"pen {self.serial} did not answer {name}, and it was not resent because "
                    f"a STOP was sent meanwhile (a resend could undo the stop). Check the "
                    f"pen's state and send {name} again if it is still wanted"
                )
            self._link_failure = (link, f"no answer to {name} after {attempt + 1} tries")
            raise errors.PenTimeoutError(
                f"pen {self.serial} did not answer {name} after {attempt + 1} tries; "
                "check the cable and the pen's power. The link counts as lost and is "
                "reconnected when the pen answers again (stopped and disarmed)"
            )
        self._tracker.on_rtt(self._clock() - sent_at, attempt)
        reply = tx.reply
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, Nak):
            if reply.code == NakCode.NO_HANDSHAKE:
                # the pen rebooted without the link noticing: handshake again, and say so
                self._link_failure = (link, "the pen rebooted (it asked for HELLO)")
            raise nak_error(command, reply)
        assert isinstance(reply, Ack | ParamValue)
        return reply

    def _resend(self, link: Link, frame: bytes, urgent: bool, stops: int) -> bool:
        """Resend ``frame`` unless a STOP went out after it was first sent."""
        if urgent:
            link.write(frame)
            return True
        with self._resend_lock:  # a STOP counted here is on the wire after this resend
            if self._stops_sent != stops:
                return False
            link.write(frame)
        return True

    # typed API ------------------------------------------------------------

    def set_speed(self, hz: float) -> float:
        """Set the stroke rate; returns the applied value in Hz."""
        return self.execute(cmd.set_speed(hz, self.identity.limits)).value / 100

    def set_stroke(self, mm: float) -> float:
        return self.execute(cmd.set_stroke(mm, self.identity.limits)).value / 1000

    def set_depth(self, mm: float) -> float:
        return self.execute(cmd.set_depth(mm, self.identity.limits)).value / 1000

    def set_run_mode(
        self,
        mode: RunMode = RunMode.CONTINUOUS,
        *,
        ramp_ms: int = 0,
        pulse_on_ms: int = 0,
        pulse_off_ms: int = 0,
    ) -> None:
        self.execute(
            cmd.set_run_mode(
                mode, ramp_ms=ramp_ms, pulse_on_ms=pulse_on_ms, pulse_off_ms=pulse_off_ms
            )
        )

    def arm(self) -> None:
        self.execute(cmd.ARM)

    def disarm(self) -> None:
        self.execute(cmd.DISARM)

    def run(self) -> None:
        self.execute(cmd.RUN)

    def stop(self) -> None:
        """Stop the motor (stays armed). Sent at once, even while another command waits."""
        self.execute(cmd.STOP)

    def stop_now(self) -> bool:
        """Write a STOP frame at once and return without waiting for its ACK.

        For callers that must not block (a terminal's input thread): they follow it with
        ``stop()``, which confirms the stop (STOP is idempotent on the pen). Counted as a STOP
        so that no command sent earlier is resent after it. False if there is no link.
        """
        link = self._link
        if link is None:
            return False
        frame = encode(cmd.STOP, self._next_seq())
        try:
            with self._resend_lock:
                self._stops_sent += 1
                link.write(frame)
        except errors.LinkLostError:
            return False
        return True

    def estop(self) -> None:
        """Emergency stop, latched until re-armed."""
        self.execute(cmd.ESTOP)

    def set_telemetry_rate(self, hz: int) -> int:
        applied = int(self.execute(cmd.set_telemetry_rate(hz, self.identity.limits)).value)
        self._telemetry_rate = applied
        self._telemetry_on = applied > 0
        return applied

    def read_config(self, key: ConfigKey) -> int:
        return int(self.execute(cmd.read_param(ParamTable.CONFIG, key)).value)

    def write_config(self, key: ConfigKey, value: int) -> int:
        return int(self.execute(cmd.write_param(ParamTable.CONFIG, key, value)).value)

    def read_calibration(self, key: CalibrationKey) -> int:
        return int(self.execute(cmd.read_param(ParamTable.CALIBRATION, key)).value)

    def write_calibration(self, key: CalibrationKey, value: int) -> int:
        return int(self.execute(cmd.write_param(ParamTable.CALIBRATION, key, value)).value)

    def reboot_bootloader(self) -> None:
        self.execute(cmd.reboot_bootloader())

    def sim(self, action: SimAction, value: int = 0) -> None:
        """Act on a simulated pen's world (pedal, skin, faults). Refused by real pens."""
        if not self.simulated:
            raise errors.SimulatorError(
                f"pen {self.serial} is a real pen: simulator controls are not available"
            )
        self.execute(cmd.sim_control(action, value))

    # ------------------------------------------------------------------ reader

    def _notify(self, notice: Notice) -> None:
        self.notices.append(notice)
        for callback in list(self._subscribers):
            try:
                callback(notice)
            except Exception:  # a subscriber's bug must never stop the reader
                continue
            except BaseException:  # not even sys.exit; Ctrl-C in post() still interrupts
                if threading.current_thread() is not self._reader:
                    raise

    def _set_state(self, state: LinkState) -> None:
        with self._state_changed:
            self._state = state
            self._state_changed.notify_all()

    def _dispatch(self, messages: list[tuple[int, Any]], now: float) -> None:
        samples: list[Telemetry] = []
        tracker = self._tracker
        for _seq, msg in messages:
            if type(msg) is Telemetry:
                samples.append(msg)
                tracker.on_telemetry(msg)
            elif type(msg) is Event:
                tracker.on_event_seq(msg.event_seq)
                self._notify(msg)
            elif type(msg) is Unknown:
                continue
            else:
                with self._pending_lock:
                    for tx in self._pending:
                        if not tx.done.is_set() and tx.matches(msg):
                            tx.reply = msg
                            tx.done.set()
                            break
        if samples:
            tracker.on_samples_arrived(now)
            self.telemetry.extend(samples)
            self.latest = samples[-1]

    def _run_reader(self) -> None:
        try:
            self._read_loop()
        except BaseException as exc:  # a bug here must not leave the client saying CONNECTED
            self._auto_reconnect = False
            self._lose_link(f"the client's reader failed ({exc!r}); restart the program")
            raise

    def _read_loop(self) -> None:
        clock = self._clock
        while not self._closing.is_set():
            link = self._link
            if link is None:
                if not self._auto_reconnect or self._opener is None:
                    return
                self._try_reconnect()
                continue
            failure = self._link_failure
            if failure is not None:
                self._link_failure = None
                if failure[0] is link:
                    self._lose_link(failure[1])
                    continue
            now = clock()
            if now >= self._next_hb and now < self._alive_until:
                self._next_hb = now + self._hb_interval
                self._send_heartbeat()
            try:
                data = link.read(8192, READ_TIMEOUT_S)
            except errors.LinkLostError as exc:
                if self._closing.is_set():
                    return
                self._lose_link(f"port error: {exc}")
                continue
            now = clock()
            if data:
                self._last_rx = now
                messages = self._decoder.feed(data)
                self._tracker.on_chunk(now, len(messages), len(data))
                if messages:
                    self._dispatch(messages, now)
            elif self._decoder.pending and now - self._last_rx >= FRAME_GAP_S:
                self._dispatch(self._decoder.expire(), now)
            elif self._telemetry_on and now - self._last_rx > self._silence_limit():
                self._lose_link(f"no data from the pen for {(now - self._last_rx) * 1000:.0f} ms")

    def _silence_limit(self) -> float:
        rate = self._telemetry_rate
        period = 1 / rate if rate else self._tracker.sample_period_s()
        if period is None:
            return max(SILENCE_LOST_S, SILENCE_RATE_UNKNOWN_S)
        return max(SILENCE_LOST_S, SILENCE_SAMPLE_PERIODS * period)

    def _lose_link(self, reason: str) -> None:
        with self._link_lock:
            link, self._link = self._link, None
        if link is not None:
            link.close()
        self._set_state(LinkState.LOST)
        exc = errors.LinkLostError(f"link to pen {self.serial} lost: {reason}")
        with self._pending_lock:
            for tx in self._pending:
                tx.reply = exc
                tx.done.set()
        self._notify(
            LinkEvent(
                LinkEventKind.LOST,
                f"LINK LOST to pen {self.serial} ({reason}). The pen stops by itself; "
                "reconnect the cable: it will come back stopped and disarmed.",
                self._clock(),
                self.serial,
            )
        )

    def _try_reconnect(self) -> None:
        assert self._opener is not None
        self._closing.wait(RECONNECT_POLL_S)
        if self._closing.is_set():
            return
        try:
            link = self._opener()
        except Exception:  # not back yet, whatever the transport says
            return
        try:
            identity, next_seq = handshake(link, self._clock)
        except Exception:
            link.close()
            return
        if identity.serial != self.serial:
            link.close()
            self._notify(
                LinkEvent(
                    LinkEventKind.WRONG_PEN,
                    f"a different pen (serial {identity.serial}) answered on {self.url}; "
                    f"this session's pen is {self.serial}. Refused: plug the session's pen "
                    "back in, or end the session and connect the other pen.",
                    self._clock(),
                    identity.serial,
                )
            )
            self._closing.wait(1.0)
            return
        self.identity = identity
        self._decoder.reset()
        self._tracker.restart_sequence()
        with self._seq_lock:
            self._seq = next_seq
        self._last_rx = self._clock()
        if self._telemetry_rate is not None:  # before any command of the application's
            with contextlib.suppress(errors.SmpctlError):
                link.write(
                    encode(
                        cmd.set_telemetry_rate(self._telemetry_rate, identity.limits),
                        self._next_seq(),
                    )
                )
        with self._link_lock:
            if self._closing.is_set():  # close() came while we were reconnecting
                link.close()
                return
            self._link = link
        self._set_state(LinkState.CONNECTED)
        self._notify(
            LinkEvent(
                LinkEventKind.RECONNECTED,
                f"pen {self.serial} reconnected. It is STOPPED and DISARMED: check the "
                "needle, then re-arm to continue.",
                self._clock(),
                self.serial,
            )
        )

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        """Stop the motor, then close the link. Safe to call twice."""
        if self._closing.is_set():
            return
        link = self._link
        if link is not None and self._state is LinkState.CONNECTED:
            with contextlib.suppress(errors.SmpctlError):
                self.execute(cmd.STOP)
        self._closing.set()
        if self._reader is not threading.current_thread():
            self._reader.join(timeout=1.0)
        with self._link_lock:  # also a link a reconnect installed while we waited
            latest, self._link = self._link, None
        if latest is not None and latest is not link:
            latest.close()
        if link is not None:
            link.close()
        self._set_state(LinkState.CLOSED)

    def __enter__(self) -> Pen:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
