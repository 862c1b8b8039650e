"""Exporting records: passes, events and (with ``telemetry``) raw samples, as CSV or JSON
lines. The columns below are a published format (docs/export.md): new columns are only
ever added at the end, and ``EXPORT_FORMAT_VERSION`` goes up when that happens."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from smpctl.journal import Journal
from smpctl.journal.telemetry_codec import unpack_samples
from smpctl.protocol import Telemetry

from .source import companion_path, private_output
from .summary import needle_s_sql

EXPORT_FORMAT_VERSION = 1
FORMATS: tuple[str, ...] = ("csv", "jsonl")

PASS_COLUMNS: tuple[str, ...] = (
    "pass_uid",
    "session_uid",
    "client",
    "session_number",
    "pass_number",
    "zone",
    "scar",
    "started_utc",
    "ended_utc",
    "needle_s",
    "outcome",
    "outcome_detail",
    "continues_uid",
    "setpoint_hz",
    "speed_mean_hz",
    "speed_min_hz",
    "speed_max_hz",
    "depth_mm",
    "strokes",
    "samples",
    "peak_current_a",
    "max_temp_c",
    "needle",
    "cartridge_lot",
    "cartridge_expiry",
    "pigment_shade",
    "pigment_dilution",
    "pigment_lot",
    "profile_hash",
    "flag",
    "note",
    "simulated",
)
EVENT_COLUMNS: tuple[str, ...] = (
    "event_uid",
    "session_uid",
    "pass_uid",
    "wall_utc",
    "source",
    "kind",
    "code",
    "value",
    "t_us",
    "message",
    "data",
)
SAMPLE_COLUMNS: tuple[str, ...] = ("pass_uid", *Telemetry._fields)
"""Raw telemetry as recorded, in the wire's integer units (see docs/protocol.md)."""
COLUMNS: dict[str, tuple[str, ...]] = {
    "passes": PASS_COLUMNS,
    "events": EVENT_COLUMNS,
    "samples": SAMPLE_COLUMNS,
}
RECORD_OF = {"passes": "pass", "events": "event", "samples": "sample"}

_PASS_SQL = f"""
SELECT x.uid AS pass_uid, x.session_uid, c.pseudonym AS client, s.session_number,
       x.number AS pass_number, x.zone, x.scar, x.started_wall, x.ended_wall,
       {needle_s_sql("x")} AS needle_s, x.outcome, x.outcome_detail, x.continues_uid,
       x.setpoint_hz, x.speed_mean_hz, x.speed_min_hz, x.speed_max_hz, x.depth_mm, x.strokes,
       x.samples, x.peak_current_a, x.max_temp_c, k.needle, k.lot AS cartridge_lot,
       k.expiry AS cartridge_expiry, g.shade AS pigment_shade, g.dilution AS pigment_dilution,
       g.lot AS pigment_lot, x.profile_hash, x.flag, x.note, s.simulated
FROM passes x
JOIN sessions s ON s.uid = x.session_uid
LEFT JOIN clients c ON c.uid = s.client_uid
LEFT JOIN cartridges k ON k.uid = x.cartridge_uid
LEFT JOIN pigments g ON g.uid = x.pigment_uid
WHERE x.session_uid = ? ORDER BY x.number, x.rowid
"""


def utc(wall: float | None) -> str | None:
    if wall is None:
        return None
    return dt.datetime.fromtimestamp(wall, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class ExportResult:
    passes: int = 0
    events: int = 0
    samples: int = 0
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passes": self.passes,
            "events": self.events,
            "samples": self.samples,
            "files": self.files,
        }


def pass_rows(journal: Journal, session_uids: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    for uid in session_uids:
        for r in journal.store.query(_PASS_SQL, (uid,)):
            r["started_utc"] = utc(r["started_wall"])
            r["ended_utc"] = utc(r["ended_wall"])
            r["simulated"] = bool(r["simulated"])
            yield tuple(r[c] for c in PASS_COLUMNS)


def event_rows(journal: Journal, session_uids: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    for uid in session_uids:
        for r in journal.store.query(
            "SELECT uid AS event_uid, session_uid, pass_uid, wall, source, kind, code, value, "
            "t_us, message, data FROM events WHERE session_uid = ? ORDER BY wall, rowid",
            (uid,),
        ):
            r["wall_utc"] = utc(r["wall"])
            yield tuple(r[c] for c in EVENT_COLUMNS)


def sample_rows(journal: Journal, session_uids: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Every recorded sample, pass by pass, streamed chunk by chunk (never all in memory)."""
    for uid in session_uids:
        passes = journal.store.query(
            "SELECT uid FROM passes WHERE session_uid = ? ORDER BY number, rowid", (uid,)
        )
        for p in passes:
            pass_uid = p["uid"]
            for chunk in journal.store.iterate(
                "SELECT samples, codec, data FROM telemetry_chunks WHERE pass_uid = ? "
                "ORDER BY rowid",
                (pass_uid,),
            ):
                for s in unpack_samples(chunk["data"], chunk["samples"], chunk["codec"]):
                    yield (pass_uid, *s)


def _rows(journal: Journal, table: str, session_uids: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    if table == "passes":
        return pass_rows(journal, session_uids)
    if table == "events":
        return event_rows(journal, session_uids)
    return sample_rows(journal, session_uids)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_csv(out: IO[str], table: str, rows: Iterator[tuple[Any, ...]]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS[table])
    count = 0
    if table == "samples":  # all integers and a uid: nothing to convert
        for row in rows:
            writer.writerow(row)
            count += 1
        return count
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        count += 1
    return count


_SAMPLE_LINE = (
    '{"record":"sample","pass_uid":"%s",'
    + ",".join(f'"{name}":%d' for name in Telemetry._fields)
    + "}\n"
)


def write_jsonl(out: IO[str], table: str, rows: Iterator[tuple[Any, ...]]) -> int:
    count = 0
    if table == "samples":
        line = _SAMPLE_LINE
        for row in rows:
            out.write(line % row)
            count += 1
        return count
    columns = COLUMNS[table]
    record = RECORD_OF[table]
    for row in rows:
        out.write(json.dumps({"record": record, **dict(zip(columns, row, strict=True))}))
        out.write("\n")
        count += 1
    return count


def header(journal: Journal, tables: Sequence[str]) -> dict[str, Any]:
    return {
        "record": "header",
        "format": "smpctl-export",
        "format_version": EXPORT_FORMAT_VERSION,
        "journal_schema": journal.store.schema_version,
        "exported_utc": utc(journal.now),
        "columns": {RECORD_OF[t]: list(COLUMNS[t]) for t in tables},
    }


def export(
    journal: Journal,
    session_uids: Sequence[str],
    fmt: str,
    target: Path | None,
    *,
    telemetry: bool = False,
) -> ExportResult:
    """CSV: one file per table beside ``target`` (``out.csv`` -> ``out.passes.csv``,
    ``out.events.csv``, ``out.samples.csv``). JSON lines: one file (or stdout), a header
    line, then ``pass``, ``event`` and ``sample`` records."""
    tables = ["passes", "events", *(["samples"] if telemetry else [])]
    result = ExportResult()
    if fmt == "csv":
        if target is None:
            raise ValueError("a CSV export writes one file per table: it needs a target")
        for table in tables:
            path = companion_path(target, table)
            with private_output(path) as out:
                count = write_csv(out, table, _rows(journal, table, session_uids))
            setattr(result, table, count)
            result.files.append(str(path))
        return result
    if target is None:
        _jsonl(journal, sys.stdout, tables, session_uids, result)
        return result
    with private_output(target) as out:
        _jsonl(journal, out, tables, session_uids, result)
    result.files.append(str(target))
    return result


def _jsonl(
    journal: Journal,
    out: IO[str],
    tables: Sequence[str],
    session_uids: Sequence[str],
    result: ExportResult,
) -> None:
    out.write(json.dumps(header(journal, tables)) + "\n")
    for table in tables:
        setattr(result, table, write_jsonl(out, table, _rows(journal, table, session_uids)))
