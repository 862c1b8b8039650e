"""The start form: what the practitioner enters before the needle may run, and every reason
it cannot start yet (an expired cartridge, no consent, a cartridge of the wrong kind for the
session, a needle count that is not the kind's, an impossible zone area).

The problems are words for the form, in the form's order; nothing here touches the journal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from smpctl.dose import CartridgeKind, needle_count, validate_area, zone_areas
from smpctl.errors import NeedleCountMismatchError, UnknownCartridgeKindError, ZoneAreaError
from smpctl.journal.records import SessionKind
from smpctl.profiles import SkinCondition
from smpctl.zones import ZoneCode

SKIN_CONDITIONS: tuple[str, ...] = tuple(c.value for c in SkinCondition)
SMP = SessionKind.SMP.value
MICRONEEDLING = SessionKind.MICRONEEDLING.value
KIND_NAMES: dict[str, str] = {SMP: "SMP", MICRONEEDLING: "microneedling"}
STANDARD_PROFILES: dict[str, str] = {SMP: "smp-base", MICRONEEDLING: "mn-scalp"}
"""The profile offered first for a session kind when the dashboard was started with a
profile of the other kind."""
DEFAULT_NEEDLES: dict[str, str] = {SMP: "1RL 0.20", MICRONEEDLING: "12-pin"}

_AREA_ITEM = re.compile(r"^\s*([A-Za-z_]+)\s*(?:=|:|\s)\s*(\S+?)\s*(?:cm²|cm2)?\s*$")


def parse_areas(text: str) -> tuple[dict[str, float], list[str]]:
    """``HL=28, CRN=55`` -> ({"HL": 28.0, "CRN": 55.0}, problems). Every item is checked
    like a measurement; a problem names the zone and why, and no area is used unless all
    of them are good (the caller refuses the form)."""
    areas: dict[str, float] = {}
    problems: list[str] = []
    for item in re.split(r"[,;]", text):
        if not item.strip():
            continue
        match = _AREA_ITEM.match(item)
        if match is None:
            problems.append(
                f"write zone areas as CODE=cm², e.g. HL=28, CRN=55 (not {item.strip()!r})"
            )
            continue
        code, value_text = match.group(1).upper(), match.group(2)
        if code not in ZoneCode.__members__:
            problems.append(
                f"unknown zone {code} in the zone areas: use {', '.join(z.value for z in ZoneCode)}"
            )
            continue
        try:
            value = float(value_text)
        except ValueError:
            problems.append(f"the area of {code} ({value_text!r}) is not a number of cm²")
            continue
        if code in areas:
            problems.append(f"{code} is given twice in the zone areas")
            continue
        try:
            areas[code] = validate_area(code, value)
        except ZoneAreaError as exc:
            problems.append(str(exc))
    if areas and not problems:
        try:
            zone_areas(dict(areas))
        except ZoneAreaError as exc:
            problems.append(str(exc))
    return areas, problems


def parse_cartridge(needle: str) -> CartridgeKind:
    """The kind from the first word of the cartridge text (``3RL 0.25``, ``36-pin``, ``nano``),
    as the journal reads it; UnknownCartridgeKindError otherwise."""
    words = needle.split()
    if not words:
        raise UnknownCartridgeKindError(needle, [k.value for k in CartridgeKind])
    try:
        return CartridgeKind.parse(words[0])
    except UnknownCartridgeKindError:
        raise UnknownCartridgeKindError(needle.strip(), [k.value for k in CartridgeKind]) from None


def profiles_of_kind(kind: str, profile_kinds: Mapping[str, str]) -> list[str]:
    return sorted(name for name, k in profile_kinds.items() if k == kind)


def default_profile(kind: str, profile_kinds: Mapping[str, str], preferred: str | None) -> str:
    """The profile to offer for ``kind``: the preferred one if it is of that kind, else the
    standard one, else the first; "" (none) when no profile of the kind is available."""
    names = profiles_of_kind(kind, profile_kinds)
    if preferred in names:
        return str(preferred)
    standard = STANDARD_PROFILES.get(kind)
    if standard in names:
        return str(standard)
    return names[0] if names else ""


@dataclass
class SessionForm:
    """What the practitioner enters before the needle may run."""

    client: str = ""
    session_number: int = 1
    practitioner: str = ""
    needle: str = DEFAULT_NEEDLES[SMP]
    """The cartridge: its kind first (1RL 0.20, 3RL, 12-pin, 36-pin, nano ...)."""
    cartridge_lot: str = ""
    cartridge_expiry: str = ""
    pigment_shade: str = ""
    pigment_dilution: str = ""
    pigment_lot: str = ""
    consent: bool = False
    skin: tuple[str, ...] = ()
    kind: str = SMP
    """``smp`` or ``microneedling`` (no pigment)."""
    profile: str = ""
    """The profile for the session by name; "": none (the pen's own setpoints). In an
    initial form, "" leaves the dashboard's own choice."""
    cartridge_needles: str = ""
    """Needles as printed on the box (optional): checked against the kind."""
    areas: str = ""
    """Zone areas measured today (optional): ``HL=28, CRN=55``."""

    @staticmethod
    def parse_skin(text: str) -> tuple[str, ...]:
        """``thin, oily`` -> ("thin", "oily"); order and case do not matter."""
        return tuple(
            sorted({w.strip().lower() for w in text.replace(";", ",").split(",") if w.strip()})
        )

    @property
    def microneedling(self) -> bool:
        return self.kind == MICRONEEDLING

    def problems(
        self, today: dt.date, *, profile_kinds: Mapping[str, str] | None = None
    ) -> list[str]:
        """Every reason the session cannot start yet, in the order of the form.
        ``profile_kinds`` (name -> session kind) checks the chosen profile against the
        session kind."""
        found = []
        if not self.client.strip():
            found.append("enter the client's pseudonym")
        if self.session_number < 1:
            found.append("session numbers start at 1")
        if not self.practitioner.strip():
            found.append("enter the practitioner")
        if self.kind not in KIND_NAMES:
            found.append(f"choose the session kind: {' or '.join(KIND_NAMES.values())}")
        elif profile_kinds is not None:
            found.extend(self.profile_problems(profile_kinds))
        found.extend(self.cartridge_problems())
        if not self.cartridge_lot.strip():
            found.append("enter the cartridge lot (printed on its pack)")
        expiry = self.expiry_date()
        if expiry is None:
            found.append("enter the cartridge expiry as YYYY-MM-DD")
        elif expiry < today:
            found.append(
                f"the cartridge expired on {expiry.isoformat()}: use a new, in-date cartridge"
            )
        if not self.microneedling and not self.pigment_lot.strip():
            found.append("enter the pigment lot")
        if not self.consent:
            found.append("record the client's consent")
        unknown = [w for w in self.skin if w not in SKIN_CONDITIONS]
        if unknown:
            found.append(
                f"unknown skin condition {', '.join(unknown)}: use {', '.join(SKIN_CONDITIONS)}"
            )
        found.extend(parse_areas(self.areas)[1])
        return found

    def profile_problems(self, profile_kinds: Mapping[str, str]) -> list[str]:
        name = self.profile
        if not name:
            return []
        kind = profile_kinds.get(name)
        if kind is None:
            return [f"no profile named {name!r}: choose one of {', '.join(sorted(profile_kinds))}"]
        if kind == self.kind:
            return []
        others = profiles_of_kind(self.kind, profile_kinds)
        choose = f"choose {' or '.join(others)}" if others else "start without a profile"
        return [
            f"profile {name} is for {KIND_NAMES[kind]} sessions, this is a "
            f"{KIND_NAMES[self.kind]} session: {choose}"
        ]

    def cartridge_problems(self) -> list[str]:
        """The cartridge's kind known, right for the session kind, and the needles on the
        box (if given) what that kind has: a wrong count would scale every dose."""
        if not self.needle.strip():
            return [f"enter the cartridge (e.g. {DEFAULT_NEEDLES[self.kind]})"]
        try:
            cartridge = parse_cartridge(self.needle)
        except UnknownCartridgeKindError as exc:
            return [str(exc)]
        found = []
        if self.microneedling and not cartridge.microneedling:
            found.append(
                f"a {cartridge.value} cartridge is for SMP: microneedling takes a multi-needle "
                "cartridge (9-pin … 42-pin, nano)"
            )
        elif not self.microneedling and cartridge.microneedling:
            found.append(
                f"a {cartridge.value} cartridge is for microneedling: an SMP session takes 1RL "
                "or 3RL (or choose the session kind microneedling)"
            )
        text = self.cartridge_needles.strip()
        if text:
            if not text.isdigit():
                found.append("enter the needles on the box as a whole number, or leave it empty")
            else:
                try:
                    needle_count(cartridge, int(text))
                except NeedleCountMismatchError as exc:
                    found.append(str(exc))
        return found

    def needles_given(self) -> int | None:
        text = self.cartridge_needles.strip()
        return int(text) if text.isdigit() else None

    def expiry_date(self) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.cartridge_expiry.strip())
        except ValueError:
            return None
