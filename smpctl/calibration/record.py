"""Where a finished run goes: its report file, then the pen's history in the journal.

The report is written first so the journal record can name it. The journal is opened by the
caller before the run starts, so a locked or unwritable journal is found before the pen is
touched, not after a calibration was written to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smpctl.journal import Journal
from smpctl.journal.calibrations import record_calibration

from .outcome import Outcome
from .report import write_report


@dataclass(frozen=True)
class Recorded:
    report: Path
    journal_uid: str | None


def record_run(
    outcome: Outcome,
    body: Mapping[str, Any],
    *,
    report_dir: Path,
    journal: Journal | None,
    technician: str | None,
) -> Recorded:
    report = write_report(report_dir, outcome, body, technician=technician)
    uid = None
    if journal is not None:
        uid = record_calibration(
            journal,
            outcome.identity,
            kind=outcome.kind.value,
            day=outcome.day,
            passed=outcome.passed,
            residuals=outcome.residuals,
            written=outcome.written,
            expires=outcome.expires,
            technician=technician,
            tolerance=outcome.tolerance,
            diagnoses=[str(d) for d in outcome.diagnoses],
            report=str(report),
        )
    return Recorded(report, uid)
