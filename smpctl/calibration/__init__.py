"""Technician runs on a pen: speed and depth calibration, and burn-in.

Each run measures on a connected pen (``smpctl.client.Pen``), decides pass or fail from its
data and explains a failure; only a pass writes a calibration to the pen. ``record_run``
then leaves a JSON report and an entry in the pen's calibration history in the journal.
The math (``fit_line``, ``analyse_speed``, ``analyse_depth``, ``assess``) takes plain data,
so it is tested on recorded and synthetic measurements without a pen.
"""

from __future__ import annotations

from .burn_in import BurnIn, BurnInPlan, BurnInResult, Segment, assess, profile_speeds
from .depth import (
    DEFAULT_POSITIONS_MM,
    DepthAnalysis,
    DepthCalibrationResult,
    DepthCalibrator,
    DepthPlan,
    DepthPoint,
    GaugeReader,
    analyse_depth,
    file_gauge,
    parse_readings,
    read_readings,
)
from .fit import LinearFit, fit_line
from .measure import TelemetryReader, Window, summarize
from .outcome import Cause, Diagnosis, Outcome, RunKind
from .pen_table import Correction
from .record import Recorded, record_run
from .report import REPORT_DIR_ENV, default_report_dir, report_name, write_report
from .speed import (
    Interruption,
    SpeedAnalysis,
    SpeedCalibrationResult,
    SpeedCalibrator,
    SpeedStep,
    SpeedSweep,
    StepResult,
    VerifyPoint,
    analyse_speed,
)

__all__ = [
    "DEFAULT_POSITIONS_MM",
    "REPORT_DIR_ENV",
    "BurnIn",
    "BurnInPlan",
    "BurnInResult",
    "Cause",
    "Correction",
    "DepthAnalysis",
    "DepthCalibrationResult",
    "DepthCalibrator",
    "DepthPlan",
    "DepthPoint",
    "Diagnosis",
    "GaugeReader",
    "Interruption",
    "LinearFit",
    "Outcome",
    "Recorded",
    "RunKind",
    "Segment",
    "SpeedAnalysis",
    "SpeedCalibrationResult",
    "SpeedCalibrator",
    "SpeedStep",
    "SpeedSweep",
    "StepResult",
    "TelemetryReader",
    "VerifyPoint",
    "Window",
    "analyse_depth",
    "analyse_speed",
    "assess",
    "default_report_dir",
    "file_gauge",
    "fit_line",
    "parse_readings",
    "profile_speeds",
    "read_readings",
    "record_run",
    "report_name",
    "summarize",
    "write_report",
]
