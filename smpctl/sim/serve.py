"""The simulated pen on a pseudo-terminal or a TCP port, for programs outside this process.

Both run the pen in real time and behave like a serial line with nobody guaranteed to be
listening: bytes the other side does not take are lost, not queued without end, as on a
UART whose host is not reading.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import tty
from types import TracebackType

from .options import PenOptions
from .runner import RealtimeRunner

READ_CHUNK = 4096


class _Server:
    """A real-time pen plus one thread that carries host bytes in."""

    def __init__(self, options: PenOptions) -> None:
        self.options = options
        self.runner = RealtimeRunner.create(options, on_output=self._to_host)
        self.bytes_lost = 0
        self._wake_r, self._wake_w = os.pipe()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)

    @property
    def pen_lock(self) -> threading.Lock:
        return self.runner.lock

    def start(self) -> None:
        self.runner.start()
        self._thread.start()

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        os.write(self._wake_w, b"x")
        self._thread.join(2.0)
        self.runner.stop()
        self._release()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def __enter__(self) -> _Server:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _to_host(self, data: bytes) -> None:
        raise NotImplementedError

    def _serve(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError


class PtyServer(_Server):
    """The pen behind a pseudo-terminal: ``path`` opens like any serial port.

    The server keeps the slave side open itself, so the terminal survives clients coming
    and going (a closed last slave would make the master read EIO until reopened).
    """

    def __init__(self, options: PenOptions) -> None:
        super().__init__(options)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)

    @property
    def url(self) -> str:
        return self.path

    def _to_host(self, data: bytes) -> None:
        try:
            written = os.write(self._master, data)
        except (BlockingIOError, OSError):
            written = 0
        self.bytes_lost += len(data) - written

    def _serve(self) -> None:
        while not self._closing.is_set():
            ready, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._master not in ready:
                continue
            try:
                data = os.read(self._master, READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                if self._closing.wait(0.05):
                    break
                continue
            if data:
                self.runner.write(data)

    def _release(self) -> None:
        os.close(self._master)
        os.close(self._slave)


class TcpServer(_Server):
    """The pen on a TCP port (``socket://HOST:PORT`` in pyserial), one client at a time;
    a second client waits until the first has gone."""

    def __init__(self, options: PenOptions, port: int, host: str = "127.0.0.1") -> None:
        super().__init__(options)
        self._listener = socket.create_server((host, port))
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._client: socket.socket | None = None
        self._client_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def _to_host(self, data: bytes) -> None:
        with self._client_lock:
            client = self._client
            if client is None:
                self.bytes_lost += len(data)
                return
            try:
                sent = client.send(data)
            except (BlockingIOError, OSError):
                sent = 0
            self.bytes_lost += len(data) - sent

    def _serve(self) -> None:
        while not self._closing.is_set():
            listener = self._listener.fileno()
            ready, _, _ = select.select([listener, self._wake_r], [], [])
            if listener not in ready:
                continue
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.setblocking(False)
            with self._client_lock:
                self._client = client
            try:
                self._serve_client(client)
            finally:
                with self._client_lock:
                    self._client = None
                client.close()

    def _serve_client(self, client: socket.socket) -> None:
        while not self._closing.is_set():
            ready, _, _ = select.select([client.fileno(), self._wake_r], [], [])
            if client.fileno() not in ready:
                continue
            try:
                data = client.recv(READ_CHUNK)
            except BlockingIOError:
                continue
            except OSError:
                return
            if not data:
                return
            self.runner.write(data)

    def _release(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.close()


def serve_pty(options: PenOptions | None = None) -> PtyServer:
    """A running pen on a new pseudo-terminal; its path is ``.path``. Close when done."""
    server = PtyServer(options or PenOptions())
    server.start()
    return server


def serve_tcp(port: int, host: str = "127.0.0.1", options: PenOptions | None = None) -> TcpServer:
    """A running pen on ``host:port`` (port 0: any free port, see ``.port``)."""
    server = TcpServer(options or PenOptions(), port, host)
    server.start()
    return server
