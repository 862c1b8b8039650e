"""A link over pyserial: device paths, COM ports, pty paths and every pyserial URL.

pyserial's low-level errors are mapped to smpctl's here, at one boundary, so nothing above
ever sees a ``serial.SerialException``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from pathlib import Path

import serial
import serial.tools.list_ports

from smpctl.errors import (
    LinkError,
    LinkLostError,
    PortBusyError,
    PortNotFoundError,
    PortPermissionError,
)

SIM_HANDLER_PACKAGE = "smpctl.sim"
"""pyserial imports ``smpctl.sim.protocol_sim`` for ``sim://`` URLs. Registered by name, so
the link layer does not import the simulator."""


def _register_sim_scheme() -> None:
    if SIM_HANDLER_PACKAGE not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(SIM_HANDLER_PACKAGE)


def available_ports() -> list[str]:
    """Device names of the serial ports this machine has now."""
    return sorted(p.device for p in serial.tools.list_ports.comports())


def holder_of(path: str) -> str | None:
    """Which process holds a device open (Linux /proc scan); None when unknown."""
    try:
        target = os.path.realpath(path)
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            fd_dir = Path("/proc", pid, "fd")
            try:
                for fd in fd_dir.iterdir():
                    if os.path.realpath(fd) == target:
                        comm = Path("/proc", pid, "comm").read_text().strip()
                        return f"{comm} (pid {pid})"
            except OSError:
                continue
    except OSError:
        return None
    return None


def _map_open_error(url: str, exc: BaseException) -> LinkError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else getattr(exc, "errno", None)
    text = str(exc).lower()
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO) or "not found" in text:
        return PortNotFoundError(url, available_ports())
    if code in (errno.EACCES, errno.EPERM) or "permission" in text:
        return PortPermissionError(url)
    if code in (errno.EBUSY, errno.EAGAIN) or "busy" in text or "exclusively lock" in text:
        return PortBusyError(url, holder_of(url) if url.startswith("/") else None)
    if "connection refused" in text or code == errno.ECONNREFUSED:
        return PortNotFoundError(url, available_ports())
    return LinkError(
        f"could not open {url!r}: {exc}. Check the port name or URL: `smpctl devices` lists "
        "the ports this machine has, and sim:// is the simulated pen."
    )


class SerialLink:
    """A pen port opened through pyserial, exclusively (two programs on one pen is unsafe)."""

    def __init__(self, port: serial.SerialBase, url: str) -> None:
        self._port = port
        self._url = url
        self._write_lock = threading.Lock()
        self._closed = False

    @property
    def url(self) -> str:
        return self._url

    @property
    def port(self) -> serial.SerialBase:
        """The pyserial object (the simulator's exposes its pen for tests)."""
        return self._port

    def read(self, max_bytes: int, timeout: float) -> bytes:
        port = self._port
        try:
            if port.timeout != timeout:
                port.timeout = timeout
            data: bytes = port.read(1)
            if data:
                more = port.in_waiting
                if more:
                    data += port.read(min(more, max_bytes - 1))
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            if self._closed:
                return b""
            raise LinkLostError(f"link to {self._url} lost: {exc}") from exc
        return data

    def write(self, data: bytes) -> None:
        with self._write_lock:
            try:
                self._port.write(data)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                raise LinkLostError(f"link to {self._url} lost: {exc}") from exc

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(serial.SerialException, OSError):
            self._port.close()


def open_link(url: str, *, baudrate: int = 115200) -> SerialLink:
    """Open ``url`` (a device path or any pyserial URL) exclusively, with errors that say
    what to do."""
    _register_sim_scheme()
    kwargs: dict[str, object] = {"baudrate": baudrate, "timeout": 0.05, "write_timeout": 1.0}
    if "://" not in url:
        kwargs["exclusive"] = True
    try:
        port = serial.serial_for_url(url, **kwargs)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise _map_open_error(url, exc) from exc
    return SerialLink(port, url)
