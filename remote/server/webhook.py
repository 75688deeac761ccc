"""A job's webhook: its final /status answer POSTed once it ends, as RunPod does.

Logs name the webhook by scheme, host and path only: a query string can carry a
signature or a token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from .records import JobRecord

logger = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF_SECONDS = 2.0
TIMEOUT = (5.0, 15.0)  # connect, read


def shown(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


def post_webhook(url: str, answer: dict[str, Any], *, session: requests.Session | None = None) -> bool:
    """POST ``answer`` to ``url``; retried on a connection error or a 5xx. True once delivered."""
    client = session or requests.Session()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = client.post(url, json=answer, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as error:
            reason = type(error).__name__
        else:
            if response.status_code < 500:
                if response.status_code >= 400:
                    logger.warning(
                        "webhook %s refused job %s: HTTP %d", shown(url), answer["id"], response.status_code
                    )
                return response.status_code < 400
            reason = f"HTTP {response.status_code}"
        logger.warning(
            "webhook %s for job %s failed (%s), attempt %d of %d",
            shown(url),
            answer["id"],
            reason,
            attempt,
            ATTEMPTS,
        )
        if attempt < ATTEMPTS:
            time.sleep(BACKOFF_SECONDS * attempt)
    return False


class WebhookSender:
    """The queue's ``on_finished``: posts in a thread so a slow receiver holds up no job."""

    def __init__(self) -> None:
        self._pending: set[asyncio.Future[bool]] = set()

    def __call__(self, record: JobRecord) -> None:
        if record.webhook is None:
            return
        future = asyncio.ensure_future(asyncio.to_thread(post_webhook, record.webhook, record.answer()))
        self._pending.add(future)  # a task nobody holds can be collected before it runs
        future.add_done_callback(self._pending.discard)
