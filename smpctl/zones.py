"""Scalp zone codes and scar overlays (shared/domain.md, "Scalp zones").

Every pass is recorded against one zone, so the profiles, the journal and the dashboard must
agree on these codes: they live here, at the top of the package, for all of them.
"""

from __future__ import annotations

from enum import StrEnum


class ZoneCode(StrEnum):
    """A scalp zone. The value is the code written in files and records."""

    HL = "HL"
    TMP_L = "TMP_L"
    TMP_R = "TMP_R"
    FRN = "FRN"
    MID = "MID"
    CRN = "CRN"
    PAR_L = "PAR_L"
    PAR_R = "PAR_R"
    OCC = "OCC"
    NAP = "NAP"

    @property
    def label(self) -> str:
        return ZONE_LABELS[self]


ZONE_LABELS: dict[ZoneCode, str] = {
    ZoneCode.HL: "hairline",
    ZoneCode.TMP_L: "left temple",
    ZoneCode.TMP_R: "right temple",
    ZoneCode.FRN: "front",
    ZoneCode.MID: "mid-scalp",
    ZoneCode.CRN: "crown",
    ZoneCode.PAR_L: "left parietal",
    ZoneCode.PAR_R: "right parietal",
    ZoneCode.OCC: "occipital",
    ZoneCode.NAP: "nape",
}


class ScarKind(StrEnum):
    """A scar overlay: not a zone of its own, recorded together with the zone it lies in."""

    SCR_FUT = "SCR_FUT"
    SCR_FUE = "SCR_FUE"
    SCR_OTH = "SCR_OTH"

    @property
    def label(self) -> str:
        return SCAR_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> ScarKind:
        """``SCR_FUE`` or the short ``FUE`` (as a practitioner types it); case-insensitive."""
        code = text.strip().upper()
        if not code.startswith("SCR_"):
            code = "SCR_" + code
        return cls(code)


SCAR_LABELS: dict[ScarKind, str] = {
    ScarKind.SCR_FUT: "strip (FUT) linear scar",
    ScarKind.SCR_FUE: "FUE punch scars",
    ScarKind.SCR_OTH: "other scar",
}
