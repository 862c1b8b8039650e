"""Technician runs on a pen: speed, depth and skin-contact calibration, and burn-in.

Each run measures on a connected pen (``smpctl.client.Pen``), decides pass or fail from its
data and explains a failure; only a pass puts a calibration in force (written to the pen;
the contact baseline, which the pen has no place for, only in the history). ``record_run``
then leaves a JSON report and an entry in the pen's calibration history in the journal.
The math (``fit_line``, ``analyse_speed``, ``analyse_depth``, ``analyse_contact``,
``assess``) takes plain data, so it is tested on recorded and synthetic measurements
without a pen.
"""

from __future__ import annotations

from .burn_in import BurnIn, BurnInPlan, BurnInResult, Segment, assess, profile_speeds
from .contact import (
    BaselineStep,
    ContactAnalysis,
    ContactLimits,
    GainFit,
    StepRecord,
    analyse_contact,
    contact_settings,
)
from .contact_run import ContactCalibrationResult, ContactCalibrator, ContactPlan
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
from .measure import TelemetryReader, TelemetryTape, Window, summarize
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
    "BaselineStep",
    "BurnIn",
    "BurnInPlan",
    "BurnInResult",
    "Cause",
    "ContactAnalysis",
    "ContactCalibrationResult",
    "ContactCalibrator",
    "ContactLimits",
    "ContactPlan",
    "Correction",
    "DepthAnalysis",
    "DepthCalibrationResult",
    "DepthCalibrator",
    "DepthPlan",
    "DepthPoint",
    "Diagnosis",
    "GainFit",
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
    "StepRecord",
    "StepResult",
    "TelemetryReader",
    "TelemetryTape",
    "VerifyPoint",
    "Window",
    "analyse_contact",
    "analyse_depth",
    "analyse_speed",
    "assess",
    "contact_settings",
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
