"""Needle in skin or in air, told from the telemetry the pen already sends.

A stroke into air is no injury, so a dose must count only strokes made while the needle is
in skin. The pen does not know; its motor does: load torque in skin shows as current. But
current also rises whenever the rotor accelerates (the soft start of each pass, and the
speed loop catching up after the needle leaves the skin), and the free-running current
depends on speed. A load observer removes both:

    i_load = i - i0(speed) - c * dw/dt

``i0`` is the free-running current at that speed (a per-pen table from the calibration, or
tracked online as a low percentile over recent air intervals), ``c`` is the rotor's inertia
over its torque constant in mA per Hz/s (a parameter, or fitted on air intervals that
include the soft-start ramp of each pass). An interval whose load current is above the
threshold is in skin, and its strokes (the telemetry ``strokes`` counter delta) are counted
as in-skin strokes. Design notes: docs/design/skin-contact-detection.md.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from smpctl.protocol import Status, Telemetry

U32 = 1 << 32
_MOTOR_ON = int(Status.MOTOR_ON)

DEFAULT_ACCEL_GAIN_MA_PER_HZ_S = 1.0
"""Prior for ``c`` until enough air acceleration has been seen to fit it: a pen motor's
J/kt is about 1 mA per Hz/s (2e-6 kg m² over 0.011 N m/A, times 2π)."""
DEFAULT_THRESHOLD_MA = 150.0
"""Load current above which the needle is in skin. Light touches at 0.5 mm depth load the
motor by ~200 mA; noise and model error after the observer stay under ~60 mA."""
SPEED_BIN_HZ = 2.0
"""Width of the speed bins the online baseline keeps (i0 changes ~1 mA per Hz)."""
BIN_HISTORY = 48
"""Air intervals a speed bin remembers: recent enough to follow a sagging supply."""
MIN_BIN_SAMPLES = 4
"""A bin with fewer air intervals borrows from its neighbours."""
BASELINE_PERCENTILE = 0.25
"""Low percentile of air current taken as i0: robust to skin intervals misfiled as air."""
SMOOTHING_S = 0.0025
"""dω/dt spans at least this long (2–3 samples at 1 kHz; one interval at 200 Hz)."""
MAX_SMOOTHING_SAMPLES = 3
MIN_SPEED_HZ = 10.0
"""Below this the motor is starting or stopping: intervals count as air (no dot is made
with a needle that barely turns) and teach nothing."""
FIT_EVERY = 64
"""Refit ``c`` after this many new air intervals with acceleration in them."""
FIT_MIN_ACCEL_HZ_S = 150.0
"""Air intervals accelerating at least this much identify ``c`` (the soft start runs at the
pen's slew rate, hundreds of Hz/s)."""
FIT_MIN_SAMPLES = 24
ACCEL_GAIN_RANGE = (0.2, 5.0)
"""Fitted values of ``c`` outside this range are a fit gone wrong: keep the last good one."""


@dataclass(frozen=True, slots=True)
class ContactSettings:
    """How a detector decides; the defaults suit any pen at 100–2000 Hz telemetry."""

    threshold_ma: float = DEFAULT_THRESHOLD_MA
    accel_gain_ma_per_hz_s: float | None = None
    """``c``; None: start from the prior and fit it on air acceleration."""
    baseline_ma: Mapping[float, float] | None = None
    """Per-pen free-running current by speed (Hz -> mA) as the calibration records it;
    None: track it online."""


@dataclass(frozen=True, slots=True)
class ContactCounts:
    """Strokes counted so far (or over a pass: the difference of two snapshots)."""

    strokes: int = 0
    in_skin_strokes: int = 0
    in_skin_s: float = 0.0

    @property
    def air_strokes(self) -> int:
        return self.strokes - self.in_skin_strokes

    def __sub__(self, other: ContactCounts) -> ContactCounts:
        return ContactCounts(
            self.strokes - other.strokes,
            self.in_skin_strokes - other.in_skin_strokes,
            self.in_skin_s - other.in_skin_s,
        )


class _BaselineTable:
    """A calibration's free-running current, linearly interpolated (held at the ends)."""

    __slots__ = ("_currents", "_speeds")

    def __init__(self, table: Mapping[float, float]) -> None:
        if not table:
            raise ValueError("a baseline table needs at least one speed")
        points = sorted((float(k), float(v)) for k, v in table.items())
        self._speeds = [p[0] for p in points]
        self._currents = [p[1] for p in points]

    def at(self, speed_hz: float) -> float:
        speeds, currents = self._speeds, self._currents
        i = bisect.bisect_left(speeds, speed_hz)
        if i <= 0:
            return currents[0]
        if i >= len(speeds):
            return currents[-1]
        s0, s1 = speeds[i - 1], speeds[i]
        f = (speed_hz - s0) / (s1 - s0)
        return currents[i - 1] + f * (currents[i] - currents[i - 1])


class _OnlineBaseline:
    """Free-running current by speed bin: a low percentile of recent air intervals, with
    the acceleration current already taken out. Empty bins borrow from the nearest ones.

    Each bin keeps its history in arrival order and the same values sorted, updated by
    bisection as values come and go, and its percentile is refreshed on every addition:
    reading a bin (every telemetry sample) is then one dictionary look-up."""

    __slots__ = ("_bins", "_sorted", "values")

    def __init__(self) -> None:
        self._bins: dict[int, deque[float]] = {}
        self._sorted: dict[int, list[float]] = {}
        self.values: dict[int, float] = {}
        """The baseline of each bin that has enough history (MIN_BIN_SAMPLES) to stand
        alone."""

    @staticmethod
    def key(speed_hz: float) -> int:
        return round(speed_hz / SPEED_BIN_HZ)

    def add(self, key: int, current_ma: float) -> None:
        """Add an air interval to bin ``key`` (``key(speed_hz)``): the detector's loop has
        the bin already, and this runs for most air samples, so nothing is looked up twice.
        """
        history = self._bins.get(key)
        if history is None:
            history = self._bins[key] = deque(maxlen=BIN_HISTORY)
            self._sorted[key] = []
        ordered = self._sorted[key]
        if len(history) == BIN_HISTORY:
            del ordered[bisect.bisect_left(ordered, history[0])]
        history.append(current_ma)
        bisect.insort(ordered, current_ma)
        n = len(ordered)
        if n >= MIN_BIN_SAMPLES:
            self.values[key] = ordered[int(BASELINE_PERCENTILE * (n - 1))]

    def _bin_value(self, key: int) -> float:
        ordered = self._sorted[key]
        return ordered[int(BASELINE_PERCENTILE * (len(ordered) - 1))]

    def at(self, speed_hz: float) -> float | None:
        if not self._bins:
            return None
        key = round(speed_hz / SPEED_BIN_HZ)
        value = self.values.get(key)
        if value is not None:
            return value
        below = [k for k in self.values if k < key]
        above = [k for k in self.values if k > key]
        if below and above:
            lo, hi = max(below), min(above)
            f = (key - lo) / (hi - lo)
            return self.values[lo] + f * (self.values[hi] - self.values[lo])
        if below:
            return self.values[max(below)]
        if above:
            return self.values[min(above)]
        nearest = min(self._bins, key=lambda k: abs(k - key))
        return self._bin_value(nearest)


class _AccelGainFit:
    """Least squares of air current on speed and acceleration, i = b0 + b1·f + c·a, over
    recent accelerating and steady air intervals; ``c`` is what the detector needs.

    Ramp rows alone cannot separate ``c`` from the intercept (the soft start accelerates at
    one rate), so no fit is made before steady air rows are there too; until then the
    prior holds."""

    __slots__ = ("_accelerating", "_new", "_steady", "gain")

    def __init__(self, prior: float) -> None:
        self.gain = prior
        self._accelerating: deque[tuple[float, float, float]] = deque(maxlen=512)
        self._steady: deque[tuple[float, float, float]] = deque(maxlen=512)
        self._new = 0

    def add(self, speed_hz: float, accel_hz_s: float, current_ma: float) -> None:
        if abs(accel_hz_s) >= FIT_MIN_ACCEL_HZ_S:
            self._accelerating.append((speed_hz, accel_hz_s, current_ma))
            self._new += 1
            if (
                self._new >= FIT_EVERY
                and len(self._accelerating) >= FIT_MIN_SAMPLES
                and len(self._steady) >= FIT_MIN_SAMPLES
            ):
                self._new = 0
                self._refit()
        else:
            self._steady.append((speed_hz, accel_hz_s, current_ma))

    def _refit(self) -> None:
        rows = list(self._accelerating) + list(self._steady)
        gain = _robust_gain(rows)
        if gain is not None and ACCEL_GAIN_RANGE[0] <= gain <= ACCEL_GAIN_RANGE[1]:
            self.gain = gain


def _solve3(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting for the 3×3 normal equations."""
    m = [[*row, v] for row, v in zip(a, b, strict=True)]
    for col in range(3):
        pivot = max(range(col, 3), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, 3):
            f = m[r][col] / m[col][col]
            for k in range(col, 4):
                m[r][k] -= f * m[col][k]
    x = [0.0, 0.0, 0.0]
    for r in (2, 1, 0):
        x[r] = (m[r][3] - sum(m[r][k] * x[k] for k in range(r + 1, 3))) / m[r][r]
    return x


def _least_squares(rows: list[tuple[float, float, float]]) -> list[float] | None:
    """Normal equations of current on (1, speed, acceleration), the sums written out: a
    refit runs over up to a thousand rows on the recorder's thread."""
    n = sf = sa = sff = sfa = saa = sc = sfc = sac = 0.0
    for speed, accel, current in rows:
        n += 1.0
        sf += speed
        sa += accel
        sff += speed * speed
        sfa += speed * accel
        saa += accel * accel
        sc += current
        sfc += speed * current
        sac += accel * current
    return _solve3([[n, sf, sa], [sf, sff, sfa], [sa, sfa, saa]], [sc, sfc, sac])


def _robust_gain(rows: list[tuple[float, float, float]]) -> float | None:
    """Fit, drop the rows far above the fit (a touch during the ramp), fit again."""
    coef = _least_squares(rows)
    if coef is None:
        return None
    for _ in range(2):
        residuals = [c - (coef[0] + coef[1] * s + coef[2] * a) for s, a, c in rows]
        spread = sorted(abs(r) for r in residuals)[len(residuals) // 2] * 3.0 + 5.0
        kept = [row for row, r in zip(rows, residuals, strict=True) if abs(r) <= spread]
        if len(kept) < FIT_MIN_SAMPLES:
            break
        refit = _least_squares(kept)
        if refit is None:
            break
        coef = refit
    return coef[2]


class ContactDetector:
    """Feed every telemetry sample in order; each interval between two samples is filed as
    in skin or in air, and the strokes made in it are counted accordingly.

    Samples lost on the way (a gap in ``sample_seq``) make a longer interval, filed by the
    sample that ends it. One detector follows one pen across passes; take ``counts`` at a
    pass's start and end and subtract for the pass.
    """

    def __init__(self, settings: ContactSettings | None = None) -> None:
        self.settings = settings = settings or ContactSettings()
        self._table = (
            _BaselineTable(settings.baseline_ma) if settings.baseline_ma is not None else None
        )
        self._online = _OnlineBaseline()
        self._bin_keys: dict[int, int] = {}
        """Speed bin by telemetry speed (cHz): the loop's division and rounding, once."""
        self._fit = _AccelGainFit(
            settings.accel_gain_ma_per_hz_s
            if settings.accel_gain_ma_per_hz_s is not None
            else DEFAULT_ACCEL_GAIN_MA_PER_HZ_S
        )
        self._history: deque[tuple[float, float]] = deque(maxlen=MAX_SMOOTHING_SAMPLES + 1)
        self._last: Telemetry | None = None
        self._elapsed_s = 0.0
        self._strokes = 0
        self._in_skin_strokes = 0
        self._in_skin_s = 0.0
        self.in_skin = False
        """The filing of the last interval."""
        self.load_ma = 0.0
        """The observer's load current at the last sample (0 while it cannot tell)."""

    # ------------------------------------------------------------------ results

    @property
    def counts(self) -> ContactCounts:
        return ContactCounts(self._strokes, self._in_skin_strokes, self._in_skin_s)

    @property
    def strokes(self) -> int:
        return self._strokes

    @property
    def in_skin_strokes(self) -> int:
        return self._in_skin_strokes

    @property
    def accel_gain_ma_per_hz_s(self) -> float:
        """``c`` in use: the parameter, or the current fit."""
        if self.settings.accel_gain_ma_per_hz_s is not None:
            return self.settings.accel_gain_ma_per_hz_s
        return self._fit.gain

    def baseline_ma(self, speed_hz: float) -> float | None:
        """Free-running current at ``speed_hz`` as the detector knows it now."""
        if self._table is not None:
            return self._table.at(speed_hz)
        return self._online.at(speed_hz)

    # ------------------------------------------------------------------ feeding

    def feed(self, sample: Telemetry) -> bool:
        """File the interval that ``sample`` ends; returns True if it was in skin."""
        return self._feed((sample,))

    def feed_all(self, samples: Iterable[Telemetry]) -> ContactCounts:
        """``feed`` each sample in order (the same filing, in one loop: a recorder feeds
        every batch it reads at up to 2000 samples/s)."""
        self._feed(samples)
        return self.counts

    def _feed(self, samples: Iterable[Telemetry]) -> bool:
        """The one implementation of ``feed``; returns what ``feed`` of the last sample
        would. State lives in locals inside the loop and is stored back at the end. The
        learning steps are written out in the loop too: they run for most air intervals of
        real telemetry, and so save a call each and the speed bin is not worked out twice."""
        settings = self.settings
        threshold = settings.threshold_ma
        fixed_gain = settings.accel_gain_ma_per_hz_s
        fit = self._fit
        fit_add = fit.add if fixed_gain is None else None
        baseline_at = self._table.at if self._table is not None else self._online.at
        online_values = self._online.values if self._table is None else None
        online_key = self._online.key
        online_add = self._online.add
        bin_keys = self._bin_keys
        isfinite = math.isfinite
        history = self._history
        last = self._last
        elapsed = self._elapsed_s
        total = self._strokes
        in_skin_total = self._in_skin_strokes
        in_skin_s = self._in_skin_s
        in_skin = self.in_skin
        load_ma = self.load_ma
        result = in_skin
        half_threshold = threshold * 0.5
        gain = fixed_gain if fixed_gain is not None else fit.gain  # refreshed after a fit
        u32, motor_on, min_speed_hz = U32, _MOTOR_ON, MIN_SPEED_HZ
        smoothing_s = SMOOTHING_S
        last_t, last_strokes = (last[0], last[7]) if last is not None else (0, 0)
        try:
            for sample in samples:
                t_us, _, speed_chz, _, current_ma, _, _, strokes_now, _, _, status, _ = sample
                if last is None:
                    last, last_t, last_strokes = sample, t_us, strokes_now
                    history.append((0.0, speed_chz / 100.0))
                    result = False
                    continue
                dt_s = ((t_us - last_t) % u32) / 1e6
                strokes = (strokes_now - last_strokes) % u32
                last, last_t, last_strokes = sample, t_us, strokes_now
                if dt_s <= 0.0:
                    result = in_skin
                    continue
                elapsed += dt_s
                speed_hz = speed_chz / 100.0
                if not status & motor_on or speed_hz < min_speed_hz:
                    # starting or stopping: air, and the speed history starts again
                    load_ma = 0.0
                    history.clear()
                    history.append((elapsed, speed_hz))
                    in_skin = False
                else:
                    history.append((elapsed, speed_hz))
                    # dω/dt: a backward difference over at least SMOOTHING_S, else over
                    # the oldest point kept
                    accel_hz_s = 0.0
                    k = len(history) - 2
                    if k >= 0:
                        t_then, f_then = history[k]
                        while k and elapsed - t_then < smoothing_s:
                            k -= 1
                            t_then, f_then = history[k]
                        if elapsed > t_then:
                            accel_hz_s = (speed_hz - f_then) / (elapsed - t_then)
                    corrected = current_ma - gain * accel_hz_s
                    if online_values is not None:
                        # the online baseline's common case (a known speed bin), inlined
                        key = bin_keys.get(speed_chz)
                        if key is None:
                            key = bin_keys[speed_chz] = online_key(speed_hz)
                        baseline = online_values.get(key)
                        if baseline is None:
                            baseline = baseline_at(speed_hz)
                    else:
                        key = None  # a calibrated table: nothing to learn for it
                        baseline = baseline_at(speed_hz)
                    if baseline is None:
                        # nothing known yet: learn from this interval and call it air
                        load_ma = 0.0
                        in_skin = False
                        learn = True
                    else:
                        load_ma = corrected - baseline
                        in_skin = load_ma > threshold
                        learn = not in_skin and load_ma < half_threshold
                    if learn:
                        # air: it teaches c (unless given) and the online baseline
                        if fit_add is not None and isfinite(accel_hz_s):
                            fit_add(speed_hz, accel_hz_s, current_ma)
                            gain = fit.gain
                        if key is not None:
                            online_add(key, corrected)
                total += strokes
                if in_skin:
                    in_skin_total += strokes
                    in_skin_s += dt_s
                result = in_skin
        finally:
            self._last = last
            self._elapsed_s = elapsed
            self._strokes = total
            self._in_skin_strokes = in_skin_total
            self._in_skin_s = in_skin_s
            self.in_skin = in_skin
            self.load_ma = load_ma
        return result
