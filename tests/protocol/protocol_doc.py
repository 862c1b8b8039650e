"""Read docs/protocol.md as data: its test vectors, CRC example and tables.

The tests check these against smpctl.protocol, so the specification and the codec cannot
drift apart. The formats parsed here are described in the document itself (section 17).
"""

from __future__ import annotations

import ast
import re
import struct
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import smpctl.protocol as protocol

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"

# wire type in the document -> struct format character(s)
WIRE_TYPES = {
    "u8": "B",
    "u16": "H",
    "u32": "I",
    "i16": "h",
    "i32": "i",
    "char[16]": "16s",
}


@cache
def text() -> str:
    return DOC.read_text(encoding="utf-8")


def fenced_blocks(first_key: str) -> list[str]:
    """Bodies of the ``` blocks whose first line starts with ``first_key:``."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text(), flags=re.S | re.M)
    return [b for b in blocks if b.startswith(first_key + ":")]


def block_fields(block: str) -> list[tuple[str, str]]:
    """``key: value`` lines in order; indented lines continue the previous value."""
    items: list[tuple[str, str]] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        if line[0].isspace():
            key, value = items[-1]
            items[-1] = (key, value + " " + line.strip())
        else:
            key, _, value = line.partition(":")
            items.append((key.strip(), value.strip()))
    return items


def parse_hex(value: str) -> bytes:
    return bytes.fromhex(value)


def parse_message(source: str) -> protocol.Message:
    """``SetSpeed(speed_chz=11000)`` -> the message value (literals only, nothing run)."""
    node = ast.parse(source, mode="eval").body
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)) or node.args:
        raise ValueError(f"not a message written as Name(field=literal, ...): {source}")
    cls = getattr(protocol, node.func.id, None)
    if cls is None or not hasattr(cls, "_fields"):
        raise ValueError(f"{node.func.id} is not a message class of smpctl.protocol")
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        assert kw.arg is not None
        kwargs[kw.arg] = ast.literal_eval(kw.value)
    msg: protocol.Message = cls(**kwargs)
    return msg


@dataclass(frozen=True)
class Vector:
    name: str
    data: bytes
    seq: int | None = None
    message: protocol.Message | None = None
    expect: list[tuple[int, protocol.Message]] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def is_stream(self) -> bool:
        return self.message is None


@cache
def vectors() -> list[Vector]:
    result = []
    for block in fenced_blocks("vector"):
        items = block_fields(block)
        kv = dict(items)
        expect = []
        for key, value in items:
            if key == "expect":
                seq, _, msg = value.partition(" ")
                expect.append((int(seq), parse_message(msg)))
        stats = {}
        if "stats" in kv:
            for pair in kv["stats"].split():
                name, _, count = pair.partition("=")
                stats[name] = int(count)
        result.append(
            Vector(
                name=kv["vector"],
                data=parse_hex(kv["hex"]),
                seq=int(kv["seq"]) if "seq" in kv else None,
                message=parse_message(kv["message"]) if "message" in kv else None,
                expect=expect,
                stats=stats,
            )
        )
    return result


@cache
def crc_example() -> dict[str, str]:
    (block,) = fenced_blocks("crc-example")
    return dict(block_fields(block))


def markdown_rows(lines: list[str]) -> list[list[str]]:
    """Cells of a markdown table's body rows (header and separator dropped)."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    return rows[2:]


def table_after(heading_re: str) -> list[list[str]]:
    """Body rows of the first table under the heading matching ``heading_re``."""
    lines = text().splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(heading_re, line)), None)
    if start is None:
        raise LookupError(f"no heading matching {heading_re!r} in {DOC}")
    table: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return markdown_rows(table)


@dataclass(frozen=True)
class PayloadLayout:
    """A message's payload as section 10 of the document defines it."""

    type_code: int
    type_name: str
    fields: tuple[tuple[int, str, str], ...]  # (offset, name, wire type)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for _, name, _ in self.fields)

    @property
    def struct(self) -> struct.Struct:
        return struct.Struct("<" + "".join(WIRE_TYPES[t] for _, _, t in self.fields))


@cache
def payload_layouts() -> dict[int, PayloadLayout]:
    """Section 10's tables, by type code."""
    layouts = {}
    for m in re.finditer(r"^### 0x([0-9A-F]{2}) ([A-Z_]+)[ \t]*$", text(), flags=re.M):
        code = int(m.group(1), 16)
        rows = table_after(re.escape(m.group(0)) + "$")  # none for "Payload: none"
        fields = tuple((int(r[0]), r[1].strip("`"), r[2]) for r in rows)
        layouts[code] = PayloadLayout(code, m.group(2), fields)
    return layouts
