"""The request body: read within its size limit, then parsed into a job submission.

The limit holds while reading, whatever ``Content-Length`` says: a declared length over
the limit is refused before anything is kept, a chunked or lying body is counted as it
arrives. What is over the limit is read and thrown away (briefly, up to a cap) so the
client, which sends its whole body before reading an answer, gets the 413 instead of a
reset connection.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import ClientDisconnect, Request

from .jobs import Submission

DRAIN_SECONDS = 5.0  # at most this long spent throwing away an oversize body
DRAIN_GAP_SECONDS = 1.0  # nor waiting longer than this for its next chunk
DRAIN_BYTES = 256 * 1024 * 1024
BODY_KEYS = ("input", "webhook", "policy")
POLICY_KEYS = ("executionTimeout", "ttl")
MAX_POLICY_MS = 7 * 24 * 3600 * 1000


class RequestError(Exception):
    """A request the server refuses: the HTTP status and one sentence for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def too_large(limit: int) -> RequestError:
    return RequestError(
        413, f"the request body is over this server's limit of {_size(limit)} (--max-body-mb)"
    )


async def read_body(request: Request, limit: int) -> bytes:
    stream = request.stream()  # one iterator: Starlette lets a body be streamed once
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        await _drain(stream)
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in stream:
            size += len(chunk)
            if size > limit:
                await _drain(stream)
                raise too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        # nobody reads this answer; it keeps a hang-up out of the error log
        raise RequestError(400, "the client hung up before the whole body arrived") from None
    return b"".join(chunks)


async def _drain(stream: AsyncIterator[bytes]) -> None:
    thrown = 0
    deadline = asyncio.get_running_loop().time() + DRAIN_SECONDS
    try:
        while thrown <= DRAIN_BYTES:
            left = deadline - asyncio.get_running_loop().time()
            # a client that declared more than it sends must not hold the answer for long
            chunk = await asyncio.wait_for(stream.__anext__(), min(DRAIN_GAP_SECONDS, max(left, 0.0)))
            thrown += len(chunk)
    except (StopAsyncIteration, asyncio.TimeoutError, ClientDisconnect, OSError):
        pass  # the body ended, stalled or went away: the 413 goes out all the same


def require_json(request: Request) -> None:
    # A browser page may post text/plain across origins without asking first; asking for
    # JSON makes such a post need a CORS preflight, which this server never grants.
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        shown = media_type or "none"
        raise RequestError(415, f"send the body as application/json (the Content-Type was {shown})")


def parse_submission(body: bytes, *, sync: bool) -> Submission:
    """``{"input": ..., "webhook"?: url, "policy"?: {"executionTimeout": ms, "ttl": ms}}``."""
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise RequestError(400, f"the body is not valid JSON: {error}") from None
    if not isinstance(request, dict):
        raise RequestError(400, 'the body must be a JSON object like {"input": {...}}')
    unknown = sorted(set(request) - set(BODY_KEYS))
    if unknown:
        raise RequestError(400, f"unknown field(s) {', '.join(unknown)}; known: {', '.join(BODY_KEYS)}")
    if "input" not in request or request["input"] is None:
        raise RequestError(400, 'the body has no "input"; send {"input": {...}}')
    webhook = request.get("webhook")
    if webhook is not None:
        _check_webhook(webhook)
    policy = _policy(request.get("policy"))
    return Submission(
        input=request["input"],
        execution_timeout=policy.get("executionTimeout"),
        ttl=policy.get("ttl"),
        webhook=webhook,
        sync=sync,
    )


def _check_webhook(webhook: Any) -> None:
    parts = urlsplit(webhook) if isinstance(webhook, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise RequestError(400, "webhook must be an http or https URL")


def _policy(policy: Any) -> dict[str, float]:
    """The policy's times in seconds (RunPod sends milliseconds)."""
    if policy is None:
        return {}
    if not isinstance(policy, dict):
        raise RequestError(400, 'policy must be an object like {"executionTimeout": 600000}')
    unknown = sorted(set(policy) - set(POLICY_KEYS))
    if unknown:
        raise RequestError(
            400, f"unknown policy field(s) {', '.join(unknown)}; known: {', '.join(POLICY_KEYS)}"
        )
    seconds: dict[str, float] = {}
    for key in POLICY_KEYS:
        value = policy.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_POLICY_MS:
            raise RequestError(400, f"policy.{key} must be milliseconds between 1 and {MAX_POLICY_MS}")
        seconds[key] = value / 1000
    return seconds


def _size(limit: int) -> str:
    megabytes = limit / (1024 * 1024)
    return f"{megabytes:g} MB"
