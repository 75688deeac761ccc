"""Fixtures of the remote client's tests.

- ``fake``: a scripted RunPod-shaped endpoint per test (tests/support/fake_endpoint.py);
  ``client``: a RemoteClient on it as a RunPod endpoint, with short delays (fakes.FAST);
- ``server``: one real ``facedeck --headless serve`` process for the folder (stand-in models,
  CPU, a token), started once: it costs a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from facedeck.remote.client import RemoteClient
from tests.remote.client.fakes import FAST, runpod_endpoint
from tests.remote.server_support import ServerProcess, standin_server
from tests.support.fake_endpoint import FakeEndpoint

SERVER_TOKEN = "srv-8c41e2f09a7d4b3e95c6a0d1f2b7e486"


@pytest.fixture
def fake() -> Iterator[FakeEndpoint]:
    with FakeEndpoint() as server:
        yield server


@pytest.fixture
def client(fake: FakeEndpoint) -> Iterator[RemoteClient]:
    with RemoteClient(runpod_endpoint(fake), FAST) as remote:
        yield remote


@pytest.fixture(scope="package")
def server(remote_models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("client-server")
    process = standin_server(remote_models.directory, root / "server.log", SERVER_TOKEN, endpoint="facedeck")
    yield process
    process.stop()
