"""The server process: a listening socket, uvicorn around the app, and a clean stop.

The socket is bound here, not by uvicorn, so a port in use or an address not on this
machine is a one-line error before anything starts, and ``--port 0`` can tell which port
it got. On SIGINT, SIGTERM or SIGHUP the jobs are cancelled first (each engine stops within
a frame and removes its partial output), then the open requests end and uvicorn stops; the
caller learns which signal it was and exits with 128 + N like the other commands.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn
from fastapi import FastAPI

from ...core.errors import UsageError
from .jobs import JobQueue

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
# the longest a stopping server waits for open requests once the jobs are cancelled
GRACEFUL_SECONDS = 10


def bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, queue: JobQueue, on_listening: Callable[[], None]) -> None:
        super().__init__(config)
        self.queue = queue
        self.on_listening = on_listening
        self.stopped_by: int | None = None

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn's own version re-raises the signal after the shutdown; the command wants
        # to know which one it was instead, and SIGHUP (a closed terminal) stops it too
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {}
        for signum in STOP_SIGNALS:
            if signal.getsignal(signum) is signal.SIG_IGN:
                continue  # started under nohup: stays ignored
            previous[signum] = signal.signal(signum, self.handle_exit)
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.stopped_by is None:
            self.stopped_by = sig
        super().handle_exit(sig, frame)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_listening()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.queue.close()  # before uvicorn waits for open requests: runsync waits end now
        await super().shutdown(sockets)


def serve(
    app: FastAPI,
    queue: JobQueue,
    sock: socket.socket,
    *,
    access_log: bool,
    on_listening: Callable[[], None],
) -> int | None:
    """Serve until a stop signal; the signal's number, or None when the server stopped by itself."""
    config = uvicorn.Config(
        app,
        log_config=None,  # the command's logging configuration stays in charge
        access_log=access_log,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    server = _Server(config, queue, on_listening)
    server.run(sockets=[sock])
    return server.stopped_by
