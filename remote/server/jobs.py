"""The job queue: jobs wait in order, each engine runs one at a time, results expire.

An engine is one :class:`~facedeck.remote.handler.RemoteHandler` (one model library on
one device); the queue gives each engine a worker task that takes the next job, runs it
under its execution timeout and settles its record. A job belongs to the queue, never to
the request that submitted it: a client that hangs up loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .records import (
    CANCELLED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    IN_QUEUE,
    TIMED_OUT,
    JobRecord,
)

logger = logging.getLogger(__name__)

# ids of expired jobs remembered to tell "expired" from "never existed"; bounded memory
EXPIRED_MEMORY = 10_000
# how long a cancel request waits for the engine to stop and clean up before it answers
CANCEL_GRACE = 5.0


class JobHandler(Protocol):
    """What the queue needs of an engine (RemoteHandler is one)."""

    async def handle(
        self, job: Mapping[str, Any], progress: Callable[[dict[str, Any]], None] | None = None
    ) -> dict[str, Any]: ...

    def health(self) -> dict[str, Any]: ...


class QueueFull(Exception):
    """The queue holds its maximum of waiting jobs."""


@dataclass(frozen=True)
class QueueSettings:
    keep_results: float = 1800.0  # seconds a finished job stays readable (RunPod: 30 min for /run)
    execution_timeout: float = 600.0  # RunPod's default; a job's policy.executionTimeout overrides it
    max_queued: int = 100


@dataclass(frozen=True)
class Submission:
    input: Any
    execution_timeout: float | None = None
    ttl: float | None = None
    webhook: str | None = None
    sync: bool = False


class JobQueue:
    """Jobs by id, the waiting line, one worker task per engine and the retention sweep.

    Everything here runs on the server's event loop; only JobRecord's progress is fed
    from engine threads.
    """

    def __init__(
        self,
        engines: Sequence[JobHandler],
        settings: QueueSettings,
        *,
        on_finished: Callable[[JobRecord], None] | None = None,
    ) -> None:
        if not engines:
            raise ValueError("a job queue needs at least one engine")
        self.engines = list(engines)
        self.settings = settings
        self._on_finished = on_finished
        self._records: dict[str, JobRecord] = {}
        self._expired: OrderedDict[str, None] = OrderedDict()
        self._waiting: asyncio.Queue[JobRecord] = asyncio.Queue()
        self._running: dict[str, asyncio.Task[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._finished_count = {COMPLETED: 0, FAILED: 0}

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        for index, engine in enumerate(self.engines):
            self._tasks.append(asyncio.create_task(self._work(f"engine-{index}", engine)))
        self._tasks.append(asyncio.create_task(self._sweep()))

    async def close(self) -> None:
        """Cancel what waits and what runs (the engines clean up), then stop the workers."""
        for record in list(self._records.values()):
            if record.status == IN_QUEUE:
                record.finish(CANCELLED, error="the server shut down before the job started")
        for record_id, task in list(self._running.items()):
            self._records[record_id].stopping = (CANCELLED, "the server shut down while the job ran")
            task.cancel()
        if self._running:
            await asyncio.wait(list(self._running.values()))
        for worker in self._tasks:
            worker.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    # -- requests ---------------------------------------------------------------------

    def submit(self, submission: Submission) -> JobRecord:
        if self.count(IN_QUEUE) >= self.settings.max_queued:
            raise QueueFull(f"the queue is full ({self.settings.max_queued} jobs wait); try again later")
        prefix = "sync-" if submission.sync else ""
        record = JobRecord(
            id=f"{prefix}{uuid.uuid4()}",
            input=submission.input,
            execution_timeout=submission.execution_timeout or self.settings.execution_timeout,
            ttl=submission.ttl,
            webhook=submission.webhook,
        )
        self._records[record.id] = record
        self._waiting.put_nowait(record)
        logger.info("job %s queued (%d waiting)", record.id, self.count(IN_QUEUE))
        return record

    def get(self, job_id: str) -> JobRecord | None:
        self._expire_old()
        return self._records.get(job_id)

    def expired(self, job_id: str) -> bool:
        return job_id in self._expired

    async def wait(self, record: JobRecord, timeout: float) -> None:
        """Until the job ends or ``timeout`` seconds pass, whichever comes first."""
        try:
            await asyncio.wait_for(record.done.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    async def cancel(self, record: JobRecord) -> None:
        """Cancel a waiting or running job; a running one is waited for while it cleans up.

        A running job turns CANCELLED only once its engine has stopped and removed what it
        wrote, so a client that sees CANCELLED finds nothing left behind.
        """
        if record.status == IN_QUEUE:
            record.finish(CANCELLED, error="cancelled before it started")
            self._settled(record)
            return
        task = self._running.get(record.id)
        if record.status != IN_PROGRESS or task is None or task.done():
            return  # over (or ending with its answer): cancelling changes nothing, as on RunPod
        record.stopping = (CANCELLED, "cancelled while running")
        task.cancel()
        try:
            await asyncio.wait_for(record.done.wait(), CANCEL_GRACE)
        except asyncio.TimeoutError:
            logger.warning("job %s: the engine takes more than %g s to stop", record.id, CANCEL_GRACE)

    def purge(self) -> int:
        """Remove every waiting job (running ones go on); how many were removed."""
        removed = 0
        for record in list(self._records.values()):
            if record.status == IN_QUEUE:
                record.finish(CANCELLED, error="removed from the queue by purge-queue")
                self._settled(record)
                removed += 1
        return removed

    def count(self, status: str) -> int:
        return sum(1 for record in self._records.values() if record.status == status)

    def counts(self) -> dict[str, Any]:
        """RunPod's /health ``jobs`` and ``workers`` numbers."""
        running = len(self._running)
        return {
            "jobs": {
                "completed": self._finished_count[COMPLETED],
                "failed": self._finished_count[FAILED],
                "inProgress": running,
                "inQueue": self.count(IN_QUEUE),
                "retried": 0,
            },
            "workers": {"idle": len(self.engines) - running, "running": running},
        }

    # -- the engines ------------------------------------------------------------------

    async def _work(self, name: str, engine: JobHandler) -> None:
        while True:
            record = await self._waiting.get()
            if record.status != IN_QUEUE:
                continue  # cancelled or purged while it waited
            if record.ttl is not None and time.monotonic() - record.submitted > record.ttl:
                record.finish(TIMED_OUT, error=f"the job waited past its ttl of {record.ttl:g} s")
                self._settled(record)
                continue
            await self._run(name, engine, record)
            self._settled(record)

    async def _run(self, name: str, engine: JobHandler, record: JobRecord) -> None:
        record.start(name)
        logger.info("job %s started on %s", record.id, name)
        task = asyncio.create_task(
            engine.handle({"id": record.id, "input": record.input}, record.report_progress)
        )
        self._running[record.id] = task
        try:
            done, _ = await asyncio.wait([task], timeout=record.execution_timeout)
            if not done:
                # the timeout cancels the job as a cancel request does: the engine stops within a
                # frame and removes its partial output before the job counts as ended
                timeout = record.execution_timeout
                record.stopping = (
                    TIMED_OUT,
                    f"the job ran past its execution timeout of {timeout:g} s and was stopped",
                )
                task.cancel()
                await asyncio.wait([task])
            self._settle(record, task)
        except asyncio.CancelledError:
            # the worker itself is cancelled (shutdown): the engine must stop before we go
            task.cancel()
            await asyncio.wait([task])
            record.finish(CANCELLED, error="the server shut down while the job ran")
            raise
        finally:
            self._running.pop(record.id, None)

    def _settle(self, record: JobRecord, task: asyncio.Task[dict[str, Any]]) -> None:
        if task.cancelled() or record.stopping is not None:
            status, error = record.stopping or (CANCELLED, "cancelled while running")
            record.finish(status, error=error)  # a result that raced the cancel is dropped
        elif task.exception() is not None:
            # the handler answers every failure itself; this is a bug, kept out of the answer
            failure = task.exception()
            logger.error("job %s: the handler raised %s: %s", record.id, type(failure).__name__, failure)
            record.finish(FAILED, error="internal error in the server; the log has the details")
        else:
            record.settle_answer(task.result())

    def _settled(self, record: JobRecord) -> None:
        if record.status in self._finished_count:
            self._finished_count[record.status] += 1
        elif record.status == TIMED_OUT:
            self._finished_count[FAILED] += 1
        logger.info("job %s %s", record.id, record.status)
        if self._on_finished is not None:
            self._on_finished(record)

    # -- retention --------------------------------------------------------------------

    async def _sweep(self) -> None:
        period = min(max(self.settings.keep_results / 2, 0.2), 30.0)
        while True:
            await asyncio.sleep(period)
            self._expire_old()

    def _expire_old(self) -> None:
        now = time.monotonic()
        keep = self.settings.keep_results
        gone = [
            job_id
            for job_id, record in self._records.items()
            if record.finished is not None and now - record.finished > keep
        ]
        for job_id in gone:
            del self._records[job_id]
            self._expired[job_id] = None
        while len(self._expired) > EXPIRED_MEMORY:
            self._expired.popitem(last=False)
