"""The journal as the dashboard and tools see it: sessions, what is in the pen, the zone
being treated, flags and notes -- and, for the recorder, passes, events and telemetry."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from smpctl.client import PenIdentity
from smpctl.dose import CartridgeKind, needle_count, validate_area, zone_areas
from smpctl.errors import JournalError, UnknownCartridgeKindError
from smpctl.protocol import Telemetry
from smpctl.zones import ZoneCode

from .integrity import rebuild_derived, verify
from .paths import resolve_journal_path
from .records import (
    AreaSource,
    EventSource,
    Outcome,
    PassRecord,
    SessionKind,
    SessionSummary,
    VerifyReport,
    scar_kind,
    zone_code,
)
from .recovery import recover_open_passes
from .store import (
    ConnectionFactory,
    Derived,
    Insert,
    JournalStore,
    UidFactory,
    Update,
    default_connect,
)
from .store import new_uid as default_uid
from .strip_codec import (
    ALL_NUMBERS,
    STRIP_CODEC,
    STRIP_PASSES_SQL,
    STRIP_UPSERT_SQL,
    ZoneStrip,
    centi_hz,
    strip_of,
)
from .telemetry_codec import unpack_samples
from .trace_codec import TRACE_CODEC, TracePoint, encode_trace

ZoneListener = Callable[[str, str | None], None]
PassPlace = tuple[str | None, str | None, int]
"""Where a pass sits: its session, zone and number."""


class Journal:
    """An open journal. ``Journal.open()`` finds the file (``--journal`` / SMPCTL_JOURNAL /
    the user's data directory), upgrades its schema and closes passes a crash left open.

    Methods that record something return once it is on disk; if the journal cannot write
    they raise ``JournalWriteError`` and keep the record in memory for the next write.
    """

    def __init__(self, store: JournalStore) -> None:
        self.store = store
        self.path = store.path
        self.recovered: tuple[str, ...] = ()
        self._lock = threading.RLock()
        self._session_uid: str | None = None
        self._pass_numbers: dict[str | None, int] = {}
        self.zone: str | None = None
        self.scar: str | None = None
        self.cartridge_uid: str | None = None
        self.pigment_uid: str | None = None
        self.profile_hash: str | None = None
        self.setpoints: dict[str, float] | None = None
        self.current_pass_uid: str | None = None
        self.last_pass_uid: str | None = None
        self._zone_listeners: list[ZoneListener] = []
        self._cartridge_needles: dict[str, int | None] = {}
        self._pass_cartridges: dict[str, str | None] = {}
        self._pass_places: dict[str, PassPlace] = {}
        self._strips: dict[tuple[str, str], ZoneStrip | None] = {}
        """Each zone's strip with its passes' traces, as last written (or queued: a pass
        ending while the one before is still queued builds on it); None: given up."""

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        writer: bool = True,
        connect: ConnectionFactory = default_connect,
        wall: Callable[[], float] = time.time,
        uid: UidFactory = default_uid,
    ) -> Journal:
        """Open for recording (``writer``: exclusive, recovers open passes) or for reading."""
        store = JournalStore(
            resolve_journal_path(path), writer=writer, connect=connect, wall=wall, uid=uid
        )
        journal = cls(store)
        if writer:
            try:
                journal.recovered = tuple(recover_open_passes(store))
            except BaseException:
                store.abandon()
                raise
        return journal

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def now(self) -> float:
        return self.store.wall()

    # ------------------------------------------------------------------ who and what

    def client(self, pseudonym: str, display_name: str | None = None) -> str:
        """The client's id for ``pseudonym``, created on first use. A display name is
        stored only if the user enters one."""
        if not pseudonym.strip():
            raise JournalError("a client needs a pseudonym (e.g. C-0042)")
        with self._lock:
            known = self._client_uid(pseudonym)
            if known is not None:
                if display_name is not None:
                    self.store.write([Update("clients", known, {"display_name": display_name})])
                return known
            uid = self.store.new_uid()
            self.store.write(
                [
                    Insert(
                        "clients",
                        {
                            "uid": uid,
                            "pseudonym": pseudonym,
                            "display_name": display_name,
                            "created_wall": self.now,
                        },
                    )
                ]
            )
            return uid

    def practitioner(self, name: str) -> str:
        with self._lock:
            row = self.store.query_one(
                "SELECT uid FROM practitioners WHERE name = ? ORDER BY rowid LIMIT 1", (name,)
            )
            if row is not None:
                return str(row["uid"])
            uid = self.store.new_uid()
            self.store.write(
                [Insert("practitioners", {"uid": uid, "name": name, "created_wall": self.now})]
            )
            return uid

    def register_pen(
        self, identity: PenIdentity, calibration: Mapping[str, object] | None = None
    ) -> str:
        """The pen's record; a new one whenever its firmware or calibration changed."""
        cal = json.dumps(dict(calibration or {}), sort_keys=True, default=str)
        with self._lock:
            row = self.store.query_one(
                "SELECT uid FROM pens WHERE serial = ? AND model = ? AND firmware = ? "
                "AND calibration = ? ORDER BY rowid DESC LIMIT 1",
                (identity.serial, identity.model, identity.firmware, cal),
            )
            if row is not None:
                return str(row["uid"])
            uid = self.store.new_uid()
            self.store.write(
                [
                    Insert(
                        "pens",
                        {
                            "uid": uid,
                            "serial": identity.serial,
                            "model": identity.model,
                            "firmware": identity.firmware,
                            "simulated": int(identity.simulated),
                            "calibration": cal,
                            "registered_wall": self.now,
                        },
                    )
                ]
            )
            return uid

    # ------------------------------------------------------------------ sessions

    @property
    def session_uid(self) -> str | None:
        return self._session_uid

    def open_session(
        self,
        client: str,
        session_number: int,
        practitioner: str | None = None,
        *,
        consent: bool,
        simulated: bool,
        pen_uid: str | None = None,
        notes: str | None = None,
        display_name: str | None = None,
        kind: str = SessionKind.SMP.value,
        areas: Mapping[str, float] | None = None,
    ) -> str:
        """Start a session for the client with pseudonym ``client``; returns its id.

        ``kind`` is ``smp`` or ``microneedling``. Every zone's area in force is kept with
        the session (so a later re-measurement never rewrites this session's dose): the
        area entered now (``areas``), else the client's newest measurement, else the
        default. Everything is checked before anything is written."""
        if self._session_uid is not None:
            raise JournalError("a session is already open: close it first")
        if session_number < 1:
            raise JournalError("session numbers start at 1")
        session_kind = SessionKind.parse(kind)
        entered = _entered_areas(areas)
        with self._lock:
            in_force = self._areas_in_force(self._client_uid(client), entered)
            client_uid = self.client(client, display_name)
            practitioner_uid = self.practitioner(practitioner) if practitioner else None
            uid = self.store.new_uid()
            now = self.now
            self.store.write(
                [
                    Insert(
                        "sessions",
                        {
                            "uid": uid,
                            "client_uid": client_uid,
                            "session_number": session_number,
                            "practitioner_uid": practitioner_uid,
                            "pen_uid": pen_uid,
                            "consent": int(consent),
                            "simulated": int(simulated),
                            "notes": notes,
                            "started_wall": now,
                            "kind": session_kind.value,
                        },
                    ),
                    *(
                        Insert(
                            "session_areas",
                            {
                                "uid": self.store.new_uid(),
                                "session_uid": uid,
                                "zone": zone.value,
                                "area_cm2": area,
                                "source": source.value,
                                "recorded_wall": now,
                            },
                        )
                        for zone, (area, source) in in_force.items()
                    ),
                ]
            )
            self._session_uid = uid
            self._pass_numbers[uid] = 0
            self.cartridge_uid = self.pigment_uid = None
            self.last_pass_uid = None
        return uid

    def _client_uid(self, pseudonym: str) -> str | None:
        """The client's id if the journal knows them (``client`` creates one)."""
        row = self.store.query_one(
            "SELECT uid FROM clients WHERE pseudonym = ? ORDER BY rowid LIMIT 1", (pseudonym,)
        )
        return None if row is None else str(row["uid"])

    def _areas_in_force(
        self, client_uid: str | None, entered: Mapping[ZoneCode, float]
    ) -> dict[ZoneCode, tuple[float, AreaSource]]:
        """Every zone's area and where it came from: entered, else the client's newest
        measurement (by day measured, then when recorded), else the default. The whole set
        is checked like a measurement, so a bad stored area stops here, not in a dose."""
        measured: dict[ZoneCode, float] = {}
        if client_uid is not None:
            for row in self.store.query(
                "SELECT zone, area_cm2 FROM client_areas WHERE client_uid = ? "
                "ORDER BY measured_day, recorded_wall, rowid",
                (client_uid,),
            ):
                if row["zone"] in _ZONE_VALUES:
                    measured[ZoneCode(row["zone"])] = float(row["area_cm2"])
        combined: dict[ZoneCode | str, float] = {}
        for zone, area in (*measured.items(), *entered.items()):
            combined[zone] = area
        areas = zone_areas(combined)
        return {
            zone: (
                area,
                AreaSource.ENTERED
                if zone in entered
                else AreaSource.MEASURED
                if zone in measured
                else AreaSource.DEFAULT,
            )
            for zone, area in areas.items()
        }

    def close_session(self, notes: str | None = None) -> None:
        with self._lock:
            uid = self._session_uid
            if uid is None:
                raise JournalError("no session is open")
            changes: dict[str, object] = {"ended_wall": self.now}
            if notes is not None:
                changes["notes"] = notes
            self.store.write([Update("sessions", uid, changes)])
            self._session_uid = None
            for key in [k for k in self._strips if k[0] == uid]:
                del self._strips[key]

    def register_cartridge(
        self,
        needle: str,
        lot: str,
        expiry: dt.date | str,
        *,
        kind: str | None = None,
        needles: int | None = None,
    ) -> str:
        """The cartridge now in the pen (needle e.g. ``1RL 0.20``, lot, expiry date).

        ``kind`` (1RL, 3RL, 12-pin, 36-pin, nano...) fixes its needle count, which every
        puncture count of its passes multiplies by; without it the kind is the first word
        of ``needle``. ``needles`` as read off the box must agree with the kind. Nothing is
        written unless all of it checks."""
        day = expiry if isinstance(expiry, str) else expiry.isoformat()
        dt.date.fromisoformat(day)
        cartridge = _cartridge_kind(needle, kind)
        count = needle_count(cartridge, needles)
        with self._lock:
            uid = self.store.new_uid()
            self.store.write(
                [
                    Insert(
                        "cartridges",
                        {
                            "uid": uid,
                            "session_uid": self._session_uid,
                            "needle": needle,
                            "lot": lot,
                            "expiry": day,
                            "registered_wall": self.now,
                            "kind": cartridge.value,
                            "needles": count,
                        },
                    )
                ]
            )
            self.cartridge_uid = uid
            self._cartridge_needles[uid] = count
            return uid

    def cartridge_needles(self, cartridge_uid: str | None) -> int | None:
        """The needle count of a registered cartridge (None: none registered, or one
        registered before counts were kept). Read once per cartridge."""
        if cartridge_uid is None:
            return None
        with self._lock:
            if cartridge_uid not in self._cartridge_needles:
                row = self.store.query_one(
                    "SELECT needles FROM cartridges WHERE uid = ?", (cartridge_uid,)
                )
                value = row["needles"] if row is not None else None
                self._cartridge_needles[cartridge_uid] = int(value) if value is not None else None
            return self._cartridge_needles[cartridge_uid]

    def register_pigment(self, shade: str, dilution: str, lot: str) -> str:
        with self._lock:
            uid = self.store.new_uid()
            self.store.write(
                [
                    Insert(
                        "pigments",
                        {
                            "uid": uid,
                            "session_uid": self._session_uid,
                            "shade": shade,
                            "dilution": dilution,
                            "lot": lot,
                            "registered_wall": self.now,
                        },
                    )
                ]
            )
            self.pigment_uid = uid
            return uid

    def set_zone(self, zone: object, scar: object | None = None) -> None:
        """The zone (and scar overlay) being treated. During a pass this splits it: the
        recorder closes the part done and opens the rest against the new zone."""
        code, kind = zone_code(zone), scar_kind(scar)
        with self._lock:
            if (code, kind) == (self.zone, self.scar):
                return
            self.zone, self.scar = code, kind
            listeners = list(self._zone_listeners)
        for listener in listeners:
            listener(code, kind)

    def set_profile(self, profile_hash: str, setpoints: Mapping[str, float]) -> None:
        """The profile now applied: recorded with every pass that starts after this."""
        with self._lock:
            self.profile_hash = profile_hash
            self.setpoints = dict(setpoints)

    def add_zone_listener(self, listener: ZoneListener) -> Callable[[], None]:
        self._zone_listeners.append(listener)
        return lambda: self._zone_listeners.remove(listener)

    def flag_pass(
        self, flag: str | None = None, note: str | None = None, pass_uid: str | None = None
    ) -> str:
        """Flag and/or annotate a pass: the one running, else the last one."""
        with self._lock:
            uid = pass_uid or self.current_pass_uid or self.last_pass_uid
            if uid is None:
                raise JournalError("no pass to flag yet: press the pedal for a pass first")
            known = (self.current_pass_uid, self.last_pass_uid)
            if uid not in known and not self.store.query_one(
                "SELECT 1 FROM passes WHERE uid = ?", (uid,)
            ):
                raise JournalError(f"no pass {uid} in this journal")
            changes: dict[str, object] = {}
            if flag is not None:
                changes["flag"] = flag
            if note is not None:
                changes["note"] = note
            if changes:
                self.store.write([Update("passes", uid, changes)])
            return uid

    # ------------------------------------------------------------------ for the recorder

    def begin_pass(
        self,
        *,
        started_t_us: int | None,
        wall: float,
        pen_uid: str | None,
        continues_uid: str | None = None,
        uid: str | None = None,
    ) -> str:
        """Open a pass against the current zone, cartridge and pigment; on disk on return.
        If the write fails the pass is still open (queued): pass ``uid`` to know it."""
        with self._lock:
            session = self._session_uid
            number = self._pass_numbers.get(session)
            if number is None:
                row = self.store.query_one(
                    "SELECT COUNT(*) AS n FROM passes WHERE session_uid IS ?", (session,)
                )
                number = int(row["n"]) if row else 0
            number += 1
            self._pass_numbers[session] = number
            uid = uid or self.store.new_uid()
            self.current_pass_uid = uid
            self._pass_cartridges[uid] = self.cartridge_uid
            self._pass_places[uid] = (session, self.zone, number)
            self.store.write(
                [
                    Insert(
                        "passes",
                        {
                            "uid": uid,
                            "session_uid": session,
                            "pen_uid": pen_uid,
                            "number": number,
                            "zone": self.zone,
                            "scar": self.scar,
                            "started_wall": wall,
                            "started_t_us": started_t_us,
                            "continues_uid": continues_uid,
                            "cartridge_uid": self.cartridge_uid,
                            "pigment_uid": self.pigment_uid,
                            "profile_hash": self.profile_hash,
                            "setpoints": json.dumps(self.setpoints) if self.setpoints else None,
                        },
                    )
                ]
            )
            return uid

    def end_pass(
        self,
        uid: str,
        *,
        outcome: Outcome,
        detail: str | None,
        ended_t_us: int | None,
        wall: float,
        aggregates: Mapping[str, object],
        events: list[str],
        trace: Sequence[TracePoint] = (),
        in_skin_strokes: int | None = None,
    ) -> None:
        """Close a pass with its aggregates, downsampled speed trace and dose, after its
        staged telemetry; on disk on return. The trace also joins its zone's strip (the
        report's picture of the zone), in the same transaction.

        The dose columns: ``in_skin_strokes`` (or the aggregates' own), the needles of the
        cartridge in the pen when the pass began, and their product, the punctures."""
        with self._lock:
            if self.current_pass_uid == uid:
                self.current_pass_uid = None
            self.last_pass_uid = uid
            place = self._place(uid)
            self.store.write(
                [
                    *self._trace_ops(uid, place, trace),
                    Update(
                        "passes",
                        uid,
                        {
                            **aggregates,
                            **self._dose_columns(uid, aggregates, in_skin_strokes),
                            "ended_wall": wall,
                            "ended_t_us": ended_t_us,
                            "outcome": outcome.value,
                            "outcome_detail": detail,
                            "events": json.dumps(events),
                        },
                    ),
                    *self._strip_ops(place, trace, aggregates.get("samples")),
                ]
            )
            self._pass_cartridges.pop(uid, None)
            self._pass_places.pop(uid, None)

    def _place(self, pass_uid: str) -> PassPlace | None:
        if pass_uid in self._pass_places:
            return self._pass_places[pass_uid]
        row = self.store.query_one(  # a pass begun by another Journal object
            "SELECT session_uid, zone, number FROM passes WHERE uid = ?", (pass_uid,)
        )
        return None if row is None else (row["session_uid"], row["zone"], int(row["number"]))

    def _strip_ops(
        self, place: PassPlace | None, trace: Sequence[TracePoint], samples: object
    ) -> list[Derived]:
        """The zone's strip with this pass added, as drawn (``zone_strips``, a derived
        table). None for a zone with a pass that recorded samples but has no trace (closed
        by crash recovery, recorded before traces were kept): the report draws that zone
        from the stored traces and telemetry, as it would anyway."""
        if place is None:
            return []
        session, zone, number = place
        if session is None or zone is None:
            return []
        key = (session, zone)
        strip = self._strips[key] if key in self._strips else self._stored_strip(session, zone)
        last = strip.last_number if strip is not None else None
        if strip is None or (last is not None and number <= last) or (samples and not trace):
            # given up; or passes ending out of order (never by one recorder), or a trace
            # missing: no strip, rather than a wrong one
            self._strips[key] = None
            return [Derived("DELETE FROM zone_strips WHERE session_uid = ? AND zone = ?", key)]
        strip.add(
            number,
            centi_hz(p.speed_hz * 100 for p in trace),
            centi_hz(p.setpoint_hz * 100 for p in trace),
        )
        self._strips[key] = strip
        return [
            Derived(
                STRIP_UPSERT_SQL,
                (session, zone, strip.passes, number, STRIP_CODEC, strip.view().encode()),
            )
        ]

    def _stored_strip(self, session_uid: str, zone: str) -> ZoneStrip | None:
        """The zone's strip so far, from its closed passes' stored traces (the first pass
        of a zone in a session finds none; after a restart, those recorded before)."""
        return strip_of(self.store.rows(STRIP_PASSES_SQL, (session_uid, zone, ALL_NUMBERS)))

    def _dose_columns(
        self, pass_uid: str, aggregates: Mapping[str, object], in_skin_strokes: int | None
    ) -> dict[str, int | None]:
        if in_skin_strokes is None:
            given = aggregates.get("in_skin_strokes")
            in_skin_strokes = given if isinstance(given, int) else None
        if pass_uid in self._pass_cartridges:
            cartridge = self._pass_cartridges[pass_uid]
        else:  # a pass begun by another Journal object (or before a restart)
            row = self.store.query_one(
                "SELECT cartridge_uid FROM passes WHERE uid = ?", (pass_uid,)
            )
            cartridge = row["cartridge_uid"] if row is not None else None
        needles = self.cartridge_needles(cartridge)
        return {
            "in_skin_strokes": in_skin_strokes,
            "needles": needles,
            "punctures": (
                in_skin_strokes * needles
                if in_skin_strokes is not None and needles is not None
                else None
            ),
        }

    def _trace_ops(
        self, pass_uid: str, place: PassPlace | None, trace: Sequence[TracePoint]
    ) -> list[Insert]:
        if not trace:
            return []
        return [
            Insert(
                "pass_traces",
                {
                    "uid": self.store.new_uid(),
                    "pass_uid": pass_uid,
                    "session_uid": place[0] if place is not None else self._session_uid,
                    "points": len(trace),
                    "codec": TRACE_CODEC,
                    "data": encode_trace(trace),
                    "recorded_wall": self.now,
                },
            )
        ]

    def record_event(
        self,
        *,
        source: EventSource,
        kind: str,
        wall: float,
        pass_uid: str | None,
        code: int | None = None,
        value: int | None = None,
        t_us: int | None = None,
        message: str | None = None,
        data: Mapping[str, Any] | None = None,
        uid: str | None = None,
    ) -> str:
        """Record an event; on disk on return."""
        uid = uid or self.store.new_uid()
        self.store.write(
            [
                Insert(
                    "events",
                    {
                        "uid": uid,
                        "session_uid": self._session_uid,
                        "pass_uid": pass_uid,
                        "source": source.value,
                        "kind": kind,
                        "code": code,
                        "value": value,
                        "t_us": t_us,
                        "wall": wall,
                        "message": message,
                        "data": json.dumps(dict(data), default=str) if data else None,
                    },
                )
            ]
        )
        return uid

    def stage_samples(self, pass_uid: str, samples: list[Telemetry], wall: float) -> None:
        self.store.stage_samples(pass_uid, samples, wall)

    def commit(self) -> None:
        """Group-commit staged telemetry (and anything queued while the disk was full)."""
        self.store.write()

    # ------------------------------------------------------------------ reading

    def sessions(self) -> list[SessionSummary]:
        rows = self.store.query(
            _SESSION_SELECT + " GROUP BY s.uid ORDER BY s.started_wall, s.rowid"
        )
        return [_session_summary(r) for r in rows]

    def session(self, uid: str) -> SessionSummary | None:
        """One session's summary; its cost is that session's passes, not the journal's."""
        row = self.store.query_one(_SESSION_SELECT + " WHERE s.uid = ? GROUP BY s.uid", (uid,))
        return _session_summary(row) if row is not None else None

    def passes(self, session_uid: str | None = None) -> list[PassRecord]:
        if session_uid is None:
            rows = self.store.query("SELECT * FROM passes ORDER BY rowid")
        else:
            rows = self.store.query(
                "SELECT * FROM passes WHERE session_uid = ? ORDER BY rowid", (session_uid,)
            )
        return [_pass_record(r) for r in rows]

    def pass_record(self, uid: str) -> PassRecord:
        row = self.store.query_one("SELECT * FROM passes WHERE uid = ?", (uid,))
        if row is None:
            raise JournalError(f"no pass {uid} in the journal")
        return _pass_record(row)

    def pass_samples(self, pass_uid: str) -> list[Telemetry]:
        """The raw telemetry of a pass, as recorded."""
        samples: list[Telemetry] = []
        for chunk in self.store.iterate(
            "SELECT samples, codec, data FROM telemetry_chunks WHERE pass_uid = ? ORDER BY rowid",
            (pass_uid,),
        ):
            samples.extend(unpack_samples(chunk["data"], chunk["samples"], chunk["codec"]))
        return samples

    def events(self, *, pass_uid: str | None = None) -> list[dict[str, Any]]:
        if pass_uid is None:
            return self.store.query("SELECT * FROM events ORDER BY rowid")
        return self.store.query(
            "SELECT * FROM events WHERE pass_uid = ? ORDER BY rowid", (pass_uid,)
        )

    def verify(self) -> VerifyReport:
        return verify(self.store)

    def rebuild_derived(self) -> None:
        """Recompute every derived table from the records (``logs verify --rebuild``)."""
        rebuild_derived(self.store)


def _pass_record(r: Mapping[str, Any]) -> PassRecord:
    return PassRecord(
        uid=r["uid"],
        session_uid=r["session_uid"],
        number=r["number"],
        zone=r["zone"],
        scar=r["scar"],
        started_wall=r["started_wall"],
        started_t_us=r["started_t_us"],
        ended_wall=r["ended_wall"],
        ended_t_us=r["ended_t_us"],
        outcome=Outcome(r["outcome"]) if r["outcome"] else None,
        continues_uid=r["continues_uid"],
        cartridge_uid=r["cartridge_uid"],
        pigment_uid=r["pigment_uid"],
        setpoint_hz=r["setpoint_hz"],
        depth_mm=r["depth_mm"],
        samples=r["samples"],
        speed_mean_hz=r["speed_mean_hz"],
        speed_min_hz=r["speed_min_hz"],
        speed_max_hz=r["speed_max_hz"],
        strokes=r["strokes"],
        peak_current_a=r["peak_current_a"],
        max_temp_c=r["max_temp_c"],
        events=tuple(json.loads(r["events"])) if r["events"] else (),
        flag=r["flag"],
        note=r["note"],
        profile_hash=r.get("profile_hash"),
        setpoints=r.get("setpoints"),
        in_skin_strokes=r.get("in_skin_strokes"),
        needles=r.get("needles"),
        punctures=r.get("punctures"),
    )


def journal_path(option: str | os.PathLike[str] | None = None) -> Path:
    return resolve_journal_path(option)


_SESSION_SELECT = """SELECT s.uid, c.pseudonym, s.session_number, p.name AS practitioner,
       s.started_wall, s.ended_wall, s.simulated, s.consent,
       COALESCE(s.kind, 'smp') AS kind,
       COALESCE(SUM(z.passes), 0) AS passes,
       SUM(z.interrupted) AS interrupted,
       GROUP_CONCAT(z.zone) AS zones,
       COALESCE(SUM(z.strokes), 0) AS strokes
FROM sessions s
LEFT JOIN clients c ON c.uid = s.client_uid
LEFT JOIN practitioners p ON p.uid = s.practitioner_uid
LEFT JOIN zone_totals z ON z.session_uid = s.uid"""
"""A session's passes, interrupted passes, zones and strokes from its zone totals (one row
per zone, kept by the journal's triggers), not from its pass rows."""


def _session_summary(r: Mapping[str, Any]) -> SessionSummary:
    return SessionSummary(
        uid=r["uid"],
        client=r["pseudonym"] or "?",
        session_number=r["session_number"],
        practitioner=r["practitioner"],
        started_wall=r["started_wall"],
        ended_wall=r["ended_wall"],
        simulated=bool(r["simulated"]),
        consent=bool(r["consent"]),
        passes=r["passes"],
        interrupted=r["interrupted"] or 0,
        zones=tuple(sorted((r["zones"] or "").split(","))) if r["zones"] else (),
        strokes=r["strokes"],
        kind=r["kind"],
    )


_ZONE_VALUES = frozenset(z.value for z in ZoneCode)


def _entered_areas(areas: Mapping[str, float] | None) -> dict[ZoneCode, float]:
    """Areas entered for a session, each checked (UnknownZoneError, ZoneAreaError)."""
    entered: dict[ZoneCode, float] = {}
    for zone, area in (areas or {}).items():
        value = validate_area(zone, area)
        entered[zone if isinstance(zone, ZoneCode) else ZoneCode(zone.strip().upper())] = value
    return entered


def _cartridge_kind(needle: str, kind: str | None) -> CartridgeKind:
    """``kind`` parsed, else the first word of the needle text (``3RL 0.25`` -> 3RL)."""
    if kind is not None:
        return CartridgeKind.parse(kind)
    words = needle.split()
    try:
        return CartridgeKind.parse(words[0]) if words else CartridgeKind.parse(needle)
    except UnknownCartridgeKindError:
        raise UnknownCartridgeKindError(needle, [k.value for k in CartridgeKind]) from None
