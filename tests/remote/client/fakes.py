"""What the client tests against the fake endpoint share: the key, the endpoint, short delays,
and RunPod-shaped replies (tests/support/fake_endpoint.py serves them)."""

from __future__ import annotations

from typing import Any

from facedeck.remote.client import ClientSettings
from facedeck.remote.endpoint import Endpoint
from tests.support.fake_endpoint import FakeEndpoint, Reply

KEY = "rpa_5d1c0f7e9b3a4c62b8e0d4f1a7c93e25"  # long enough that finding it anywhere is no accident
ENDPOINT_ID = "ep-test_1"
# production waits 1, 2, 4, 8 s between tries and polls from 0.25 s up to 3 s
FAST = ClientSettings(
    retry_delays=(0.01, 0.02),
    poll_first=0.01,
    poll_max=0.05,
    poll_factor=1.5,
    queue_timeout=0.3,
    connect_timeout=5.0,
    read_timeout=5.0,
)
OUTPUT = {"kind": "image", "output": {"format": "png", "data": "iVBORw0KGgo=", "bytes": 8}}


def runpod_endpoint(fake: FakeEndpoint) -> Endpoint:
    """A RunPod endpoint whose base URL (RUNPOD_ENDPOINT_BASE_URL, as the SDK reads it) is the fake."""
    return Endpoint.runpod(ENDPOINT_ID, {"RUNPOD_API_KEY": KEY, "RUNPOD_ENDPOINT_BASE_URL": f"{fake.url}/v2"})


def path(*parts: str) -> str:
    """A route's path on the fake: ``path("status", "j1")``."""
    return "/".join(("", "v2", ENDPOINT_ID, *parts))


def accepted(job_id: str) -> Reply:
    """What /run answers."""
    return Reply(200, {"id": job_id, "status": "IN_QUEUE"})


def state(job_id: str, status: str, **fields: Any) -> Reply:
    """A /status answer."""
    return Reply(200, {"id": job_id, "status": status, **fields})


def completed(job_id: str, output: Any = OUTPUT) -> Reply:
    return state(job_id, "COMPLETED", delayTime=12, executionTime=345, output=output)
