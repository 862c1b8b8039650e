"""A session's figures per zone -- passes, needle time, strokes, mean speed, depth, flags --
the ones a practitioner compares session to session."""

from __future__ import annotations

from dataclasses import dataclass

from smpctl.journal import PassRecord


@dataclass(frozen=True)
class ZoneFigures:
    passes: int
    needle_s: float
    strokes: int
    mean_hz: float | None
    depth_mm: float | None
    flags: int
    interrupted: int


def zone_figures(passes: list[PassRecord]) -> dict[str, ZoneFigures]:
    """Per zone: the figures a practitioner compares session to session."""
    by_zone: dict[str, list[PassRecord]] = {}
    for p in passes:
        if p.zone is not None:
            by_zone.setdefault(p.zone, []).append(p)
    out = {}
    for zone, items in by_zone.items():
        needle = sum((p.ended_wall - p.started_wall) for p in items if p.ended_wall is not None)
        weighted = [(p.speed_mean_hz, p.samples or 0) for p in items if p.speed_mean_hz]
        total = sum(w for _v, w in weighted)
        mean = sum(v * w for v, w in weighted) / total if total else None
        depths = [p.depth_mm for p in items if p.depth_mm is not None]
        out[zone] = ZoneFigures(
            passes=len(items),
            needle_s=needle,
            strokes=sum(p.strokes or 0 for p in items),
            mean_hz=mean,
            depth_mm=sum(depths) / len(depths) if depths else None,
            flags=sum(1 for p in items if p.flag),
            interrupted=sum(1 for p in items if p.outcome and "interrupted" in p.outcome.value),
        )
    return out
