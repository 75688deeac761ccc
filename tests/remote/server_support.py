"""``facedeck --headless serve`` as the server tests start it: a real process on a free
loopback port, and a webhook receiver that records what the server posts.

The server's stderr (its log, access log included with ``-v``) goes to a file the tests
read, so a test can check what the server wrote, and a full pipe can never stall it.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

START_TIMEOUT = 60.0


class ServerProcess:
    """One ``facedeck --headless serve --port 0 --json`` process and what it printed."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        log: Path,
        env: Mapping[str, str] | None = None,
        token: str | None = None,
        endpoint: str = "test-endpoint",
    ) -> None:
        full_env = {key: value for key, value in os.environ.items() if key != "FACEDECK_MODELS_DIR"}
        full_env.pop("FACEDECK_SERVER_TOKEN", None)
        full_env.update(env or {})
        self.token = token
        self.endpoint = endpoint
        self.log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "facedeck.desktop",
                "--headless",
                "-v",
                "serve",
                "--port",
                "0",
                "--json",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=full_env,
            text=True,
        )
        self.listening = self._first_line()
        self.url = self.listening["url"]

    def _first_line(self) -> dict[str, Any]:
        lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        stdout = self.process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            self.stop()
            raise AssertionError(f"the server did not start: {self.log()}") from None
        if not line:
            self.process.wait(timeout=10)
            raise AssertionError(f"the server exited with {self.process.returncode}: {self.log()}")
        event = json.loads(line)
        assert event["event"] == "listening", event
        return event

    def route(self, path: str, endpoint: str | None = None) -> str:
        return f"{self.url}/v2/{endpoint or self.endpoint}/{path}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", self.headers())
        kwargs.setdefault("timeout", 30)
        return requests.get(self.route(path), **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", self.headers())
        kwargs.setdefault("timeout", 60)
        return requests.post(self.route(path), **kwargs)

    def run(self, job_input: dict[str, Any], **body: Any) -> str:
        response = self.post("run", json={"input": job_input, **body})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["status"] == "IN_QUEUE" and set(answer) == {"id", "status"}, answer
        return answer["id"]

    def status(self, job_id: str) -> dict[str, Any]:
        response = self.get(f"status/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_until(
        self, job_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            answer = self.status(job_id)
            if done(answer):
                return answer
            assert time.monotonic() < deadline, f"job {job_id} stuck: {answer}"
            time.sleep(0.02)

    def finished(self, job_id: str, timeout: float = 30) -> dict[str, Any]:
        return self.wait_until(
            job_id, lambda answer: answer["status"] not in ("IN_QUEUE", "IN_PROGRESS"), timeout
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def standin_server(
    models_dir: Path, log: Path, token: str, *extra: str, endpoint: str = "test-endpoint"
) -> ServerProcess:
    """The server most remote tests talk to: the stand-in models on the CPU, a token,
    ``extra`` options (``--engines 4``, ...)."""
    return ServerProcess(
        ["--models-dir", str(models_dir), "--provider", "cpu", *extra],
        log=log,
        env={"FACEDECK_SERVER_TOKEN": token},
        token=token,
        endpoint=endpoint,
    )


class WebhookReceiver:
    """A loopback HTTP server that records the JSON bodies POSTed to it; a context manager."""

    def __init__(self) -> None:
        received: queue.Queue[dict[str, Any]] = queue.Queue()
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.put(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class signature
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def next(self, timeout: float = 30) -> dict[str, Any]:
        return self.received.get(timeout=timeout)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# onnxruntime keeps a session id in $TMPDIR/.ses from the first model it loads: not a job's
ONNXRUNTIME_FILES = {".ses"}


def leftovers(folder: Path) -> list[str]:
    """What a server's temporary folder holds besides onnxruntime's file (a job leaves nothing)."""
    return sorted(
        str(path.relative_to(folder)) for path in folder.rglob("*") if path.name not in ONNXRUNTIME_FILES
    )
