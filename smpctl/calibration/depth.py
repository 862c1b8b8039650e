"""Depth calibration: the adjuster goes to marked positions, the technician reads the
needle's protrusion on a gauge at each, and a straight line maps the pen's depth sensor to
what the gauge saw.

Why a line: the depth sensor reads the adjuster's travel, so its error is a scale (the
sensor's span, the thread's pitch) and a zero offset (where the cartridge mouth really is);
a gauge reading off that line by more than the tolerance is a misread gauge or a worn,
backlashing adjuster, never something to fit away. The pen moves its adjuster on its own
sensor through the calibration, so after writing, a depth setpoint is the protrusion a gauge
would read.

Readings come from a prompt (``GaugeReader``) or a file (CSV or JSON, position -> reading,
both in millimetres).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smpctl.client import Pen
from smpctl.errors import CalibrationError, ReadingsFileError
from smpctl.protocol import Telemetry

from . import pen_table
from .fit import LinearFit, fit_line, mean
from .measure import TelemetryReader
from .outcome import Cause, Diagnosis, Outcome, RunKind
from .pen_table import Correction

DEPTH_UNIT = 0.001
"""The depth offset is stored in µm; depths here are in mm."""
DEFAULT_POSITIONS_MM: tuple[float, ...] = (0.6, 0.8, 1.0, 1.2, 1.4)
"""Marks across the SMP working range (0.8–1.2 mm, domain.md) and a little beyond."""
SETTLED_UM = 3.0

GaugeReader = Callable[[float, float], float]
"""(marked position mm, depth the pen reports mm) -> protrusion read on the gauge, mm."""
Say = Callable[[str], None]


# ------------------------------------------------------------------ readings files


def _number(text: str, path: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ReadingsFileError(path, f"{what} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ReadingsFileError(path, f"{what} {text!r} is not a depth in mm")
    return value


def parse_readings(text: str, path: str = "<readings>") -> dict[float, float]:
    """Position (mm) -> gauge reading (mm) from CSV or JSON text."""
    stripped = text.lstrip()
    pairs: list[tuple[Any, Any]] = []
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            why = f"not valid JSON ({exc.msg}, line {exc.lineno})"
            raise ReadingsFileError(path, why) from None
        if isinstance(data, dict):
            pairs = list(data.items())
        else:
            for item in data:
                if not isinstance(item, dict) or not {"position_mm", "reading_mm"} <= set(item):
                    raise ReadingsFileError(
                        path, 'each list item needs "position_mm" and "reading_mm"'
                    )
                pairs.append((item["position_mm"], item["reading_mm"]))
    else:
        for row in csv.reader(io.StringIO(text)):
            cells = [c.strip() for c in row]
            if not cells or not cells[0] or cells[0].startswith("#"):
                continue
            if len(cells) < 2:
                raise ReadingsFileError(path, f"the line {','.join(row)!r} has no reading")
            try:
                float(cells[0])
            except ValueError:
                if not pairs:  # a header line
                    continue
            pairs.append((cells[0], cells[1]))
    readings: dict[float, float] = {}
    for position, reading in pairs:
        pos = round(_number(str(position), path, "position"), 3)
        if pos in readings:
            raise ReadingsFileError(path, f"the position {pos:g} mm appears twice")
        readings[pos] = _number(str(reading), path, "reading")
    if len(readings) < 2:
        raise ReadingsFileError(path, "it needs readings at two positions or more")
    return readings


def read_readings(path: Path) -> dict[float, float]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReadingsFileError(str(path), f"cannot be read ({exc.strerror})") from None
    return parse_readings(text, str(path))


def file_gauge(readings: Mapping[float, float]) -> GaugeReader:
    def read(position_mm: float, _reported_mm: float) -> float:
        return readings[round(position_mm, 3)]

    return read


# ------------------------------------------------------------------ analysis


@dataclass(frozen=True)
class DepthPoint:
    position_mm: float
    reported_mm: float
    raw_mm: float
    reading_mm: float


@dataclass(frozen=True)
class DepthResult:
    point: DepthPoint
    corrected_mm: float
    residual_mm: float
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "position_mm": self.point.position_mm,
            "reported_mm": round(self.point.reported_mm, 4),
            "raw_mm": round(self.point.raw_mm, 4),
            "reading_mm": self.point.reading_mm,
            "corrected_mm": round(self.corrected_mm, 4),
            "residual_mm": round(self.residual_mm, 4),
            "passed": self.passed,
        }


@dataclass(frozen=True)
class DepthAnalysis:
    results: tuple[DepthResult, ...]
    fit: LinearFit
    correction: Correction
    in_force: Correction
    tolerance_mm: float
    diagnoses: tuple[Diagnosis, ...]

    @property
    def passed(self) -> bool:
        return not self.diagnoses and all(r.passed for r in self.results)


def analyse_depth(
    points: Sequence[DepthPoint], in_force: Correction, tolerance_mm: float
) -> DepthAnalysis:
    """Fit, residuals, pass/fail and diagnosis (pure: no pen)."""
    if len({p.position_mm for p in points}) < 2:
        raise CalibrationError("a depth calibration needs readings at two positions or more")
    fit = fit_line([p.raw_mm for p in points], [p.reading_mm for p in points])
    correction = Correction(round(fit.gain * pen_table.PPM), round(fit.offset / DEPTH_UNIT))
    results = []
    for p in points:
        corrected = correction.apply(p.raw_mm, DEPTH_UNIT)
        residual = corrected - p.reading_mm
        results.append(DepthResult(p, corrected, residual, abs(residual) <= tolerance_mm + 1e-9))
    diagnoses: list[Diagnosis] = []
    off = [r for r in results if not r.passed]
    if off:
        names = ", ".join(f"{r.point.position_mm:g} mm {r.residual_mm:+.3f} mm" for r in off)
        if len(off) == 1 and len(results) >= 4:
            diagnoses.append(
                Diagnosis(
                    Cause.READINGS,
                    f"one reading is off the line the others follow ({names}; tolerance "
                    f"±{tolerance_mm:g} mm): re-read the gauge at that mark and calibrate again.",
                )
            )
        else:
            diagnoses.append(
                Diagnosis(
                    Cause.ADJUSTER,
                    f"the readings do not follow a straight line ({names}; tolerance "
                    f"±{tolerance_mm:g} mm): the adjuster backlashes or its thread is worn. "
                    "Have the pen serviced, or re-read the gauge if a reading was misread.",
                )
            )
    problem = correction.problem(pen_table.DEPTH_OFFSET_UM_RANGE, "µm")
    if problem is not None:
        diagnoses.append(
            Diagnosis(
                Cause.OUT_OF_RANGE,
                f"{problem}: check the cartridge is seated and the gauge zeroed; otherwise the "
                "depth sensor is too far off to correct. Have the pen serviced.",
            )
        )
    return DepthAnalysis(
        results=tuple(results),
        fit=fit,
        correction=correction,
        in_force=in_force,
        tolerance_mm=tolerance_mm,
        diagnoses=tuple(diagnoses),
    )


# ------------------------------------------------------------------ the run


@dataclass(frozen=True)
class DepthPlan:
    positions_mm: tuple[float, ...] = DEFAULT_POSITIONS_MM
    tolerance_mm: float = 0.02
    """A dial gauge reads to 0.01 mm; twice that is the tolerance."""
    settle_window_s: float = 0.2
    settle_timeout_s: float = 5.0
    telemetry_hz: int = 200


@dataclass(frozen=True)
class DepthCalibrationResult:
    outcome: Outcome
    plan: DepthPlan
    analysis: DepthAnalysis
    previous: dict[str, int]

    @property
    def passed(self) -> bool:
        return self.outcome.passed

    def as_dict(self) -> dict[str, Any]:
        a = self.analysis
        return {
            **self.outcome.report_head(),
            "tolerance_mm": a.tolerance_mm,
            "model": "gauge = gain * raw + offset (raw: the depth sensor before calibration)",
            "fit": {
                "gain": a.fit.gain,
                "offset_mm": a.fit.offset,
                "rms_mm": a.fit.rms,
                "points": a.fit.points,
            },
            "correction": {"gain_ppm": a.correction.gain_ppm, "offset_um": a.correction.offset},
            "in_force_before": {"gain_ppm": a.in_force.gain_ppm, "offset_um": a.in_force.offset},
            "previous": self.previous,
            "written": self.outcome.written,
            "points": [r.as_dict() for r in a.results],
            "diagnoses": [d.as_dict() for d in self.outcome.diagnoses],
            "notes": list(self.outcome.notes),
        }


class DepthCalibrator:
    """Guides a depth calibration on a connected pen (motor stopped). Writes to the pen only
    on a pass."""

    def __init__(
        self,
        pen: Pen,
        plan: DepthPlan,
        gauge: GaugeReader,
        *,
        today: dt.date,
        valid_days: int = 90,
        reader: TelemetryReader | None = None,
        say: Say = lambda _text: None,
    ) -> None:
        if valid_days < 1:
            raise CalibrationError("a calibration must be valid for at least one day")
        limits = pen.identity.limits
        for pos in plan.positions_mm:
            if not limits.min_depth_mm <= pos <= limits.max_depth_mm:
                raise CalibrationError(
                    f"the mark {pos:g} mm is outside this pen's depth range "
                    f"{limits.min_depth_mm:g}–{limits.max_depth_mm:g} mm"
                )
        if len(set(plan.positions_mm)) < 2:
            raise CalibrationError("a depth calibration needs two marked positions or more")
        self.pen = pen
        self.plan = plan
        self.gauge = gauge
        self.today = today
        self.valid_days = valid_days
        self.reader = reader or TelemetryReader(pen)
        self.say = say

    def _settled_depth(self) -> float:
        reader, plan = self.reader, self.plan
        end = reader.clock() + plan.settle_timeout_s
        previous: float | None = None
        while True:
            samples: list[Telemetry] = reader.collect(plan.settle_window_s, motor=False)
            depths = [s.depth_mm for s in samples]
            now = mean(depths)
            still = max(depths) - min(depths) <= SETTLED_UM / 1000
            if still and previous is not None and abs(now - previous) <= SETTLED_UM / 1000:
                return now
            if reader.clock() > end:
                raise CalibrationError(
                    "the depth adjuster did not come to rest: check it moves freely"
                )
            previous = now

    def run(self) -> DepthCalibrationResult:
        pen, plan = self.pen, self.plan
        in_force = pen_table.depth_in_force(pen)
        previous = {k.name: v for k, v in pen_table.read_values(pen, pen_table.DEPTH_KEYS).items()}
        pen.set_telemetry_rate(min(plan.telemetry_hz, pen.identity.limits.max_telemetry_hz))
        start = self.reader.collect(plan.settle_window_s, motor=False)[-1].depth_mm
        points: list[DepthPoint] = []
        try:
            for pos in plan.positions_mm:
                pen.set_depth(pos)
                reported = self._settled_depth()
                reading = self.gauge(pos, reported)
                points.append(
                    DepthPoint(pos, reported, in_force.raw(reported, DEPTH_UNIT), reading)
                )
                self.say(
                    f"  mark {pos:4.2f} mm  pen reports {reported:6.3f} mm  gauge {reading:6.3f} mm"
                )
        finally:
            pen.set_depth(round(start, 3))
        analysis = analyse_depth(points, in_force, plan.tolerance_mm)
        expires = self.today + dt.timedelta(days=self.valid_days)
        written: dict[str, int] | None = None
        if analysis.passed:
            values = pen_table.calibration_values(
                pen_table.DEPTH_KEYS, analysis.correction, self.today, expires
            )
            pen_table.write_values(pen, values)
            written = {k.name: v for k, v in values.items()}
            self.say(
                f"Wrote gain {analysis.correction.gain_ppm} ppm, offset "
                f"{analysis.correction.offset} µm, valid until {expires.isoformat()}."
            )
        outcome = Outcome(
            kind=RunKind.DEPTH,
            identity=pen.identity,
            day=self.today,
            passed=analysis.passed,
            written=written,
            expires=expires if analysis.passed else None,
            tolerance=f"±{plan.tolerance_mm:g} mm",
            residuals=[r.as_dict() for r in analysis.results],
            diagnoses=analysis.diagnoses,
            notes=() if analysis.passed else ("nothing was written to the pen",),
        )
        return DepthCalibrationResult(outcome, plan, analysis, previous)
