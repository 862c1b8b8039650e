"""Journal rows as the server stores them: one JSON body per record version, exact.

The hash chain digests each value by its Python type (``chain.row_digest``), so a row must
come back from the server with the same types and the same bits, or the server could never
verify a chair's chain. JSON keeps text and integers exact, and a float written with a
decimal point and no exponent keeps its digits in PostgreSQL's ``jsonb`` (numeric keeps
its scale) and parses back to the same float. Every other float (1e+16, -0.0, nan) is
tagged ``{"$f": repr}``; bytes (a telemetry chunk's data) travel beside the body in a
``bytea`` column, tagged ``{"$blob": true}``; a second bytes value, never written by the
journal today, would be tagged ``{"$b64": ...}``. Keeping the rows generic, not one server
table per journal table, means a new journal schema version needs no server migration.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any

BLOB = {"$blob": True}


def _encode_value(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, float):
        text = repr(value)
        # -0.0 too: numeric has no negative zero
        if math.isfinite(value) and "." in text and "e" not in text and text != "-0.0":
            return value
        return {"$f": text}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"a journal row holds a {type(value).__name__}, which SQLite never returns")


def encode_row(row: Mapping[str, object]) -> tuple[str, bytes | None]:
    """The JSON body and the blob (the first bytes value) of a journal row."""
    body: dict[str, object] = {}
    blob: bytes | None = None
    for key, value in row.items():
        if blob is None and isinstance(value, bytes | bytearray | memoryview):
            blob = bytes(value)
            body[key] = BLOB
        else:
            body[key] = _encode_value(value)
    return json.dumps(body, separators=(",", ":"), allow_nan=False), blob


def _decode_value(value: Any, blob: bytes | None) -> object:
    if isinstance(value, dict):
        if "$f" in value:
            return float(value["$f"])
        if value.get("$blob") is True:
            return blob
        if "$b64" in value:
            return base64.b64decode(value["$b64"])
        raise ValueError(f"unknown tag in a stored record: {sorted(value)}")
    if isinstance(value, float | int | str) or value is None:
        return value
    raise ValueError(f"a stored record holds a JSON {type(value).__name__}")


def decode_row(body: Mapping[str, Any] | str, blob: bytes | None) -> dict[str, object]:
    """The journal row back, with the types it had at the chair."""
    data = json.loads(body) if isinstance(body, str) else body
    return {key: _decode_value(value, blob) for key, value in data.items()}
