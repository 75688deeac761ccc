"""The key reaches the endpoint's Authorization header and nothing else: not a log record (the
root logger and urllib3 at DEBUG), not an exception, not a repr; nor does a presigned URL's
signature (downloads are in test_download.py)."""

from __future__ import annotations

import dataclasses
import logging
import threading

from facedeck.remote.client import RemoteClient
from tests.remote.client.fakes import FAST, KEY, accepted, completed, path, runpod_endpoint, state
from tests.remote.client.test_download import RESULT, SIGNATURE
from tests.support.fake_endpoint import Cut, Drop, Reply, Stall


def _everything_that_can_fail(fake, client, tmp_path):
    """Run a success and every failure; the exceptions they raised."""
    raised: list[BaseException] = []

    def attempt(action):
        try:
            action()
        except Exception as error:  # noqa: BLE001 - every failure is collected and searched
            raised.append(error)

    job = {"job": {"kind": "image"}}
    fake.script("POST", path("run"), accepted("ok"))
    fake.script("GET", path("status", "ok"), state("ok", "IN_PROGRESS", output={"done": 1}), completed("ok"))
    attempt(lambda: client.run(job, progress=lambda update: None))
    for index, status in enumerate(
        [
            state("x", "FAILED", error="no face", output={"code": "no_face"}),
            state("x", "FAILED", error=f"the worker said Bearer {KEY}"),  # even an endpoint echoing it
            state("x", "COMPLETED"),
            state("x", "CANCELLED"),
            state("x", "TIMED_OUT"),
            state("x", "IN_QUEUE"),
            state("x", "WHAT"),
            Reply(404),
            Reply(503),
            Drop(),
            Stall(5.0),
        ]
    ):
        job_id = f"job{index}"
        fake.script("POST", path("run"), accepted(job_id))
        fake.script("GET", path("status", job_id), status)
        attempt(lambda: client.run(job))
    for status in (401, 403, 400, 413, 429, 500):
        fake.script("POST", path("run"), Reply(status, {"error": f"refused {KEY}"}))
        attempt(lambda: client.run(job))
    fake.script("POST", path("runsync"), Drop())
    attempt(lambda: client.run(job, sync=True))
    fake.script("POST", path("run"), Reply(200, b"not json"))
    attempt(lambda: client.run(job))
    attempt(lambda: client.run({"data": "x" * (11 * 1024 * 1024)}))
    fake.script("POST", path("cancel", "c1"), Reply(500))
    attempt(lambda: client.cancel("c1"))
    fake.script("GET", path("status", "c2"), state("c2", "IN_PROGRESS", output={"done": 1}))
    stop = threading.Event()
    attempt(lambda: client.wait("c2", progress=lambda update: stop.set(), cancel=stop))
    fake.script("GET", path("health"), Reply(404))
    attempt(client.health)
    for name, script in (
        ("a", [Reply(503), Reply(200, RESULT)]),
        ("b", [Reply(403)]),
        ("c", [Cut(Reply(200, RESULT), 1000)]),
    ):
        fake.script("GET", f"/store/{name}.bin", *script)
        url = f"{fake.url}/store/{name}.bin?{SIGNATURE}"
        attempt(lambda url=url, dest=tmp_path / name: client.download(url, dest))
    return raised


def _chain(error: BaseException | None):
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def test_the_key_is_in_no_log_no_error_and_no_repr(fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    settings = dataclasses.replace(FAST, read_timeout=0.3)
    endpoint = runpod_endpoint(fake)
    with RemoteClient(endpoint, settings) as client:
        raised = _everything_that_can_fail(fake, client, tmp_path)
        shown = [repr(client), str(client), repr(endpoint), str(endpoint), repr(endpoint.key), endpoint.label]
    assert len(raised) == 24  # every scenario but the success, the download and the best-effort cancel
    assert any(record.name.startswith("urllib3") for record in caplog.records)  # the DEBUG log was on
    assert any(request.header("Authorization") == f"Bearer {KEY}" for request in fake.requests)  # it was used

    texts = list(shown)
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args), record.exc_text or "", repr(record.__dict__)]
    texts.append(caplog.text)
    for error in raised:
        for link in _chain(error):
            texts += [str(link), repr(link), repr(link.args), repr(vars(link))]
    leaks = [text for text in texts if KEY in text or SIGNATURE in text]
    assert leaks == []
