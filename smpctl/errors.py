"""Every error smpctl raises, in one tree.

Each derives from ``SmpctlError`` and, where it fits, from the matching builtin, so callers
can catch ``OSError`` or ``TimeoutError`` as they already do. Messages say what to do next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SmpctlError(Exception):
    """Base of every smpctl error."""


# ------------------------------------------------------------------ link / port


class LinkError(SmpctlError, OSError):
    """The serial link to the pen cannot be used."""


class PortNotFoundError(LinkError):
    def __init__(self, port: str, available: list[str]) -> None:
        self.port = port
        self.available = available
        listed = ", ".join(available) if available else "none"
        super().__init__(
            f"no serial port {port!r}. Ports found: {listed}. "
            "Check the cable, or run `smpctl devices`; use sim:// for the simulated pen."
        )


class PortBusyError(LinkError):
    def __init__(self, port: str, holder: str | None = None) -> None:
        self.port = port
        self.holder = holder
        who = f" (held by {holder})" if holder else ""
        super().__init__(
            f"port {port!r} is busy{who}. Close the other program using the pen "
            "(another smpctl, a serial terminal, ModemManager) and try again."
        )


class PortPermissionError(LinkError, PermissionError):
    def __init__(self, port: str) -> None:
        self.port = port
        super().__init__(
            f"permission denied opening {port!r}. Add yourself to the 'dialout' group "
            "(`sudo usermod -aG dialout $USER`, then log in again) or install the udev rule "
            "from tools/udev/ (`sudo cp tools/udev/99-smpctl.rules /etc/udev/rules.d/`)."
        )


class LinkLostError(LinkError):
    """The pen stopped answering or its port vanished mid-session."""


# ------------------------------------------------------------------ protocol / pen


class PenProtocolError(SmpctlError):
    """The pen said something this host cannot accept."""


class VersionMismatchError(PenProtocolError):
    def __init__(self, host: str, pen: str) -> None:
        self.host_version = host
        self.pen_version = pen
        super().__init__(
            f"protocol mismatch: this smpctl speaks {host}, the pen speaks {pen}. "
            "Major versions must match: update "
            + ("smpctl" if pen.split(".")[0] > host.split(".")[0] else "the pen's firmware")
            + " (tools/flash_firmware.py for the pen)."
        )


class WrongPenError(PenProtocolError):
    """A different pen appeared where the session's pen was."""


class PenTimeoutError(SmpctlError, TimeoutError):
    """The pen did not answer a command after every retry."""


class NakError(SmpctlError):
    """The pen refused a command; ``code`` is its NAK code."""

    def __init__(self, command: str, code: int, reason: str) -> None:
        self.command = command
        self.code = code
        self.reason = reason
        super().__init__(f"pen refused {command}: {reason} (error {code})")


class LimitViolationError(SmpctlError, ValueError):
    """A setpoint outside the limits in force was refused before it reached the pen."""


class SimulatorError(SmpctlError):
    """The simulated pen was asked for something it cannot do (bad URL option, …)."""


class NotArmedError(NakError):
    """RUN before ARM."""


class EStopLatchedError(NakError):
    """Emergency stop latched: re-arm first."""


class FaultActiveError(NakError):
    """A stop fault's cause is still present."""


class BatteryLowError(NakError):
    """Battery below 15 %: the pen refuses to arm or run."""


class PenBusyError(NakError):
    """Not allowed while the motor runs."""


class NoHandshakeError(NakError):
    """The pen has not seen HELLO (it rebooted?)."""


class ReconnectRefusedError(WrongPenError):
    """After a link loss, a pen with another serial number answered on the port."""


# ------------------------------------------------------------------ journal


class JournalError(SmpctlError):
    """The session journal cannot be used as asked."""


class JournalWriteError(JournalError, OSError):
    """The journal cannot write. Records not yet written are kept in memory and written
    once it can; until then the needle must not run."""

    reason = "cannot be written"
    advice = "Check the disk holding it, or start smpctl with --journal PATH on another disk."

    def __init__(self, path: str, *, kept: int = 0) -> None:
        self.path = path
        self.kept = kept
        text = f"the session journal {path} {self.reason}. {self.advice}"
        if kept:
            text += (
                f" {kept} record(s) not yet written are kept in memory and will be written "
                "as soon as the journal can write again; the needle cannot run until then."
            )
        super().__init__(text)


class JournalFullError(JournalWriteError):
    reason = "cannot be written: the disk is full"
    advice = (
        "Free space on the disk holding it (empty the trash, move large files away), then continue."
    )


class JournalReadOnlyError(JournalWriteError, PermissionError):
    reason = "cannot be written: the file or its disk is read-only"
    advice = (
        "Make the file writable by you (or remount the disk read-write), or start smpctl "
        "with --journal PATH on a writable disk."
    )


class JournalLockedError(JournalWriteError):
    reason = "is locked by another program"
    advice = (
        "Close the other program using it (another smpctl recording a session, a database "
        "browser, a backup tool holding it open), then try again."
    )


class JournalSchemaError(JournalError):
    """The journal was written by a newer smpctl, or its schema cannot be read."""


class JournalIntegrityError(JournalError):
    """``smpctl logs verify`` found edited, deleted or unrecorded records."""


# ------------------------------------------------------------------ profiles and settings


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


MISSING: object = _Missing()
"""The ``value`` of a problem whose key is absent."""


def toml_value(value: object) -> str:
    """A value as it would be written in a TOML file, so a message quotes the file."""
    if value is MISSING:
        return "(missing)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class ProfileProblem:
    """One thing wrong in a profile or settings file: where, what, and what is allowed."""

    file: str
    key_path: str
    """Dotted path to the key, e.g. ``zones.HL.depth_mm``; empty for the whole file."""
    value: object
    allowed: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key_path}" if self.key_path else self.file
        if self.value is MISSING:
            return f"{where}: missing; {self.allowed}"
        if not self.key_path:
            return f"{where}: {self.allowed}"
        return f"{where} = {toml_value(self.value)}: {self.allowed}"


class ProfileError(SmpctlError, ValueError):
    """A profile (or settings) file cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[ProfileProblem], summary: str | None = None) -> None:
        self.problems = list(problems)
        head = summary or (
            "a profile file is not valid"
            if len(self.problems) == 1
            else f"{len(self.problems)} problems in profile files"
        )
        lines = "".join(f"\n  {p}" for p in self.problems)
        super().__init__(f"{head}; fix the file and run `smpctl profiles check`:{lines}")


class ProfileNotFoundError(ProfileError, FileNotFoundError):
    """No file where a profile (or an ``extends``) points."""

    def __init__(self, problem: ProfileProblem) -> None:
        self.problems = [problem]
        SmpctlError.__init__(self, str(problem))


class ProfileSyntaxError(ProfileError):
    """The file is not TOML: ``line`` and ``column`` say where reading stopped."""

    def __init__(self, file: str, line: int | None, column: int | None, reason: str) -> None:
        self.line = line
        self.column = column
        where = f"line {line}, column {column}" if line is not None else "somewhere"
        problem = ProfileProblem(
            file, "", None, f"TOML syntax error at {where}: {reason}. Fix the syntax there."
        )
        self.problems = [problem]
        SmpctlError.__init__(self, str(problem))


class ProfileCycleError(ProfileError):
    """Profiles extend each other in a circle, so none of them can be resolved."""

    def __init__(self, file: str, chain: Sequence[str]) -> None:
        self.chain = list(chain)
        problem = ProfileProblem(
            file,
            "extends",
            self.chain[-1] if self.chain else None,
            "profiles extend each other in a cycle ("
            + " -> ".join(self.chain)
            + "); make one of them stop extending the other",
        )
        self.problems = [problem]
        SmpctlError.__init__(self, str(problem))


class ClinicSettingsError(ProfileError):
    """The clinic settings file is invalid (it may only tighten the hard limits)."""

    def __init__(self, problems: Sequence[ProfileProblem]) -> None:
        super().__init__(problems, "the clinic settings file is not valid")


class NeedleNotAcceptedError(ProfileError):
    """The profile asks for a needle cartridge the pen (per the clinic settings) cannot take."""

    def __init__(self, problems: Sequence[ProfileProblem]) -> None:
        self.problems = list(problems)
        lines = "".join(f"\n  {p}" for p in self.problems)
        SmpctlError.__init__(
            self,
            "the profile names a needle this pen does not accept; choose a profile for this "
            "pen's cartridges, or list the cartridge for the pen in the clinic settings "
            f"(clinic.toml [pens.SERIAL] accepted_needles):{lines}",
        )


class UnknownZoneError(SmpctlError, ValueError):
    """A zone code, scar kind, skin condition or session that a profile does not define."""


class SetpointOutsideLimitsError(LimitViolationError):
    """A resolved setpoint lies outside the limits in force; nothing was sent."""

    def __init__(self, field: str, value: float, limit: str, came_from: str) -> None:
        self.field = field
        self.value = value
        self.limit = limit
        self.came_from = came_from
        super().__init__(
            f"{field} {value:g} is outside the limits in force: {limit}. It came from "
            f"{came_from}. Nothing was sent to the pen; choose other modifiers or adjust the "
            "profile."
        )


class ProfileApplyError(SmpctlError):
    """Applying a profile failed part way; the pen was stopped and its setpoints restored."""

    def __init__(self, field: str, value: object, reason: str, outcome: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        self.outcome = outcome
        super().__init__(f"applying the profile failed at {field} = {value}: {reason}. {outcome}")


# ------------------------------------------------------------------ USB and firmware updates


class UsbError(SmpctlError, OSError):
    """A USB device (a pen or its bootloader) cannot be reached as asked."""


class UsbUnavailableError(UsbError):
    """No libusb backend: this machine cannot talk USB directly (serial ports still work)."""

    def __init__(self) -> None:
        super().__init__(
            "no USB backend (libusb) is available, so pens cannot be listed or flashed over "
            "USB. Install libusb 1.0 (Debian/Ubuntu: `sudo apt install libusb-1.0-0`; macOS: "
            "`brew install libusb`; Windows: the libusb-1.0 DLL next to Python); serial ports "
            "keep working without it."
        )


class UsbPermissionError(UsbError, PermissionError):
    """The device exists but this user may not open it: the udev rule is missing."""

    def __init__(self, device: str, advice: str) -> None:
        self.device = device
        self.advice = advice
        super().__init__(f"permission denied opening USB device {device}. {advice}")


class UsbDeviceGoneError(UsbError):
    """The device vanished mid-operation (cable pulled, pen reset)."""


class PenNotFoundError(UsbError):
    """No pen or bootloader where one was expected."""


class DfuError(UsbError):
    """The DFU bootloader refused a request or reported an error status."""


class FirmwareImageError(SmpctlError, ValueError):
    """A firmware image file cannot be used: damaged, truncated or not for this pen."""


class ImageSignatureError(FirmwareImageError):
    """The image is not signed by a key this smpctl trusts for this pen."""


class WrongModelError(FirmwareImageError):
    """The image is built for another pen model."""


class DowngradeRefusedError(FirmwareImageError):
    """The image is older than the firmware installed (allowed with --allow-downgrade)."""


class FirmwareVerifyError(UsbError):
    """What the bootloader holds differs from the image written."""


class SettingsLostError(SmpctlError):
    """Configuration or calibration differ after a firmware update."""


# ------------------------------------------------------------------ review


class ReviewError(SmpctlError):
    """A review command (``smpctl logs show|compare|pass|export|report``) cannot run as asked."""


class UnknownRecordError(ReviewError, LookupError):
    """No session, client or pass matches the id given; ``matches`` are the closest ones."""

    def __init__(self, what: str, given: str, matches: Sequence[str], hint: str = "") -> None:
        self.what = what
        self.given = given
        self.matches = list(matches)
        if self.matches:
            listed = "; ".join(self.matches)
            text = f"no {what} {given!r} in the journal. Closest matches: {listed}"
        else:
            text = f"no {what} {given!r} in the journal, and nothing close to it"
        super().__init__(text + (f". {hint}" if hint else "."))


class AmbiguousIdError(UnknownRecordError):
    """A prefix that starts more than one id: type more of it."""

    def __init__(self, what: str, given: str, matches: Sequence[str]) -> None:
        self.what = what
        self.given = given
        self.matches = list(matches)
        ReviewError.__init__(
            self,
            f"{given!r} starts more than one {what} id: {'; '.join(self.matches)}. "
            "Type more of the id.",
        )


class UnknownServerRecordError(UnknownRecordError):
    """No session, client or pass on the clinic server matches the id given (``logs ...
    --server``); ``matches`` are the closest ones among every chair's records."""

    def __init__(
        self, what: str, given: str, matches: Sequence[str], server: str, hint: str = ""
    ) -> None:
        self.what = what
        self.given = given
        self.matches = list(matches)
        self.server = server
        where = f"on the clinic server {server}"
        if self.matches:
            text = f"no {what} {given!r} {where}. Closest matches: {'; '.join(self.matches)}"
        else:
            text = f"no {what} {given!r} {where}, and nothing close to it"
        ReviewError.__init__(self, text + (f". {hint}" if hint else "."))


class JournalMissingError(JournalError, FileNotFoundError):
    """There is no journal where the review looked (review never creates one)."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"no session journal at {path}. Pass --journal PATH (or set SMPCTL_JOURNAL) to "
            "the journal the dashboard recorded."
        )


class JournalTooNewError(JournalSchemaError):
    """The journal's schema is newer than this smpctl reads; nothing was changed."""

    def __init__(self, path: str, found: int, readable: int, installed: str, wanted: str) -> None:
        self.path = path
        self.found = found
        self.readable = readable
        super().__init__(
            f"the journal {path} was written by a newer smpctl (journal schema {found}; this "
            f"smpctl {installed} reads schemas up to {readable}). Install {wanted} "
            "(`pip install --upgrade smpctl`) to review it. The journal was not changed."
        )


class OutputPathError(ReviewError, OSError):
    """The output file cannot be written; said before any work is done."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(
            f"cannot write {path}: {reason}. Choose another file with -o (a directory you "
            "can write to)."
        )


# ------------------------------------------------------------------ technician tools


class CalibrationError(SmpctlError):
    """A calibration or burn-in could not be carried out (a failed calibration is a
    result, not an error: it comes back as a report with its explanation)."""


class BenchTimeoutError(CalibrationError, TimeoutError):
    """The pen on the bench did not do what the run needs in time (pedal, telemetry)."""


class RunInterruptedError(CalibrationError):
    """The motor stopped in the middle of a measurement (pedal released, a stop fault)."""

    def __init__(self, reason: str, faults: int = 0) -> None:
        self.reason = reason
        self.faults = faults
        super().__init__(reason)


class ReadingsFileError(CalibrationError, ValueError):
    """A file of gauge readings cannot be used."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(
            f"gauge readings {path}: {reason}. Write one line per marked position, "
            '`position_mm,reading_mm` (CSV), or {"0.8": 0.79, ...} (JSON).'
        )


# ------------------------------------------------------------------ clinic server (sync)


class ClinicServerError(SmpctlError):
    """The clinic's PostgreSQL server cannot be used as asked. Nothing recorded at the
    chair is lost: the journal keeps it, and the next sync pushes it."""


class ServerNotConfiguredError(ClinicServerError):
    def __init__(self) -> None:
        super().__init__(
            "no clinic server is configured: pass --server URL "
            "(postgresql://CHAIR@HOST/DB) or set SMPCTL_SERVER"
        )


class ServerUnreachableError(ClinicServerError, ConnectionError):
    def __init__(self, server: str, reason: str) -> None:
        self.server = server
        super().__init__(
            f"cannot reach the clinic server {server}: {reason}. The chair keeps recording; "
            "check the network and the server, then sync again."
        )


class ServerAuthError(ClinicServerError, PermissionError):
    def __init__(self, server: str, role: str) -> None:
        self.server = server
        self.role = role
        super().__init__(
            f"the clinic server {server} refused the sign-in of {role!r} (wrong password, or "
            "no such chair). Check the password (URL, PGPASSWORD or ~/.pgpass), or ask the "
            "administrator to run `smpctl server add-chair`."
        )


class ServerSchemaError(ClinicServerError):
    """The server's schema is missing, older or newer than this smpctl."""


class ServerSchemaTooNewError(ServerSchemaError):
    def __init__(self, server: str, found: int, known: int) -> None:
        self.found = found
        self.known = known
        super().__init__(
            f"the clinic server {server} has schema {found}, this smpctl knows up to {known}: "
            "update smpctl on this chair (`pip install --upgrade smpctl`). Nothing was changed."
        )


class ServerSchemaOutdatedError(ServerSchemaError):
    def __init__(self, server: str, found: int, known: int) -> None:
        self.found = found
        self.known = known
        what = "is not initialised" if found == 0 else f"has schema {found} (this smpctl: {known})"
        super().__init__(
            f"the clinic server {server} {what}: the administrator runs "
            "`smpctl server init URL` to create or migrate it."
        )


class NotAChairError(ClinicServerError, PermissionError):
    def __init__(self, server: str, role: str) -> None:
        super().__init__(
            f"{role!r} signed in to {server} but is not a chair there: the administrator runs "
            f"`smpctl server add-chair URL NAME --clinic CLINIC` and this chair signs in as NAME."
        )


class ServerRefusedError(ClinicServerError, PermissionError):
    """The database refused an operation (row-level security, append-only, privileges)."""


class ChainVerifyError(ClinicServerError):
    """A journal's hash chain does not verify: records past the break are not pushed."""

    def __init__(self, journal: str, seq: int, problem: str, pushed: int = 0) -> None:
        self.journal = journal
        self.seq = seq
        self.problem = problem
        self.pushed = pushed
        super().__init__(
            f"the journal {journal} does not verify at ledger entry {seq}: {problem}. "
            f"Entries before it are on the server ({pushed} pushed now); nothing from entry "
            f"{seq} on was pushed. Run `smpctl logs verify --journal {journal}` and tell the "
            "clinic's administrator: the records stay on this chair."
        )


class JournalDivergedError(ClinicServerError):
    """The server holds a different history for this journal than the file does."""


class SyncBusyError(ClinicServerError, TimeoutError):
    def __init__(self, journal: str, waited_s: float) -> None:
        super().__init__(
            f"another sync of the journal {journal} held the server for {waited_s:.0f} s: it "
            "is pushing the same records. Try again when it has finished."
        )


# ------------------------------------------------------------------ micro-injury dose


class DoseError(SmpctlError, ValueError):
    """A dose cannot be computed from what was given."""


class NeedleCountMismatchError(DoseError):
    def __init__(self, kind: str, given: int, expected: int) -> None:
        self.kind = kind
        self.given = given
        self.expected = expected
        super().__init__(
            f"a {kind} cartridge has {expected} needle(s), not {given}: check the cartridge "
            f"box and enter its kind and needle count again."
        )


class UnknownCartridgeKindError(DoseError, LookupError):
    def __init__(self, kind: str, known: Sequence[str]) -> None:
        self.kind = kind
        super().__init__(f"unknown cartridge kind {kind!r}: use one of {', '.join(known)}.")


class ZoneAreaError(DoseError):
    """A zone area that cannot be a real measurement of that zone."""

    def __init__(self, zone: str, area_cm2: float, problem: str) -> None:
        self.zone = zone
        self.area_cm2 = area_cm2
        super().__init__(
            f"the area {area_cm2:g} cm² for zone {zone} {problem}: measure the zone again "
            f"and enter its area in cm² (an adult scalp is ~500 cm² in all)."
        )


# ------------------------------------------------------------------ client records (issue 12)


class ClientRecordError(SmpctlError, ValueError):
    """A client's zone area, adjunct treatment or hair measurement cannot be recorded as
    given. Nothing of the command was recorded."""


class RecordDayError(ClientRecordError):
    """A day that cannot be true for the record: in the future, before the client's first
    session, or a treatment stopped before it started."""


class PhotoNotFoundError(ClientRecordError):
    """A photo to store by reference is not a readable file."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(
            f"photo {path}: {reason}. Give the path of the photo file as saved (it is stored "
            "by reference and hash, never copied); nothing was recorded."
        )


class AdjunctError(ClientRecordError):
    """An adjunct treatment cannot be started or stopped as asked."""


class DoseBoundsError(DoseError):
    """Dose bounds or a dose the guard cannot judge (a target above its ceiling, a negative
    dose): a wrong number here would hide an over-worked zone."""

    def __init__(self, zone: str, problem: str, fix: str) -> None:
        self.zone = zone
        self.problem = problem
        super().__init__(f"the dose guard for zone {zone} cannot run: {problem}. {fix}")


class UnknownSessionKindError(JournalError, ValueError):
    def __init__(self, kind: str, known: Sequence[str]) -> None:
        self.kind = kind
        super().__init__(
            f"unknown session kind {kind!r}: a session is one of {', '.join(known)}. "
            "Choose the kind of treatment and start the session again."
        )
