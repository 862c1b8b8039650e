"""The recorder: follows a connected pen by itself and writes every pass.

It runs on its own thread. Pen, link and host notices arrive through ``Pen.subscribe`` (the
callback only queues them: it runs on the pen's reader thread); telemetry is read from the
pen's ring from a cursor. A pass is pedal-down to pedal-up (from the pen's events, or from
the telemetry status if an event was lost); samples and events are placed on the pen's own
clock, so a sample is never counted in the wrong pass. Boundaries and events are on disk
before they are reported (``subscribe``); telemetry is group-committed every ``commit_s``.

One ``ContactDetector`` follows all of the pen's telemetry, in and between passes, so its
online baseline keeps learning over the session; a pass's in-skin strokes are what it
counted over the samples recorded in that pass (``live_dose`` while it runs).

If the journal cannot write, the pen is stopped and kept stopped, the user is told why
(a host event in the pen's notices, and ``error``), everything is kept in memory and
written as soon as a retry succeeds.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import operator
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from smpctl import errors
from smpctl.client import HostEvent, LinkEvent, LinkEventKind, Notice, Pen
from smpctl.dose import ContactDetector, ContactSettings
from smpctl.protocol import STOP_FAULTS, Event, EventKind, Status, StopReason, Telemetry

from .aggregates import PassAggregates
from .journal import Journal
from .records import EventSource, Outcome

log = logging.getLogger("smpctl.journal")

_MOD = 1 << 32
_HALF = 1 << 31
_STATUS = operator.itemgetter(10)
_PEDAL = int(Status.PEDAL_DOWN)
_MOTOR = int(Status.MOTOR_ON)


def _after(t: int, ref: int) -> bool:
    """Device time ``t`` is strictly later than ``ref`` (u32 µs, wraps every 71 min)."""
    return 0 < (t - ref) % _MOD < _HALF


def _not_before(t: int, ref: int) -> bool:
    return (t - ref) % _MOD < _HALF


class Recorded(NamedTuple):
    """Something now on disk: ``kind`` is ``event``, ``pass_opened`` or ``pass_closed``."""

    kind: str
    uid: str
    detail: str


RecordedCallback = Callable[[Recorded], None]


@dataclass
class _ZoneChange:
    t_us: int | None
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Sync:
    done: threading.Event = field(default_factory=threading.Event)


_Item = Notice | _ZoneChange | _Sync


LiveDose = tuple[str | None, int, int]
"""(pass running or None, its strokes so far, its in-skin strokes so far)."""
NO_PASS: LiveDose = (None, 0, 0)


class _OpenPass:
    __slots__ = (
        "aggregates",
        "ending_at",
        "ending_t",
        "events",
        "in_skin",
        "outcome",
        "start_t",
        "uid",
    )

    def __init__(self, uid: str, start_t: int | None, baseline: Telemetry | None) -> None:
        self.uid = uid
        self.start_t = start_t
        self.aggregates = PassAggregates(baseline)
        self.in_skin = 0
        self.events: list[str] = []
        self.outcome = Outcome.COMPLETE
        self.ending_t: int | None = None
        self.ending_at = 0.0

    def in_skin_strokes(self) -> int | None:
        """The detector's count over this pass's samples, never more than its strokes
        (the first interval after a lost baseline is in the one, not the other)."""
        strokes = self.aggregates.strokes
        return None if strokes is None else min(self.in_skin, strokes)

    def mark(self, outcome: Outcome) -> None:
        """The first stop of the needle during a pass decides its outcome."""
        if self.outcome is Outcome.COMPLETE:
            self.outcome = outcome

    def holds(self, t: int) -> bool:
        if self.start_t is not None and not _not_before(t, self.start_t):
            return False
        return self.ending_t is None or not _after(t, self.ending_t)


_STOP_OUTCOME = {
    StopReason.HOST_STOP: Outcome.STOPPED,
    StopReason.ESTOP: Outcome.STOPPED,
    StopReason.DISARMED: Outcome.STOPPED,
    StopReason.FAULT: Outcome.INTERRUPTED_FAULT,
    StopReason.WATCHDOG: Outcome.INTERRUPTED_FAULT,
}


class Recorder:
    """Records ``pen`` into ``journal`` until ``stop()``. Build, then ``start()``.

    ``contact``: how skin contact is told from the telemetry (a calibrated baseline and
    gain for this pen, or None to learn them online)."""

    def __init__(
        self,
        journal: Journal,
        pen: Pen,
        *,
        pen_uid: str | None = None,
        poll_s: float = 0.02,
        commit_s: float = 0.1,
        retry_s: float = 0.5,
        end_wait_s: float = 0.1,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        contact: ContactSettings | None = None,
    ) -> None:
        self.journal = journal
        self.pen = pen
        self.pen_uid = pen_uid
        self.poll_s = poll_s
        self.commit_s = commit_s
        self.retry_s = retry_s
        self.end_wait_s = end_wait_s
        self._wall = wall
        self._mono = monotonic
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._callbacks: list[RecordedCallback] = []
        self._unreported: list[Recorded] = []
        self._pass: _OpenPass | None = None
        self._baseline: Telemetry | None = None
        self._last_pedal_t: int | None = None
        self._continue_after_link: str | None = None
        self._cursor = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self.error: errors.JournalWriteError | None = None
        """Why the journal cannot write now (None when it can): the needle must not run."""
        self._next_retry = 0.0
        self._next_stop = 0.0
        self._next_commit = 0.0
        self.missed_samples = 0
        self.failure: BaseException | None = None
        self.contact = contact
        self.detector = ContactDetector(contact)
        """Follows every sample of the pen (recorder thread only)."""
        self._detector_serial: str | None = None
        self._live: LiveDose = NO_PASS

    # ------------------------------------------------------------------ control

    def start(self) -> Recorder:
        if self.pen_uid is None:
            self.pen_uid = self.journal.register_pen(self.pen.identity)
        self._detector_serial = self.pen.identity.serial
        self._cursor = self.pen.telemetry.cursor
        self._unsubscribe.append(self.pen.subscribe(self._queue.put))
        self._unsubscribe.append(self.journal.add_zone_listener(self._on_zone))
        self._thread = threading.Thread(target=self._run, name="smpctl-recorder", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Record what is left, close an open pass (stopped), commit. Raises
        ``JournalWriteError`` if that last write cannot be made (records stay queued in
        the journal's store: closing the journal retries them)."""
        for unsubscribe in self._unsubscribe:
            with contextlib.suppress(ValueError):
                unsubscribe()
        self._unsubscribe.clear()
        self._stopping.set()
        # wake the thread from its wait for a notice: what is left is recorded now, not
        # after up to ``poll_s`` of waiting (the caller blocks until it is on disk)
        self._queue.put(_Sync())
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._thread = None
        if self.error is not None:
            raise self.error

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def subscribe(self, callback: RecordedCallback) -> Callable[[], None]:
        """Call ``callback`` (on the recorder thread) for each record once it is on disk."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    def sync(self, timeout: float = 2.0) -> bool:
        """Wait until everything the pen sent before this call is recorded and committed."""
        if self._thread is None:
            return False
        item = _Sync()
        self._queue.put(item)
        return item.done.wait(timeout)

    @property
    def current_pass(self) -> str | None:
        p = self._pass
        return p.uid if p is not None else None

    def live_dose(self) -> LiveDose:
        """(pass running or None, its strokes so far, its in-skin strokes so far), as of
        the recorder's last read of the ring (every ``poll_s``). Safe from any thread.

        A closed pass leaves this only once its row is on disk (after a failed write: once
        the retry has written it), so a reader adding this to the journal's closed passes
        may count a pass twice for a poll, never miss it."""
        return self._live

    def _on_zone(self, zone: str, scar: str | None) -> None:
        if self._thread is None or not self._thread.is_alive():
            return
        latest = self.pen.latest
        item = _ZoneChange(latest.t_us if latest is not None else None)
        self._queue.put(item)
        item.done.wait(2.0)

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        try:
            while True:
                stopping = self._stopping.is_set()
                items: list[_Item] = []
                if not stopping:
                    with contextlib.suppress(queue.Empty):
                        items.append(self._queue.get(timeout=self.poll_s))
                read = self.pen.telemetry.since(self._cursor)
                self._cursor = read.cursor
                # after the ring read: every event that came before these samples is queued
                while True:
                    try:
                        items.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if read.missed:
                    self._missed(read.missed)
                self._cycle(read.items, items)
                if stopping:
                    self._finish()
                    return
        except BaseException as exc:  # never die silently: the needle must not run unrecorded
            self.failure = exc
            log.exception("the recorder stopped on an internal error; stopping the pen")
            with contextlib.suppress(errors.SmpctlError):
                self.pen.stop()
            raise

    def _cycle(self, samples: list[Telemetry], items: list[_Item]) -> None:
        now = self._mono()
        keys: list[int] | None = None
        ref = 0
        done = 0
        syncs: list[_Sync] = []
        for item in items:
            t = _time_of(item)
            if t is not None and done < len(samples):
                if keys is None:
                    ref = (samples[0].t_us - (1 << 30)) % _MOD
                    keys = [(s.t_us - ref) % _MOD for s in samples]
                cut = bisect.bisect_left(keys, (t - ref) % _MOD, done)
                # a zone change splits after the sample the user saw; an event sits at t
                if isinstance(item, _ZoneChange):
                    cut = bisect.bisect_right(keys, (t - ref) % _MOD, done)
                self._samples(samples[done:cut])
                done = max(done, cut)
            elif isinstance(item, LinkEvent) and item.kind is LinkEventKind.LOST:
                self._samples(samples[done:])
                done = len(samples)
            if isinstance(item, _Sync):
                syncs.append(item)
            else:
                self._item(item)
        self._samples(samples[done:])
        p = self._pass
        if p is not None and p.ending_t is not None and now - p.ending_at > self.end_wait_s:
            self._close(Outcome.COMPLETE)  # pedal up and no later sample came: close anyway
        self._keep_stopped(samples)
        if self.error is not None:
            if now >= self._next_retry:
                self._next_retry = now + self.retry_s
                self._write(self.journal.commit)
        elif syncs or now >= self._next_commit:
            self._next_commit = now + self.commit_s
            if self.journal.store.pending:
                self._write(self.journal.commit)
        for s in syncs:
            s.done.set()

    # ------------------------------------------------------------------ samples

    def _samples(self, batch: list[Telemetry]) -> None:
        while batch:
            p = self._pass
            if p is None:
                # a pass whose PEDAL_DOWN event was lost, or one running when we started
                last = self._last_pedal_t
                i = next(
                    (
                        i
                        for i, s in enumerate(batch)
                        if s.status & _PEDAL and (last is None or _after(s.t_us, last))
                    ),
                    None,
                )
                if i is None:
                    self._outside(batch)
                    self._baseline = batch[-1]
                    return
                if i:
                    self._outside(batch[:i])
                    self._baseline = batch[i - 1]
                self._open(batch[i].t_us, "pedal seen down in telemetry")
                batch = batch[i:]
                continue
            if p.start_t is not None and not _not_before(batch[0].t_us, p.start_t):
                i = next((i for i, s in enumerate(batch) if _not_before(s.t_us, p.start_t)), None)
                if i is None:
                    self._outside(batch)
                    return  # samples from before the pass (they came after its event)
                self._outside(batch[:i])
                batch = batch[i:]
            if p.ending_t is not None:
                end = p.ending_t
                # a sample taken at the very tick of PEDAL_UP already shows the pedal up:
                # it belongs after the pass, not in it
                j = next(
                    (
                        j
                        for j, s in enumerate(batch)
                        if _after(s.t_us, end) or not s.status & _PEDAL
                    ),
                    len(batch),
                )
                self._add(p, batch[:j])
                if j == len(batch):
                    return
                self._close(p.outcome)
                self._baseline = batch[j - 1] if j else self._baseline
                batch = batch[j:]
                continue
            if all(st & _PEDAL for st in set(map(_STATUS, batch))):
                self._add(p, batch)
                return
            # the pedal is up in telemetry but no PEDAL_UP event came: close there
            j = next(j for j, s in enumerate(batch) if not s.status & _PEDAL)
            self._add(p, batch[:j])
            p.ending_t = batch[j - 1].t_us if j else batch[j].t_us
            self._last_pedal_t = batch[j].t_us
            self._close(p.outcome, "pedal seen up in telemetry (event lost)")
            self._outside(batch[j : j + 1])
            self._baseline = batch[j]
            batch = batch[j + 1 :]

    def _add(self, p: _OpenPass, samples: list[Telemetry]) -> None:
        if samples:
            detector = self.detector
            before = detector.in_skin_strokes
            detector.feed_all(samples)
            p.in_skin += detector.in_skin_strokes - before
            p.aggregates.add(samples)
            self.journal.stage_samples(p.uid, samples, self._wall())
            self._live = (p.uid, p.aggregates.strokes or 0, p.in_skin_strokes() or 0)

    def _outside(self, samples: list[Telemetry]) -> None:
        """Samples in no pass: the detector learns from them all the same (in the same
        order as the pass samples around them)."""
        if samples:
            self.detector.feed_all(samples)

    def _missed(self, count: int) -> None:
        self.missed_samples += count
        p = self._pass
        self._record(
            EventSource.HOST,
            "telemetry_missed",
            value=count,
            message=f"{count} telemetry samples were overwritten before the journal read them",
        )
        if p is not None:
            p.events.append("telemetry_missed")

    def _keep_stopped(self, samples: list[Telemetry]) -> None:
        """While the journal cannot write the needle must not run."""
        if self.error is None or not samples or not samples[-1].status & _MOTOR:
            return
        now = self._mono()
        if now >= self._next_stop:
            self._next_stop = now + 0.2
            with contextlib.suppress(errors.SmpctlError):
                self.pen.stop()

    # ------------------------------------------------------------------ notices

    def _item(self, item: _Item) -> None:
        if isinstance(item, _ZoneChange):
            self._split(item)
        elif isinstance(item, Event):
            self._pen_event(item)
        elif isinstance(item, LinkEvent):
            self._link_event(item)
        elif isinstance(item, HostEvent):
            self._host_event(item)

    def _pen_event(self, e: Event) -> None:
        kind = e.event_kind
        name = kind.name if isinstance(kind, EventKind) else f"event_{kind}"
        p = self._pass
        if kind is EventKind.PEDAL_DOWN:
            if p is not None:
                if p.ending_t is None:
                    p.ending_t = p.aggregates.last.t_us if p.aggregates.last else p.start_t
                self._close(p.outcome)
            self._last_pedal_t = e.t_us
            self._open(e.t_us)
        elif kind is EventKind.PEDAL_UP:
            self._last_pedal_t = e.t_us
            if p is not None and p.ending_t is None:
                p.ending_t = e.t_us
                p.ending_at = self._mono()
        elif kind is EventKind.BOOT:
            if p is not None:
                self._end_here(p, Outcome.INTERRUPTED_FAULT, "the pen rebooted during the pass")
            self._baseline = None
            self._last_pedal_t = None
        elif p is not None and p.holds(e.t_us):
            if kind is EventKind.MOTOR_STOPPED:
                with contextlib.suppress(ValueError):
                    outcome = _STOP_OUTCOME.get(StopReason(e.code))
                    if outcome is not None:
                        p.mark(outcome)
            elif kind is EventKind.ESTOP:
                p.mark(Outcome.STOPPED)
            elif kind is EventKind.WATCHDOG_STOP or (
                kind is EventKind.FAULT_RAISED and e.code & STOP_FAULTS
            ):
                p.mark(Outcome.INTERRUPTED_FAULT)
        p = self._pass
        in_pass = p if p is not None and p.holds(e.t_us) else None
        if in_pass is not None:
            in_pass.events.append(name)
        self._record(
            EventSource.PEN,
            name,
            code=e.code,
            value=e.value,
            t_us=e.t_us,
            pass_uid=in_pass.uid if in_pass else None,
        )

    def _link_event(self, e: LinkEvent) -> None:
        p = self._pass
        uid = p.uid if p is not None else None
        if e.kind is LinkEventKind.LOST:
            if p is not None:
                p.events.append("link_lost")
                if p.ending_t is not None:
                    self._close(p.outcome)
                else:
                    self._end_here(p, Outcome.INTERRUPTED_LINK, "the link to the pen was lost")
                    self._continue_after_link = uid
            self._baseline = None
            self._last_pedal_t = None
        elif e.kind is LinkEventKind.RECONNECTED:
            self._baseline = None
            self._last_pedal_t = None
            uid = None
            if e.serial is not None and e.serial != self._detector_serial:
                # another pen's motor: what was learnt of this one's does not hold
                self.detector = ContactDetector(self.contact)
                self._detector_serial = e.serial
        self._record(
            EventSource.LINK,
            f"link_{e.kind.value}",
            message=e.message,
            pass_uid=uid,
            data={"serial": e.serial} if e.serial else None,
        )

    def _host_event(self, e: HostEvent) -> None:
        profile = e.data.get("profile_hash")
        if isinstance(profile, str):
            setpoints = e.data.get("setpoints")
            self.journal.set_profile(profile, setpoints if isinstance(setpoints, dict) else {})
        p = self._pass
        if p is not None:
            p.events.append(e.kind)
        self._record(
            EventSource.HOST,
            e.kind,
            message=e.message,
            data=e.data,
            pass_uid=p.uid if p is not None else None,
        )

    # ------------------------------------------------------------------ passes

    def _open(self, start_t: int | None, detail: str | None = None) -> None:
        continues = self._continue_after_link
        self._continue_after_link = None
        self._start_pass(start_t, continues)
        if detail is not None and self._pass is not None:
            self._pass.events.append("pedal_down_from_telemetry")

    def _start_pass(self, start_t: int | None, continues: str | None) -> None:
        uid = self.journal.store.new_uid()
        self._pass = _OpenPass(uid, start_t, self._baseline)
        self._live = (uid, 0, 0)
        self._write(
            self.journal.begin_pass,
            started_t_us=start_t,
            wall=self._wall(),
            pen_uid=self.pen_uid,
            continues_uid=continues,
            uid=uid,
            report=Recorded("pass_opened", uid, self.journal.zone or "-"),
        )

    def _end_here(self, p: _OpenPass, outcome: Outcome, detail: str) -> None:
        """End ``p`` at its last sample with ``outcome`` (unless a stop already decided)."""
        last = p.aggregates.last
        p.ending_t = last.t_us if last is not None else p.start_t
        p.mark(outcome)
        self._close(p.outcome, detail)

    def _close(self, outcome: Outcome, detail: str | None = None) -> None:
        p = self._pass
        if p is None:
            return
        self._pass = None
        if p.aggregates.last is not None:
            self._baseline = p.aggregates.last
        self._write(
            self.journal.end_pass,
            p.uid,
            outcome=outcome,
            detail=detail,
            ended_t_us=p.ending_t,
            wall=self._wall(),
            aggregates=p.aggregates.columns(),
            events=p.events,
            trace=p.aggregates.trace_points(),
            in_skin_strokes=p.in_skin_strokes(),
            report=Recorded("pass_closed", p.uid, outcome.value),
        )
        if self._live[0] == p.uid and self.error is None:
            self._live = NO_PASS

    def _split(self, change: _ZoneChange) -> None:
        try:
            p = self._pass
            if p is None or p.ending_t is not None:
                return
            last = p.aggregates.last
            at = last.t_us if last is not None else p.start_t
            p.ending_t = at
            self._close(Outcome.ZONE_CHANGED, f"zone changed to {self.journal.zone}")
            self._start_pass(change.t_us if change.t_us is not None else at, p.uid)
            if self._pass is not None and change.t_us is not None:
                # samples up to the split belong to the pass before it
                self._pass.start_t = (change.t_us + 1) % _MOD
        finally:
            change.done.set()

    def _finish(self) -> None:
        p = self._pass
        if p is not None:
            if p.ending_t is None:
                self._end_here(p, Outcome.STOPPED, "recording stopped during the pass")
            else:
                self._close(p.outcome)
        self._write(self.journal.commit)

    # ------------------------------------------------------------------ writing

    def _record(
        self,
        source: EventSource,
        kind: str,
        *,
        pass_uid: str | None = None,
        code: int | None = None,
        value: int | None = None,
        t_us: int | None = None,
        message: str | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        uid = self.journal.store.new_uid()
        self._write(
            self.journal.record_event,
            source=source,
            kind=kind,
            wall=self._wall(),
            pass_uid=pass_uid,
            code=code,
            value=value,
            t_us=t_us,
            message=message,
            data=data,
            uid=uid,
            report=Recorded("event", uid, kind),
        )

    def _write(
        self,
        fn: Callable[..., object],
        *args: object,
        report: Recorded | None = None,
        **kwargs: object,
    ) -> None:
        if report is not None:
            self._unreported.append(report)
        try:
            fn(*args, **kwargs)
        except errors.JournalWriteError as exc:
            self._unwritable(exc)
            return
        if self.error is not None:
            self._writable_again()
        self._report()

    def _report(self) -> None:
        if self.journal.store.pending:
            return
        done, self._unreported = self._unreported, []
        for item in done:
            for callback in list(self._callbacks):
                try:
                    callback(item)
                except Exception:  # a subscriber's bug must not stop the recording
                    log.exception("a journal subscriber failed")

    def _unwritable(self, exc: errors.JournalWriteError) -> None:
        first = self.error is None
        self.error = exc
        self._next_retry = self._mono() + self.retry_s
        if not first:
            return
        with contextlib.suppress(errors.SmpctlError):
            self.pen.stop()
        self._next_stop = self._mono() + 0.2
        log.error("journal cannot write: %s", exc)
        self.pen.post(
            "journal_unwritable",
            f"{exc} The pen has been stopped: the needle must not run while the session "
            "cannot be recorded.",
            reason=type(exc).__name__,
        )

    def _writable_again(self) -> None:
        self.error = None
        if self._pass is None:
            self._live = NO_PASS  # the pass kept in memory is on disk now
        log.warning("journal writes again; everything kept in memory has been written")
        self.pen.post(
            "journal_writable",
            "The journal can write again: everything kept meanwhile has been written. "
            "Re-arm the pen to continue.",
        )


def _time_of(item: _Item) -> int | None:
    if isinstance(item, Event):
        return item.t_us
    if isinstance(item, _ZoneChange):
        return item.t_us
    return None
