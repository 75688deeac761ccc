"""The routes: RunPod's v2 queue API (``/v2/{endpoint}/run``, ``runsync``, ``status``,
``stream``, ``cancel``, ``purge-queue``, ``health``) over a :class:`JobQueue`.

Every refusal is ``{"error": "<one sentence>"}`` with its HTTP status, and the server goes
on. Auth comes first (an unauthenticated caller learns nothing, not even which endpoint
ids exist), then the endpoint id, then the body.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from .auth import TokenCheck
from .jobs import JobQueue, QueueFull
from .limits import RequestError, parse_submission, read_body, require_json
from .records import JobRecord

logger = logging.getLogger(__name__)

RUNSYNC_WAIT_MS = (1000, 300_000)  # RunPod's bounds for ?wait=


@dataclass(frozen=True)
class ServerSettings:
    endpoint_id: str | None = None  # None: any endpoint id in the path is accepted
    max_body_bytes: int = 20 * 1024 * 1024  # RunPod's /runsync limit
    runsync_wait: float = 90.0  # seconds, RunPod's default


def create_app(queue: JobQueue, token: TokenCheck, settings: ServerSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        queue.start()
        try:
            yield
        finally:
            await queue.close()

    app = FastAPI(title="FaceDeck server", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    _add_error_handlers(app)
    routes = _Routes(queue, token, settings)
    prefix = "/v2/{endpoint}"
    app.add_api_route(f"{prefix}/run", routes.run, methods=["POST"])
    app.add_api_route(f"{prefix}/runsync", routes.runsync, methods=["POST"])
    app.add_api_route(f"{prefix}/status/{{job_id}}", routes.status, methods=["GET", "POST"])
    app.add_api_route(f"{prefix}/stream/{{job_id}}", routes.stream, methods=["GET", "POST"])
    app.add_api_route(f"{prefix}/cancel/{{job_id}}", routes.cancel, methods=["POST"])
    app.add_api_route(f"{prefix}/purge-queue", routes.purge, methods=["POST"])
    app.add_api_route(f"{prefix}/health", routes.health, methods=["GET"])
    return app


class _Routes:
    def __init__(self, queue: JobQueue, token: TokenCheck, settings: ServerSettings) -> None:
        self.queue = queue
        self.token = token
        self.settings = settings

    def guard(self, request: Request, endpoint: str) -> None:
        if not self.token.allows(request.headers.get("authorization")):
            missing = "authorization" not in request.headers
            raise RequestError(
                401, "this server needs 'Authorization: Bearer <token>'" if missing else "wrong token"
            )
        if self.settings.endpoint_id is not None and endpoint != self.settings.endpoint_id:
            raise RequestError(404, f"no endpoint {endpoint!r} on this server")

    def record(self, job_id: str) -> JobRecord:
        record = self.queue.get(job_id)
        if record is not None:
            return record
        if self.queue.expired(job_id):
            keep = self.queue.settings.keep_results
            raise RequestError(
                404, f"job {job_id} ended more than {keep:g} s ago and its result is no longer kept"
            )
        raise RequestError(404, f"no job {job_id[:100]} on this server")

    async def submit(self, request: Request, endpoint: str, *, sync: bool) -> JobRecord:
        self.guard(request, endpoint)
        require_json(request)
        body = await read_body(request, self.settings.max_body_bytes)
        try:
            return self.queue.submit(parse_submission(body, sync=sync))
        except QueueFull as error:
            raise RequestError(429, str(error)) from None

    async def run(self, request: Request, endpoint: str) -> dict[str, Any]:
        record = await self.submit(request, endpoint, sync=False)
        return {"id": record.id, "status": record.status}

    async def runsync(self, request: Request, endpoint: str, wait: int | None = None) -> dict[str, Any]:
        """Waits for the job up to ``?wait=`` ms, then answers whatever its status is.

        A client that hangs up meanwhile cancels only this wait: the job is the queue's and
        its result stays readable with /status.
        """
        record = await self.submit(request, endpoint, sync=True)
        low, high = RUNSYNC_WAIT_MS
        seconds = self.settings.runsync_wait if wait is None else min(max(wait, low), high) / 1000
        await self.queue.wait(record, seconds)
        return record.answer()

    async def status(self, request: Request, endpoint: str, job_id: str) -> dict[str, Any]:
        self.guard(request, endpoint)
        return self.record(job_id).answer()

    async def stream(self, request: Request, endpoint: str, job_id: str) -> dict[str, Any]:
        self.guard(request, endpoint)
        return self.record(job_id).stream_answer()

    async def cancel(self, request: Request, endpoint: str, job_id: str) -> dict[str, Any]:
        self.guard(request, endpoint)
        record = self.record(job_id)
        await self.queue.cancel(record)
        return {"id": record.id, "status": record.status}

    async def purge(self, request: Request, endpoint: str) -> dict[str, Any]:
        self.guard(request, endpoint)
        return {"removed": self.queue.purge(), "status": "completed"}

    async def health(self, request: Request, endpoint: str) -> dict[str, Any]:
        self.guard(request, endpoint)
        answer = self.queue.counts()
        # the handler looks at model files: not on the event loop
        answer["facedeck"] = await asyncio.to_thread(self.queue.engines[0].health)
        return answer


def _add_error_handlers(app: FastAPI) -> None:
    async def refused(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestError)
        headers = None
        if error.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        elif error.status == 413:
            headers = {"Connection": "close"}  # the rest of that body is not wanted on this connection
        return JSONResponse({"error": error.message}, status_code=error.status, headers=headers)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        if error.status_code == 404:
            message = f"no route {request.method} {request.url.path}; the routes are /v2/{{endpoint}}/..."
        elif error.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(error.detail)
        return JSONResponse({"error": message}, status_code=error.status_code, headers=error.headers)

    async def bad_parameter(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        return JSONResponse({"error": f"bad request parameter: {problems}"}, status_code=400)

    async def internal(_request: Request, error: Exception) -> JSONResponse:
        logger.error("request failed: %s: %s", type(error).__name__, error)
        return JSONResponse(
            {"error": "internal error in the server; the log has the details"}, status_code=500
        )

    app.add_exception_handler(RequestError, refused)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, bad_parameter)
    app.add_exception_handler(Exception, internal)
