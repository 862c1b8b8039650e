"""Closing what a crash left open.

A pass is open in the journal from pedal-down until its close is committed. If smpctl dies
in between (crash, kill, power cut), the next writer that opens the journal closes the
pass as interrupted at its last recorded sample, with aggregates from the telemetry that
made it to disk. This is the one place that reads a pass's raw telemetry back.

Its dose is counted again from that telemetry by a fresh ``ContactDetector`` (default
settings): the recorder's detector, which had learnt the pen's baseline over the whole
session, died with the crash, so the count rests on what this one pass teaches (its soft
start in air first). An estimate, but a dose left unknown would let a zone be treated past
its ceiling; the pass's outcome says it was recovered.
"""

from __future__ import annotations

import json
import logging

from smpctl.dose import ContactDetector

from .aggregates import PassAggregates
from .records import Outcome
from .store import JournalStore, Update
from .telemetry_codec import unpack_samples

log = logging.getLogger("smpctl.journal")


def recover_open_passes(store: JournalStore) -> list[str]:
    """Close every pass left open; returns their ids."""
    open_passes = store.query(
        "SELECT uid, started_wall, started_t_us, cartridge_uid FROM passes "
        "WHERE outcome IS NULL ORDER BY rowid"
    )
    ops = []
    for p in open_passes:
        uid = p["uid"]
        aggregates = PassAggregates()
        detector = ContactDetector()
        last_wall = p["started_wall"]
        last_t = p["started_t_us"]
        for chunk in store.iterate(
            "SELECT samples, last_t_us, last_wall, codec, data FROM telemetry_chunks "
            "WHERE pass_uid = ? ORDER BY rowid",
            (uid,),
        ):
            samples = unpack_samples(chunk["data"], chunk["samples"], chunk["codec"])
            aggregates.add(samples)
            detector.feed_all(samples)
            last_wall = chunk["last_wall"]
            last_t = chunk["last_t_us"]
        kinds = [
            e["kind"]
            for e in store.iterate(
                "SELECT kind FROM events WHERE pass_uid = ? ORDER BY rowid", (uid,)
            )
        ]
        ops.append(
            Update(
                "passes",
                uid,
                {
                    **aggregates.columns(),
                    **_dose(store, p["cartridge_uid"], aggregates, detector),
                    "ended_wall": last_wall,
                    "ended_t_us": last_t,
                    "outcome": Outcome.INTERRUPTED_CRASH.value,
                    "outcome_detail": "smpctl ended during the pass; closed at its last "
                    "recorded sample when the journal was next opened",
                    "events": json.dumps(kinds),
                },
            )
        )
    if ops:
        store.write(ops)
        log.warning("closed %d pass(es) left open by a crash as interrupted", len(ops))
    return [p["uid"] for p in open_passes]


def _dose(
    store: JournalStore,
    cartridge_uid: str | None,
    aggregates: PassAggregates,
    detector: ContactDetector,
) -> dict[str, int | None]:
    strokes = aggregates.strokes
    in_skin = None if strokes is None else min(detector.in_skin_strokes, strokes)
    row = (
        store.query_one("SELECT needles FROM cartridges WHERE uid = ?", (cartridge_uid,))
        if cartridge_uid is not None
        else None
    )
    needles = int(row["needles"]) if row is not None and row["needles"] is not None else None
    return {
        "in_skin_strokes": in_skin,
        "needles": needles,
        "punctures": in_skin * needles if in_skin is not None and needles is not None else None,
    }
