"""A real HTTP server on 127.0.0.1 that misbehaves on purpose, and records what it sent.

    with MisbehavingServer() as server:
        url = server.add("/model.onnx", body, script=[Status(404), Drop(after=1000)])
        ...
        server.records_for("/model.onnx")  # one Record per request: Range header, status, bytes sent

Each route replies to its n-th request with ``script[n]`` and, once the script is used up,
normally: 200 with the whole body, or 206 for a ``Range: bytes=N-`` request (416 when N is at
or past the end) unless the route was added with ``honor_range=False``.
"""

from __future__ import annotations

import http.server
import re
import socket
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Status:
    """Reply with this status code, these extra headers and a short text body."""

    code: int
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Drop:
    """Send the headers of the full reply, only ``after`` bytes of its body, then close the socket."""

    after: int


@dataclass(frozen=True)
class Stall:
    """Send ``after`` bytes of the body, go silent for ``seconds``, then send the rest if the client
    is still there."""

    after: int
    seconds: float


Action = Status | Drop | Stall


@dataclass
class Record:
    """What the server saw and sent for one request."""

    path: str
    range: str | None
    status: int = 0
    bytes_sent: int = 0  # body bytes handed to the socket


@dataclass
class Route:
    body: bytes
    script: list[Action] = field(default_factory=list)
    honor_range: bool = True
    send_length: bool = True
    served: int = 0


_RANGE = re.compile(r"bytes=(\d+)-")
_PIECE = 64 * 1024


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, Content-Length framed, like real servers
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class signature
        pass  # keep test output clean

    def do_GET(self) -> None:
        owner = self.server.owner
        record = Record(path=self.path, range=self.headers.get("Range"))
        with owner.lock:
            # Recorded on arrival, so a test that reads the records right after its client
            # returned sees every request, however the server thread is scheduled.
            owner.records.append(record)
            route = owner.routes.get(self.path)
            action = None
            if route is not None:
                action = route.script[route.served] if route.served < len(route.script) else None
                route.served += 1
        if route is None:
            self._reply_status(record, 404)
            return
        if isinstance(action, Status):
            self._reply_status(record, action.code, dict(action.headers))
            return

        body = route.body
        start = 0
        match = _RANGE.fullmatch(record.range or "")
        if match and route.honor_range:
            start = int(match.group(1))
            if start >= len(body):
                self._reply_status(record, 416, {"Content-Range": f"bytes */{len(body)}"})
                return
        payload = memoryview(body)[start:]
        record.status = 206 if start else 200
        self.send_response(record.status)
        self.send_header("Content-Type", "application/octet-stream")
        if route.send_length:
            self.send_header("Content-Length", str(len(payload)))
        else:  # the body ends when the connection closes: nothing tells a short one apart
            self.send_header("Connection", "close")
            self.close_connection = True
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()

        if isinstance(action, Drop):
            self._send(record, payload[: action.after])
            self._hang_up()
        elif isinstance(action, Stall):
            if self._send(record, payload[: action.after]):
                owner.stopping.wait(action.seconds)
                self._send(record, payload[action.after :])
            self._hang_up()
        else:
            self._send(record, payload)

    def _reply_status(self, record: Record, code: int, headers: dict[str, str] | None = None) -> None:
        text = f"status {code}\n".encode()
        record.status = code
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def _send(self, record: Record, data: memoryview) -> bool:
        """Write ``data``; False once the client has gone away."""
        for offset in range(0, len(data), _PIECE):
            piece = data[offset : offset + _PIECE]
            # Counted before the write: the client may read the bytes (and the test check the
            # count) before sendall returns here.
            record.bytes_sent += len(piece)
            try:
                self.wfile.write(piece)
            except ConnectionError:  # broken pipe, reset, aborted: the client hung up
                record.bytes_sent -= len(piece)
                self.close_connection = True
                return False
        return True

    def _hang_up(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the client already closed it


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    owner: MisbehavingServer

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-reply is the point of these tests


class MisbehavingServer:
    """A ThreadingHTTPServer on 127.0.0.1 (free port) in a daemon thread; a context manager."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.records: list[Record] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()  # cuts stalls short at teardown
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        # a short poll interval: shutdown() waits up to one interval
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="http-fixture",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(
        self,
        path: str,
        body: bytes,
        script: list[Action] | None = None,
        *,
        honor_range: bool = True,
        send_length: bool = True,
    ) -> str:
        """Serve ``body`` at ``path`` (without Content-Length if not ``send_length``); return its URL."""
        route = Route(body=body, script=list(script or []), honor_range=honor_range, send_length=send_length)
        with self.lock:
            self.routes[path] = route
        return self.base_url + path

    def records_for(self, path: str) -> list[Record]:
        with self.lock:
            return [record for record in self.records if record.path == path]

    def __enter__(self) -> MisbehavingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def unused_port_url(path: str = "/") -> str:
    """A loopback URL nobody listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
