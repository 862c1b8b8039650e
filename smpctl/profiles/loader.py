"""Finding profile files, reading them, and resolving ``extends`` into one checked profile
that remembers which file set each value.

Resolution is deterministic: the chain is followed from the named profile to its root, then
merged root first, each file's tables merged key by key over its parent's (a list or a value
replaces). Each file is checked on its own first, so a problem is reported against the file
that has it; the merged result is checked again, for rules that span files.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir
from pydantic import ValidationError

from smpctl.dose import DoseBounds
from smpctl.errors import (
    ProfileCycleError,
    ProfileError,
    ProfileNotFoundError,
    ProfileProblem,
    ProfileSyntaxError,
)
from smpctl.zones import ZoneCode

from .bounds import covered_zone, dose_bounds
from .model import ProfileFile, ProfileKind, completeness_problems
from .problems import KeyPath, dotted, problems_from

PROFILES_ENV = "SMPCTL_PROFILES"
"""Directories to search first (os.pathsep-separated). Set, even empty, it replaces the
user's config directory in the search, so tests never read the real home."""

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "profiles"
"""The default set shipped beside the package (the repository's ``profiles/``, which an
editable install sees in place)."""

_FILE_KEYS = ("description", "extends")
"""A file's own words, never inherited: a child has its own description and parent."""

_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def search_path(profiles_dirs: Sequence[str | Path] | None = None) -> list[Path]:
    """Where profiles are looked for, first match by name wins.

    ``--profiles-dir`` (or ``SMPCTL_PROFILES``), else the user's
    ``user_config_dir("smpctl")/profiles``; then always the shipped set.
    """
    dirs: list[Path]
    if profiles_dirs:
        dirs = [Path(d) for d in profiles_dirs]
    elif PROFILES_ENV in os.environ:
        dirs = [Path(d) for d in os.environ[PROFILES_ENV].split(os.pathsep) if d]
    else:
        dirs = [Path(user_config_dir("smpctl")) / "profiles"]
    return [*dirs, SHIPPED_DIR]


def read_toml(path: Path, *, shown_as: str | None = None) -> dict[str, Any]:
    """The file's tables, or an error naming the file (and line and column for syntax)."""
    name = shown_as or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProfileNotFoundError(
            ProfileProblem(name, "", None, "no such file; check the path")
        ) from None
    except OSError as exc:
        raise ProfileNotFoundError(
            ProfileProblem(name, "", None, f"cannot be read ({exc.strerror})")
        ) from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProfileSyntaxError(name, None, None, "the file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        match = _TOML_WHERE.search(text)
        if match:
            line, column = int(match.group(1)), int(match.group(2))
            raise ProfileSyntaxError(name, line, column, text[: match.start()]) from None
        raise ProfileSyntaxError(name, None, None, text) from None


@dataclass(frozen=True)
class LoadedProfile:
    """A profile with its ``extends`` chain merged and checked."""

    name: str
    path: Path
    description: str
    chain: tuple[Path, ...]
    """The file itself first, then its parent, up to the root."""
    profile: ProfileFile
    origins: Mapping[str, Path]
    """Dotted key path of every value set -> the file that set it last."""
    hash: str
    """sha256 of the merged profile in canonical JSON: what the journal records."""

    def origin(self, key_path: str) -> str:
        path = self.origins.get(key_path)
        return path.name if path is not None else self.path.name

    def as_dict(self) -> dict[str, Any]:
        return self.profile.model_dump(mode="json", exclude_none=True)

    @property
    def kind(self) -> ProfileKind:
        return self.profile.profile_kind

    def bounds_for(self, zone: ZoneCode | str, session: int | None = None) -> DoseBounds | None:
        """The zone's dose bounds for ``session`` (None: the zone's own values), or None
        when this profile sets none for the zone. UnknownZoneError for a zone the profile
        does not cover. ``resolve`` gives the same bounds with their sources."""
        code = covered_zone(self.name, self.profile, zone)
        return dose_bounds(self.profile, code, session)

    def zone_bounds(self, session: int | None = None) -> dict[ZoneCode, DoseBounds]:
        """Every zone's bounds that the profile sets, in zone order."""
        found = {}
        for code in ZoneCode:
            if code in self.profile.zones:
                bounds = dose_bounds(self.profile, code, session)
                if bounds is not None:
                    found[code] = bounds
        return found

    def min_intervals(self) -> dict[ZoneCode, int]:
        """Zone -> minimum days between sessions, for ``smpctl.dose.interval_warnings``."""
        return {code: b.min_interval_days for code, b in self.zone_bounds().items()}


@dataclass(frozen=True)
class ProfileEntry:
    name: str
    path: Path
    description: str
    shadows: tuple[Path, ...] = ()
    """Files of the same name later in the search path, hidden by this one."""


def profile_hash(profile: ProfileFile) -> str:
    canonical = json.dumps(
        profile.model_dump(mode="json", exclude_none=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _merge(
    base: dict[str, Any],
    over: Mapping[str, Any],
    file: Path,
    origins: dict[str, Path],
    prefix: KeyPath = (),
) -> None:
    for key, value in over.items():
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, file, origins, path)
            continue
        stale = dotted(path)
        for known in [k for k in origins if k == stale or k.startswith(stale + ".")]:
            del origins[known]
        base[key] = _copy(value)
        _record(value, path, file, origins)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _record(value: Any, path: KeyPath, file: Path, origins: dict[str, Path]) -> None:
    origins[dotted(path)] = file
    if isinstance(value, dict):
        for key, inner in value.items():
            _record(inner, (*path, key), file, origins)


class ProfileLibrary:
    """The profiles found on a search path (see ``search_path``)."""

    def __init__(self, dirs: Sequence[Path]) -> None:
        self.dirs = list(dirs)

    @classmethod
    def default(cls, profiles_dirs: Sequence[str | Path] | None = None) -> ProfileLibrary:
        return cls(search_path(profiles_dirs))

    # ------------------------------------------------------------------ finding

    def entries(self) -> list[ProfileEntry]:
        """Every profile name found, first file by name winning, sorted by name."""
        found: dict[str, list[Path]] = {}
        for directory in self.dirs:
            if not directory.is_dir():
                continue
            for path in sorted(directory.glob("*.toml")):
                found.setdefault(path.stem, []).append(path)
        entries = []
        for name in sorted(found):
            first, *rest = found[name]
            entries.append(ProfileEntry(name, first, _description(first), tuple(rest)))
        return entries

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def locate(self, ref: str, *, relative_to: Path | None = None, file: str = "") -> Path:
        """The file a profile name or path refers to. A name is looked for next to the file
        that names it first (so a set of profiles can be moved together), then on the path."""
        if ref.endswith(".toml") or "/" in ref or os.sep in ref:
            path = Path(ref)
            if not path.is_absolute() and relative_to is not None:
                path = relative_to / path
            if not path.exists():
                where = file or ref
                raise ProfileNotFoundError(
                    ProfileProblem(
                        where, "extends" if file else "", ref, "no such file; check the path"
                    )
                )
            return path
        dirs = ([relative_to] if relative_to is not None else []) + self.dirs
        for directory in dirs:
            candidate = directory / f"{ref}.toml"
            if candidate.is_file():
                return candidate
        names = self.names()
        close = difflib.get_close_matches(ref, names, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        listed = ", ".join(names) if names else "none"
        searched = ", ".join(str(d) for d in dirs)
        raise ProfileNotFoundError(
            ProfileProblem(
                file or ref,
                "extends" if file else "",
                ref if file else None,
                f"no profile named {ref!r}; {hint}profiles found: {listed} (searched {searched})",
            )
        )

    # ------------------------------------------------------------------ loading

    def load(self, ref: str | Path) -> LoadedProfile:
        """Read, resolve ``extends`` and check; raises ``ProfileError`` listing every problem."""
        path = self.locate(str(ref)) if not isinstance(ref, Path) else ref
        chain, raws, problems = self._read_chain(path)
        if problems:
            raise ProfileError(problems)
        merged: dict[str, Any] = {}
        origins: dict[str, Path] = {}
        for file, raw in zip(reversed(chain), reversed(raws), strict=True):
            own = {k: v for k, v in raw.items() if k not in _FILE_KEYS}
            _merge(merged, own, file, origins)

        def file_of(key_path: KeyPath) -> str:
            return str(_origin_of(origins, key_path, path))

        try:
            profile = ProfileFile.model_validate(merged)
        except ValidationError as exc:
            raise ProfileError(problems_from(exc, ProfileFile, file_of)) from None
        missing = [
            ProfileProblem(file_of(p), dotted(p), v, allowed)
            for p, v, allowed in completeness_problems(profile)
        ]
        if missing:
            raise ProfileError(missing)
        own_description = raws[0].get("description")
        return LoadedProfile(
            name=path.stem,
            path=path,
            description=own_description if isinstance(own_description, str) else "",
            chain=tuple(chain),
            profile=profile,
            origins=origins,
            hash=profile_hash(profile),
        )

    def _read_chain(self, path: Path) -> tuple[list[Path], list[dict[str, Any]], list[Any]]:
        chain: list[Path] = []
        raws: list[dict[str, Any]] = []
        problems: list[ProfileProblem] = []
        current = path
        while True:
            resolved = current.resolve()
            if resolved in [p.resolve() for p in chain]:
                names = [p.stem for p in chain] + [current.stem]
                raise ProfileCycleError(str(chain[-1]), names)
            chain.append(current)
            raw = read_toml(current)
            raws.append(raw)
            try:
                ProfileFile.model_validate(raw)
            except ValidationError as exc:
                problems += problems_from(exc, ProfileFile, _fixed(str(current)))
            parent = raw.get("extends")
            if not isinstance(parent, str):
                break
            current = self.locate(parent, relative_to=current.parent, file=str(current))
        return chain, raws, problems


def _fixed(file: str) -> Callable[[KeyPath], str]:
    def file_of(_path: KeyPath) -> str:
        return file

    return file_of


def _origin_of(origins: Mapping[str, Path], key_path: KeyPath, default: Path) -> Path:
    """The file that set ``key_path``, or the table holding it, or a key below it."""
    key = dotted(key_path)
    parts = list(key_path)
    while parts:
        found = origins.get(dotted(parts))
        if found is not None:
            return found
        parts.pop()
    for known, file in origins.items():
        if known.startswith(key + "."):
            return file
    return default


def _description(path: Path) -> str:
    try:
        raw = read_toml(path)
    except ProfileError as exc:
        return f"(unreadable: {exc.problems[0].allowed})"
    text = raw.get("description")
    return text if isinstance(text, str) else ""
