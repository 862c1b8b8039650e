"""Review after the session: per-zone summaries, comparisons across a client's sessions,
one pass in detail, exports and the HTML report.

Summaries are computed from the per-pass aggregates the recorder stored, summed per zone
by the journal as it records (its derived tables), so their cost is a row per zone: it
grows neither with the telemetry recorded nor with the passes; what a review lists one by
one (passes that need a look, notable events) is read by index. No Textual here: the
review screens (smpctl.tui.review) and the CLI (smpctl.cli.review_cmd) both build on it.
"""

from __future__ import annotations

from .compare import ClientComparison, ZoneHistory, compare_client
from .dose import SessionDose, ZoneDoseSeries
from .export import (
    COLUMNS,
    EVENT_COLUMNS,
    EXPORT_FORMAT_VERSION,
    FORMATS,
    PASS_COLUMNS,
    SAMPLE_COLUMNS,
    ExportResult,
    export,
)
from .ids import clients, resolve_client, resolve_pass, resolve_session, session_label
from .listing import filter_sessions
from .pass_view import PassDetail, pass_detail
from .report import render_report
from .source import check_output_path, open_for_review
from .summary import (
    EventGroup,
    SessionReview,
    ZoneRow,
    attention,
    review_session,
    zone_rows,
)
from .trace import (
    TraceColumns,
    TracePoint,
    TraceSummary,
    pass_trace,
    session_traces,
    trace_summary,
)

__all__ = [
    "COLUMNS",
    "EVENT_COLUMNS",
    "EXPORT_FORMAT_VERSION",
    "FORMATS",
    "PASS_COLUMNS",
    "SAMPLE_COLUMNS",
    "ClientComparison",
    "EventGroup",
    "ExportResult",
    "PassDetail",
    "SessionDose",
    "SessionReview",
    "TraceColumns",
    "TracePoint",
    "TraceSummary",
    "ZoneDoseSeries",
    "ZoneHistory",
    "ZoneRow",
    "attention",
    "check_output_path",
    "clients",
    "compare_client",
    "export",
    "filter_sessions",
    "open_for_review",
    "pass_detail",
    "pass_trace",
    "render_report",
    "resolve_client",
    "resolve_pass",
    "resolve_session",
    "review_session",
    "session_label",
    "session_traces",
    "trace_summary",
    "zone_rows",
]
