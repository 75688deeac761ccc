""""Test connection": is the chosen endpoint there, does it take the key, is a worker ready?

Qt-free (the settings dialog runs it on a worker thread): the endpoint's ``/health`` (queue
and workers), then one health job a worker answers with its status, provider and FaceDeck
version, then, with a bucket set, whether the bucket answers. The health job is sent with
``/run`` and polled, not ``/runsync``: a poll stops within its interval when the user closes
the dialog, a held-open ``/runsync`` request would not.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import JobCancelled, UsageError
from .remote_choice import RemoteChoice, SecretSource

# a test should answer in seconds: one retry, shorter timeouts than a job's
TEST_RETRY_DELAYS = (1.0,)
TEST_CONNECT_TIMEOUT = 5.0
TEST_READ_TIMEOUT = 20.0


@dataclass(frozen=True)
class ConnectionReport:
    """What a test found: the endpoint's worker counts, the health job's answer, the bucket."""

    label: str  # how messages name the endpoint ("RunPod endpoint abc"), never with its key
    workers: dict[str, int] = field(default_factory=dict)  # /health "workers": idle, running, ready...
    worker: dict[str, Any] = field(default_factory=dict)  # the health answer (docs/wire-format.md)
    storage: str | None = None  # the bucket that answered (``s3://bucket/prefix``), None without one

    @property
    def ok(self) -> bool:
        return self.worker.get("status") == "ok"


def check_connection(
    choice: RemoteChoice, secrets: SecretSource, cancel: threading.Event | None = None
) -> ConnectionReport:
    """Run the three checks; FaceDeckError (one sentence) at the first that fails,
    JobCancelled when ``cancel`` is set while the health job waits."""
    from ..remote.client import ClientSettings
    from ..remote.staging import check_storage

    if not choice.remote:
        raise UsageError("choose RunPod or a FaceDeck server to test a connection")
    settings = ClientSettings(
        retry_delays=TEST_RETRY_DELAYS,
        connect_timeout=TEST_CONNECT_TIMEOUT,
        read_timeout=TEST_READ_TIMEOUT,
        queue_timeout=choice.queue_timeout,
    )
    storage = choice.storage(secrets)  # its settings are checked before anything is sent
    with choice.client(secrets, settings) as client:
        queue = client.health()
        if cancel is not None and cancel.is_set():
            raise JobCancelled("the test was stopped before its health job was sent")
        answer = client.run({"health": True}, cancel=cancel)
        label = client.endpoint.label
    if storage is not None:
        check_storage(storage)
    workers = queue.get("workers")
    counts = {
        str(name): int(count)
        for name, count in (workers.items() if isinstance(workers, dict) else ())
        if isinstance(count, int) and not isinstance(count, bool)
    }
    worker = answer if isinstance(answer, dict) else {"status": "degraded", "message": str(answer)[:200]}
    return ConnectionReport(label, counts, worker, storage.describe() if storage is not None else None)
