"""One job as the server keeps it, and the answers RunPod's v2 API gives about it.

Times are kept on the monotonic clock (a wall-clock step must not expire results early)
and answered in milliseconds, as RunPod's ``delayTime`` and ``executionTime`` are.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

IN_QUEUE = "IN_QUEUE"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
TIMED_OUT = "TIMED_OUT"
FINAL_STATES = frozenset({COMPLETED, FAILED, CANCELLED, TIMED_OUT})

# progress updates a /stream caller has not read yet; a client that never reads them
# must not make a long video's record grow without end
STREAM_BACKLOG = 512


@dataclass
class JobRecord:
    """A submitted job from its queueing to its expiry.

    The engine thread reports progress while the event loop answers requests, so the
    progress fields are guarded by a lock; everything else is touched by the loop only.
    """

    id: str
    input: Any
    execution_timeout: float
    ttl: float | None = None
    webhook: str | None = None
    status: str = IN_QUEUE
    output: Any = None
    error: str | None = None
    worker: str | None = None
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    finished: float | None = None
    # (status, error) once a cancel, a timeout or the shutdown has asked the engine to stop
    stopping: tuple[str, str] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _latest: dict[str, Any] | None = None
    _unread: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=STREAM_BACKLOG))

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATES

    def report_progress(self, update: dict[str, Any]) -> None:
        """The handler's progress sink; safe to call from the engine thread."""
        with self._lock:
            self._latest = update
            self._unread.append(update)

    def latest_progress(self) -> dict[str, Any] | None:
        with self._lock:
            return self._latest

    def take_stream(self) -> list[dict[str, Any]]:
        """Progress updates since the previous /stream call, oldest first (RunPod's stream)."""
        with self._lock:
            items = list(self._unread)
            self._unread.clear()
        return items

    def start(self, worker: str) -> None:
        self.status = IN_PROGRESS
        self.worker = worker
        self.started = time.monotonic()

    def finish(self, status: str, *, output: Any = None, error: str | None = None) -> None:
        """Settle the job once; later calls (a cancel racing the end) change nothing."""
        if self.final:
            return
        self.status = status
        self.output = output
        self.error = error
        self.finished = time.monotonic()
        self.input = None  # its inline media can be megabytes; the answer is all that is kept
        self.done.set()

    def settle_answer(self, answer: Any) -> None:
        """COMPLETED with the handler's answer, or FAILED when it carries ``error``.

        As RunPod's SDK does: ``error`` becomes the job's error and the rest of the
        answer (the error code, the fields at fault) stays its output.
        """
        if isinstance(answer, dict) and answer.get("error"):
            rest = {key: value for key, value in answer.items() if key != "error"}
            self.finish(FAILED, output=rest or None, error=str(answer["error"]))
        else:
            self.finish(COMPLETED, output=answer)

    def answer(self) -> dict[str, Any]:
        """The /status answer: id, status, times in ms, and output or error when there are."""
        body: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.started is not None:
            body["delayTime"] = _ms(self.started - self.submitted)
            end = self.finished if self.finished is not None else time.monotonic()
            body["executionTime"] = _ms(end - self.started)
        elif self.finished is not None:  # ended in the queue: cancelled, purged or past its ttl
            body["delayTime"] = _ms(self.finished - self.submitted)
            body["executionTime"] = 0
        if self.worker is not None:
            body["workerId"] = self.worker
        if self.status == IN_PROGRESS:
            progress = self.latest_progress()
            if progress is not None:
                body["output"] = progress
        elif self.output is not None:
            body["output"] = self.output
        if self.error is not None:
            body["error"] = self.error
        return body

    def stream_answer(self) -> dict[str, Any]:
        stream = [{"output": update} for update in self.take_stream()]
        body: dict[str, Any] = {"id": self.id, "status": self.status, "stream": stream}
        if self.error is not None:
            body["error"] = self.error
        return body


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))
