"""The scalp seen from above, zone by zone: the active zone lit, each zone shaded by this
session's dose against its target, done zones marked."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.containers import Grid
from textual.message import Message
from textual.widgets import Static

from smpctl.zones import ZoneCode

# rows of the map, top of the head (front) first; None is an empty cell
LAYOUT: tuple[tuple[ZoneCode | None, ...], ...] = (
    (None, ZoneCode.HL, None),
    (ZoneCode.TMP_L, ZoneCode.FRN, ZoneCode.TMP_R),
    (ZoneCode.PAR_L, ZoneCode.MID, ZoneCode.PAR_R),
    (None, ZoneCode.CRN, None),
    (None, ZoneCode.OCC, None),
    (None, ZoneCode.NAP, None),
)

ZONE_KEYS: dict[str, ZoneCode] = {
    "1": ZoneCode.HL,
    "2": ZoneCode.TMP_L,
    "3": ZoneCode.TMP_R,
    "4": ZoneCode.FRN,
    "5": ZoneCode.MID,
    "6": ZoneCode.CRN,
    "7": ZoneCode.PAR_L,
    "8": ZoneCode.PAR_R,
    "9": ZoneCode.OCC,
    "0": ZoneCode.NAP,
}
KEY_OF = {zone: key for key, zone in ZONE_KEYS.items()}

BANDS: tuple[tuple[str, str, str], ...] = (
    ("low", "#23507a", "<50%"),
    ("mid", "#2b7a78", "<100%"),
    ("target", "#2e7d32", "reached"),
    ("near", "#a66a00", "near ceiling"),
    ("ceiling", "#b71c1c", "at ceiling"),
)
"""Dose band -> background colour (the same in app.tcss) and its legend words."""
LEGEND = "\n".join(
    (
        "dose/target "
        + " ".join(f"[white on {colour}] [/]{words}" for _b, colour, words in BANDS[:3]),
        "            "
        + " ".join(f"[white on {colour}] [/]{words}" for _b, colour, words in BANDS[3:]),
    )
)

Shade = tuple[str, int]
"""(dose band, whole tens of % of the target), e.g. ("mid", 60)."""


class ZoneCell(Static):
    class Chosen(Message):
        def __init__(self, zone: ZoneCode) -> None:
            super().__init__()
            self.zone = zone

    def __init__(self, zone: ZoneCode) -> None:
        super().__init__(f"{KEY_OF[zone]} {zone.value}", id=f"zone-{zone.value}")
        self.zone = zone

    def on_click(self) -> None:
        self.post_message(self.Chosen(self.zone))


class ScalpMap(Grid):
    def compose(self) -> ComposeResult:
        for row in LAYOUT:
            for zone in row:
                if zone is None:
                    yield Static("", classes="blank")
                else:
                    yield ZoneCell(zone)

    _shown: tuple[object, ...] | None = None

    def show(
        self,
        active: ZoneCode | None,
        done: set[ZoneCode],
        scar: str | None,
        shades: Mapping[ZoneCode, Shade] | None = None,
    ) -> None:
        shades = shades or {}
        state = (active, frozenset(done), scar, tuple(sorted(shades.items())))
        if state == self._shown:  # updating labels costs a layout pass: only on change
            return
        self._shown = state
        for cell in self.query(ZoneCell):
            shade = shades.get(cell.zone)
            cell.set_class(cell.zone is active, "-active")
            cell.set_class(cell.zone in done, "-done")
            for band, _colour, _words in BANDS:
                cell.set_class(shade is not None and shade[0] == band, f"-dose-{band}")
            label = f"{KEY_OF[cell.zone]} {cell.zone.value}"
            if shade is not None:
                label += f" {shade[1]}%" if shade[1] else " <10%"
            elif cell.zone in done:
                label += " ✓"
            if cell.zone is active and scar:
                label += f" +{scar}"
            cell.update(label)
