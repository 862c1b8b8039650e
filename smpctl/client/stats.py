"""Link health a user can see, from the pen's own timestamps and sequence numbers.

Lost samples are gaps in the pen's sample counter, jitter is the spread of the pen's sample
intervals, rates are counted over the last second: none of it is guessed from host timing,
except the command round-trip time, which is a host measurement by nature.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import asdict, dataclass

from smpctl.protocol import DecoderStats, Telemetry

_U32 = 1 << 32


@dataclass(frozen=True)
class LinkStats:
    frames_s: float
    bytes_s: float
    telemetry_hz: float
    samples: int
    seq_gaps: int
    """Samples the pen produced that never arrived."""
    crc_errors: int
    bytes_discarded: int
    unknown_frames: int
    jitter_us: float
    """Standard deviation of the pen's sample intervals over the last second."""
    rtt_ms_last: float
    rtt_ms_p99: float
    retries: int
    events_missed: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"{self.telemetry_hz:7.1f} samples/s {self.bytes_s / 1000:6.1f} kB/s "
            f"lost {self.seq_gaps} crc {self.crc_errors} discarded {self.bytes_discarded} B "
            f"jitter {self.jitter_us:5.1f} µs rtt {self.rtt_ms_last:5.2f} ms "
            f"(p99 {self.rtt_ms_p99:5.2f}) retries {self.retries}"
        )


class LinkStatsTracker:
    """Fed by the reader thread; ``snapshot`` may be called from any thread (it only reads
    ints and copies small deques, so a torn read costs at most one sample of accuracy)."""

    def __init__(self, window_s: float = 1.0) -> None:
        self._window = window_s
        self._arrivals: deque[tuple[float, int, int]] = deque()  # host t, frames, bytes
        self._samples: deque[tuple[int, int]] = deque()  # device t_us (unwrapped), seq
        self._last_seq: int | None = None
        self._t_offset = 0
        self._last_raw_t: int | None = None
        self._last_event_seq: int | None = None
        self._period_us: float | None = None
        self._samples_at: float | None = None
        self._rtts: deque[float] = deque(maxlen=256)
        self.samples = 0
        self.seq_gaps = 0
        self.retries = 0
        self.events_missed = 0

    def on_chunk(self, host_t: float, frames: int, nbytes: int) -> None:
        arrivals = self._arrivals
        arrivals.append((host_t, frames, nbytes))
        cutoff = host_t - self._window
        while arrivals and arrivals[0][0] < cutoff:
            arrivals.popleft()

    def on_telemetry(self, sample: Telemetry) -> None:
        raw = sample.t_us
        if self._last_raw_t is not None and raw < self._last_raw_t - (_U32 >> 1):
            self._t_offset += _U32
        self._last_raw_t = raw
        t = raw + self._t_offset
        seq = sample.sample_seq
        last = self._last_seq
        if last is not None:
            gap = (seq - last - 1) % _U32
            if 0 < gap < (_U32 >> 1):
                self.seq_gaps += gap
            if gap < (_U32 >> 1) and self._samples and t > self._samples[-1][0]:
                self._period_us = (t - self._samples[-1][0]) / (gap + 1)
        self._last_seq = seq
        self.samples += 1
        samples = self._samples
        samples.append((t, seq))
        cutoff = t - int(self._window * 1e6)
        while samples and samples[0][0] < cutoff:
            samples.popleft()

    def on_samples_arrived(self, host_t: float) -> None:
        self._samples_at = host_t

    def sample_period_s(self) -> float | None:
        """The pen's sample interval by its own clock, None before two samples."""
        period = self._period_us
        return None if period is None else period / 1e6

    def on_event_seq(self, event_seq: int) -> None:
        last = self._last_event_seq
        if last is not None:
            gap = (event_seq - last - 1) % 65536
            if 0 < gap < 32768:
                self.events_missed += gap
        self._last_event_seq = event_seq

    def on_rtt(self, seconds: float, retries: int) -> None:
        self._rtts.append(seconds)
        self.retries += retries

    def restart_sequence(self) -> None:
        """After a reconnect the pen's counters restart: that is not sample loss."""
        self._last_seq = None
        self._last_raw_t = None
        self._last_event_seq = None
        self._period_us = None
        self._samples.clear()

    def snapshot(self, decoder: DecoderStats, now: float | None = None) -> LinkStats:
        """``now`` (host clock) lets rates fall to zero when the pen goes quiet, instead of
        showing the last second it spoke forever."""
        arrivals = list(self._arrivals)
        if now is not None:
            arrivals = [a for a in arrivals if a[0] >= now - self._window]
        frames = sum(a[1] for a in arrivals)
        nbytes = sum(a[2] for a in arrivals)
        span = arrivals[-1][0] - arrivals[0][0] if len(arrivals) > 1 else 0.0
        window = max(span, self._window) if arrivals else self._window
        samples = list(self._samples)
        if now is not None and (self._samples_at is None or now - self._samples_at > self._window):
            samples = []
        hz = 0.0
        jitter = 0.0
        if len(samples) > 2:
            dt = samples[-1][0] - samples[0][0]
            if dt > 0:
                hz = (samples[-1][1] - samples[0][1]) % _U32 / (dt / 1e6)
            intervals = [
                (b[0] - a[0]) / max(1, (b[1] - a[1]) % _U32) for a, b in itertools.pairwise(samples)
            ]
            mean = sum(intervals) / len(intervals)
            jitter = math.sqrt(sum((x - mean) ** 2 for x in intervals) / len(intervals))
        rtts = sorted(self._rtts)
        last_rtt = self._rtts[-1] * 1000 if self._rtts else 0.0
        p99 = rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))] * 1000 if rtts else 0.0
        return LinkStats(
            frames_s=frames / window,
            bytes_s=nbytes / window,
            telemetry_hz=hz,
            samples=self.samples,
            seq_gaps=self.seq_gaps,
            crc_errors=decoder.crc_errors,
            bytes_discarded=decoder.bytes_skipped,
            unknown_frames=decoder.unknown_types + decoder.malformed,
            jitter_us=jitter,
            rtt_ms_last=last_rtt,
            rtt_ms_p99=p99,
            retries=self.retries,
            events_missed=self.events_missed,
        )
