"""Pydantic's validation errors, told in the file's own words: the key path as written in the
TOML file, the bad value, what is allowed, and a "did you mean" for a misspelt key or code."""

from __future__ import annotations

import difflib
import types
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from smpctl.errors import MISSING, ProfileProblem

KeyPath = tuple[str | int, ...]
OriginOf = Callable[[KeyPath], str]

_KIND = {
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": 'must be text in quotes, e.g. "…"',
    "model_type": "must be a table, e.g. [section]",
    "model_attributes_type": "must be a table, e.g. [section]",
    "dict_type": "must be a table, e.g. [section]",
    "list_type": "must be a list, e.g. [a, b]",
    "bool_type": "must be true or false",
    "missing": "required",
}

_UNITS = {
    "_mm": " in mm",
    "_hz": " in Hz",
    "_ms": " in ms",
    "_pct": " in %",
    "_days": " in days",
    "_per_cm2": " in punctures/cm²",
}


def dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in path)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    if not close:
        close = difflib.get_close_matches(word.upper(), options, n=1, cutoff=0.5)
    return f"did you mean {close[0]!r}? " if close else ""


def _unwrap(tp: Any) -> Any:
    """The model or container type behind Optional[...] and Annotated[...]."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin is Union or origin is types.UnionType:
            args = [a for a in get_args(tp) if a is not type(None)]
            tp = args[0]
        else:
            return tp


def _type_at(root: type[BaseModel], path: Sequence[str | int]) -> Any:
    """The declared type at ``path`` below ``root`` (None if the path leaves the schema)."""
    current: Any = root
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list and isinstance(part, int):
            current = get_args(current)[0]
        else:
            return None
    return _unwrap(current)


def _key_type_at(root: type[BaseModel], path: Sequence[str | int]) -> Any:
    container = _type_at(root, path)
    if get_origin(container) is dict:
        return _unwrap(get_args(container)[0])
    return None


def _enum_choices(tp: Any) -> list[str]:
    if isinstance(tp, type) and issubclass(tp, Enum):
        return [str(m.value) for m in tp]
    return []


def _with_unit(text: str, key: object) -> str:
    for suffix, unit in _UNITS.items():
        if isinstance(key, str) and key.endswith(suffix) and text.startswith("must be a"):
            return text + unit
    return text


def problems_from(
    exc: ValidationError, root: type[BaseModel], file_of: OriginOf
) -> list[ProfileProblem]:
    """One ``ProfileProblem`` per error; ``file_of`` names the file that set a key path."""
    found: list[ProfileProblem] = []
    for error in exc.errors():
        loc: list[str | int] = list(error["loc"])
        kind = error["type"]
        value = error.get("input", MISSING)
        ctx = error.get("ctx") or {}
        if kind == "cross_field":
            related = ctx.get("related") or {}
            for i, (rel, bad, allowed) in enumerate(ctx["problems"]):
                path = (*loc, *rel)
                file = file_of(path)
                other = related.get(i)
                if other is not None and file_of((*loc, *other)) != file:
                    # a rule spanning files: name the other file too, either may be fixed
                    other_path = (*loc, *other)
                    allowed += f" ({dotted(other_path)} is set in {file_of(other_path)})"
                found.append(ProfileProblem(file, dotted(path), bad, allowed))
            continue
        is_key = bool(loc) and loc[-1] == "[key]"
        if is_key:
            loc = loc[:-1]
            parent = loc[:-1]
            key_type = _key_type_at(root, parent)
            choices = _enum_choices(key_type)
            what = {
                "zones": "zone code",
                "scars": "scar kind",
                "skin": "skin condition",
                "sessions": "session number",
            }.get(str(parent[-1]) if parent else "", "key")
            if choices:
                allowed = (
                    f"unknown {what}; {did_you_mean(str(value), choices)}"
                    f"allowed: {', '.join(choices)}"
                )
            else:
                allowed = f"{what}s are whole numbers 1–{ctx.get('le', '')}".rstrip("–")
            found.append(ProfileProblem(file_of(tuple(loc)), dotted(loc), value, allowed))
            continue
        if kind == "extra_forbidden":
            tp = _type_at(root, loc[:-1])
            is_model = isinstance(tp, type) and issubclass(tp, BaseModel)
            fields = list(tp.model_fields) if is_model else []
            hint = did_you_mean(str(loc[-1]), fields)
            allowed = f"unknown key; {hint}allowed here: {', '.join(fields)}"
        elif kind == "missing":
            allowed = "required"
        elif kind == "out_of_range":
            allowed = str(ctx["allowed"])
        elif kind in ("enum", "str_type") or ctx.get("expected"):
            choices = _enum_choices(_type_at(root, loc))
            hint = did_you_mean(str(value), choices) if isinstance(value, str) else ""
            allowed = f"{hint}allowed: {', '.join(repr(c) for c in choices)}"
        else:
            allowed = _KIND.get(kind, error["msg"])
            allowed = _with_unit(allowed, loc[-1] if loc else None)
        found.append(ProfileProblem(file_of(tuple(loc)), dotted(loc), value, allowed))
    return found
