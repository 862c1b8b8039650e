"""Straight-line least squares: the correction both calibrations fit.

Kept free of any pen or I/O so the math is tested on recorded and synthetic data alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LinearFit:
    """``true = gain * raw + offset`` and how well it fits."""

    gain: float
    offset: float
    points: int
    rms: float
    """Root mean square of the fit residuals, in the unit of ``true``."""

    def __call__(self, raw: float) -> float:
        return self.gain * raw + self.offset

    def residuals(self, raw: Sequence[float], true: Sequence[float]) -> list[float]:
        """Corrected minus true, per point (the sign says which way the pen would err)."""
        return [self(r) - t for r, t in zip(raw, true, strict=True)]


def fit_line(raw: Sequence[float], true: Sequence[float]) -> LinearFit:
    """Least-squares line through ``(raw, true)``; at least two distinct ``raw`` values."""
    n = len(raw)
    if n != len(true):
        raise ValueError("raw and true differ in length")
    if n < 2:
        raise ValueError("a line needs at least two points")
    mean_x = math.fsum(raw) / n
    mean_y = math.fsum(true) / n
    sxx = math.fsum((x - mean_x) ** 2 for x in raw)
    if sxx == 0.0:
        raise ValueError("a line needs at least two distinct points")
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(raw, true, strict=True))
    gain = sxy / sxx
    offset = mean_y - gain * mean_x
    rms = math.sqrt(
        math.fsum((gain * x + offset - y) ** 2 for x, y in zip(raw, true, strict=True)) / n
    )
    return LinearFit(gain=gain, offset=offset, points=n, rms=rms)


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ``ys`` over ``xs`` (a rate from a counter over time)."""
    return fit_line(xs, ys).gain


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


def sample_sd(values: Sequence[float]) -> float:
    """Sample standard deviation; 0 for fewer than two values."""
    n = len(values)
    if n < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / (n - 1))


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Pearson correlation; 0 when either side does not vary."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = mean(xs), mean(ys)
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx == 0.0 or syy == 0.0:
        return 0.0
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sxx * syy)
