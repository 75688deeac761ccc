"""A scripted RunPod-shaped HTTP server on 127.0.0.1 that a test controls, for the remote client.

    with FakeEndpoint() as fake:
        fake.script("POST", "/v2/ep/run", Reply(200, {"id": "j1", "status": "IN_QUEUE"}))
        fake.script("GET", "/v2/ep/status/j1", Reply(503), Drop(), Reply(200, {"status": "COMPLETED", ...}))
        ...
        fake.requests_to("GET", "/v2/ep/status/j1")   # every request: method, path, query, headers, body

Each route (a method and a path; the query is recorded, not matched) answers its n-th request
with the n-th action of its script, and repeats the last action once the script is used up.
A request to a route without a script gets 404 ``{"error": "no route ..."}``. Actions:
``Reply`` (a status, a JSON body or raw bytes, headers), ``Drop`` (close the connection
without a word), ``Stall`` (say nothing for a while, then close), ``Cut`` (promise a body's
length, send part of it, then close).
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    """Answer with ``status``; ``body`` is sent as JSON, or as it is when it is bytes."""

    status: int = 200
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()

    def payload(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if self.body is None:
            return b"", "application/json"
        return json.dumps(self.body).encode(), "application/json"


@dataclass(frozen=True)
class Drop:
    """Read the request, then close the connection without answering."""


@dataclass(frozen=True)
class Stall:
    """Say nothing for ``seconds`` (cut short when the server stops), then close the connection."""

    seconds: float


@dataclass(frozen=True)
class Cut:
    """Send ``reply``'s headers with its full Content-Length, only ``sent`` bytes of its body, then close."""

    reply: Reply
    sent: int


Action = Reply | Drop | Stall | Cut


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value by its name in any case; None when it was not sent."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Route:
    script: list[Action]
    served: int = 0

    def next(self) -> Action:
        action = self.script[min(self.served, len(self.script) - 1)]
        self.served += 1
        return action


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as RunPod's API and the client's pool use
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body go out as two writes: without this, Nagle's algorithm meets the
        # client's delayed ACK and every reply waits 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def do_PUT(self) -> None:  # noqa: N802
        self._handle()

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, parts.query, dict(self.headers.items()), body)
        action = owner.arrived(request)
        if isinstance(action, Reply):
            self._reply(action)
        elif isinstance(action, Cut):
            self._reply(action.reply, sent=action.sent)
            self._hang_up()
        elif isinstance(action, Stall):
            owner.stopping.wait(action.seconds)
            self._hang_up()
        else:
            self._hang_up()

    def _reply(self, reply: Reply, sent: int | None = None) -> None:
        payload, content_type = reply.payload()
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(payload if sent is None else payload[:sent])
            self.wfile.flush()
        except ConnectionError:
            self.close_connection = True

    def _hang_up(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the client already closed it


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a stalled reply must not hold up the test's teardown
    owner: FakeEndpoint

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-reply is part of these tests


class FakeEndpoint:
    """The scripted server on a free loopback port, in a daemon thread; a context manager."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        self._routes: dict[tuple[str, str], _Route] = {}
        self._changed = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-endpoint",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, method: str, path: str, *actions: Action) -> None:
        """What ``method path`` answers, request by request (the last action repeats)."""
        assert actions, "a route needs at least one action"
        with self._changed:
            self._routes[(method, path)] = _Route(list(actions))

    def arrived(self, request: Request) -> Action:
        with self._changed:
            # recorded on arrival: a test reading the records after its client returned sees them all
            self.requests.append(request)
            self._changed.notify_all()
            route = self._routes.get((request.method, request.path))
            if route is None:
                return Reply(404, {"error": f"no route {request.method} {request.path}"})
            return route.next()

    def requests_to(self, method: str, path: str) -> list[Request]:
        with self._changed:
            return [item for item in self.requests if (item.method, item.path) == (method, path)]

    def wait_for(self, method: str, path: str, count: int = 1, timeout: float = 30.0) -> None:
        """Block until ``count`` requests to the route have arrived (AssertionError after ``timeout``)."""
        with self._changed:
            arrived = self._changed.wait_for(
                lambda: sum((item.method, item.path) == (method, path) for item in self.requests) >= count,
                timeout,
            )
        assert arrived, f"{count} request(s) to {method} {path} never came: {self.requests}"

    def __enter__(self) -> FakeEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
