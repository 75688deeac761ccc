"""RemoteClient against a scripted endpoint (tests/support/fake_endpoint.py): what it sends,
how it retries, and the one sentence each failure ends in."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading

import pytest
import requests

from facedeck.core.errors import JobCancelled
from facedeck.desktop.errors import exit_code
from facedeck.remote.client import ClientSettings, RemoteClient, RemoteError, RemoteJobFailed, RequestTooLarge
from facedeck.remote.client_http import retry_after
from facedeck.remote.endpoint import Endpoint
from tests.remote.client.fakes import (
    ENDPOINT_ID,
    FAST,
    KEY,
    OUTPUT,
    accepted,
    completed,
    path,
    runpod_endpoint,
    state,
)
from tests.support.fake_endpoint import Drop, Reply, Stall

JOB = {"job": {"kind": "image"}}
LABEL = f"RunPod endpoint {ENDPOINT_ID}"


def statuses(fake, job_id="j1"):
    return fake.requests_to("GET", path("status", job_id))


def test_a_job_is_submitted_with_the_key_then_polled_to_its_output(fake, client):
    fake.script("POST", path("run"), accepted("j1"))
    fake.script(
        "GET", path("status", "j1"), state("j1", "IN_QUEUE"), state("j1", "IN_PROGRESS"), completed("j1")
    )
    assert client.run(JOB, policy={"executionTimeout": 900_000}) == OUTPUT

    [submitted] = fake.requests_to("POST", path("run"))
    assert submitted.json() == {"input": JOB, "policy": {"executionTimeout": 900_000}}
    assert submitted.header("Authorization") == f"Bearer {KEY}"
    assert submitted.header("Content-Type") == "application/json"
    assert int(submitted.header("Content-Length")) == len(submitted.body)
    polls = statuses(fake)
    assert len(polls) == 3
    assert all(poll.header("Authorization") == f"Bearer {KEY}" and poll.body == b"" for poll in polls)
    assert [request.method for request in fake.requests] == ["POST", "GET", "GET", "GET"]


def test_submit_status_and_wait_apart(fake, client):
    fake.script("POST", path("run"), accepted("j7"))
    fake.script("GET", path("status", "j7"), completed("j7"))
    job_id = client.submit(JOB)
    assert job_id == "j7"
    assert fake.requests_to("POST", path("run"))[0].json() == {"input": JOB}  # no policy unless given
    assert client.status(job_id)["status"] == "COMPLETED"
    assert client.wait(job_id) == OUTPUT


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_not_tried_again(fake, client, status):
    fake.script("POST", path("run"), Reply(status, {"error": "Unauthorized"}))
    with pytest.raises(RemoteError) as caught:
        client.run(JOB)
    assert str(caught.value) == f"{LABEL} refused the API key (HTTP {status}): check RUNPOD_API_KEY"
    assert len(fake.requests) == 1


def test_a_server_names_its_token(fake):
    fake.script("GET", "/v2/facedeck/health", Reply(401, {"error": "wrong token"}))
    with RemoteClient(Endpoint.server(fake.url, "not-it"), FAST) as remote:
        with pytest.raises(RemoteError) as caught:
            remote.health()
    assert str(caught.value) == (
        f"the FaceDeck server at {fake.url} refused the token (HTTP 401): check FACEDECK_SERVER_TOKEN"
    )
    with RemoteClient(Endpoint.server(fake.url, None), FAST) as remote, pytest.raises(RemoteError) as caught:
        remote.health()
    assert str(caught.value) == (
        f"the FaceDeck server at {fake.url} needs a token (HTTP 401): set FACEDECK_SERVER_TOKEN"
    )
    assert fake.requests[-1].header("Authorization") is None


def test_404_on_submit_names_the_endpoint(fake, client):
    with pytest.raises(RemoteError) as caught:
        client.run(JOB)  # the fake knows no route at all: 404
    assert str(caught.value) == f"no endpoint {ENDPOINT_ID} at {fake.url}/v2: check the endpoint id"
    assert len(fake.requests) == 1


def test_404_on_status_says_the_result_is_gone(fake, client):
    fake.script("GET", path("status", "j1"), state("j1", "IN_PROGRESS"), Reply(404, {"error": "not found"}))
    with pytest.raises(RemoteError) as caught:
        client.wait("j1")
    assert str(caught.value) == f"job j1 is no longer known to {LABEL} (results are kept 30 minutes)"


def test_429_is_tried_again_after_retry_after(fake, caplog):
    slow_down = Reply(429, {"error": "slow down"}, headers=(("Retry-After", "0"),))
    fake.script("POST", path("run"), slow_down, accepted("j1"))
    fake.script("GET", path("status", "j1"), completed("j1"))
    # the configured wait is a quarter second: the log shows the endpoint's own 0 s was used
    settings = ClientSettings(retry_delays=(0.25,), poll_first=0.01)
    with RemoteClient(runpod_endpoint(fake), settings) as remote, caplog.at_level(logging.INFO, "facedeck"):
        assert remote.run(JOB) == OUTPUT
    assert len(fake.requests_to("POST", path("run"))) == 2
    assert f"{LABEL} answered HTTP 429; trying again in 0.0 s" in caplog.messages


def test_retry_after_is_read_in_seconds_and_capped():
    def answer(value):
        response = requests.Response()
        if value is not None:
            response.headers["Retry-After"] = value
        return response

    assert retry_after(answer("2")) == 2.0
    assert retry_after(answer("0.5")) == 0.5
    assert retry_after(answer("86400")) == 60.0
    assert retry_after(answer("-3")) == 0.0
    assert retry_after(answer("Wed, 21 Oct 2015 07:28:00 GMT")) is None
    assert retry_after(answer("nan")) is None
    assert retry_after(answer(None)) is None


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_5xx_every_time_gives_up_with_the_count(fake, client, status):
    fake.script("POST", path("run"), Reply(status))
    with pytest.raises(RemoteError) as caught:
        client.run(JOB)
    assert str(caught.value) == f"{LABEL} answered HTTP {status} three times; try again later"
    assert len(fake.requests) == 3  # the first try and one per retry delay


def test_giving_up_quotes_the_endpoints_words_and_mixed_failures_name_the_last(fake, client):
    fake.script("POST", path("run"), Reply(503, {"error": "the queue is full"}))
    with pytest.raises(RemoteError) as caught:
        client.submit(JOB)
    assert str(caught.value) == f"{LABEL} answered HTTP 503 three times (the queue is full); try again later"

    fake.script("GET", path("status", "j1"), Drop(), Reply(502), Reply(500))
    with pytest.raises(RemoteError) as caught:
        client.status("j1")
    assert str(caught.value) == f"{LABEL} answered HTTP 500 on the last of 3 tries; try again later"


def test_an_endpoint_nobody_listens_on(fake):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = Endpoint.server(f"http://127.0.0.1:{port}", KEY)
    with RemoteClient(endpoint, FAST) as remote, pytest.raises(RemoteError) as caught:
        remote.health()
    assert str(caught.value) == (
        f"the FaceDeck server at http://127.0.0.1:{port} refused the connection three times; try again later"
    )


@pytest.mark.parametrize(("status", "error"), [(400, "job.colour: unknown key"), (413, "body over 1 MB")])
def test_400_and_413_carry_the_endpoints_text(fake, client, status, error):
    fake.script("POST", path("run"), Reply(status, {"error": error}))
    with pytest.raises(RemoteError) as caught:
        client.run(JOB)
    assert str(caught.value) == f"{LABEL} refused the request (HTTP {status}): {error}"
    assert len(fake.requests) == 1


def test_an_answer_that_is_not_json(fake, client):
    fake.script("POST", path("run"), Reply(200, b"<html>gateway</html>"))
    with pytest.raises(RemoteError) as caught:
        client.run(JOB)
    assert str(caught.value) == f"{LABEL} answered HTTP 200 with something that is not JSON"


def test_a_job_left_in_the_queue_is_cancelled(fake, client):
    fake.script("POST", path("run"), accepted("j1"))
    fake.script("GET", path("status", "j1"), state("j1", "IN_QUEUE"))
    fake.script("POST", path("cancel", "j1"), state("j1", "CANCELLED"))
    with pytest.raises(RemoteError) as caught:
        client.run(JOB)
    message = str(caught.value)
    match = re.fullmatch(
        rf"no worker of {LABEL} picked job j1 up in (\d+\.\d) s: the endpoint may have no workers "
        r"\(check its max workers and GPU availability\); the job was cancelled",
        message,
    )
    assert match, message
    assert float(match.group(1)) >= 0.3 - 0.05  # the seconds waited, to a tenth
    assert len(fake.requests_to("POST", path("cancel", "j1"))) == 1
    assert fake.requests[-1].path == path("cancel", "j1")  # cancelled, then no more polls


def test_failed_keeps_the_workers_text_and_code(fake, client):
    error = "no face found in target.png"
    fake.script("POST", path("run"), accepted("j1"))
    fake.script("GET", path("status", "j1"), state("j1", "FAILED", error=error, output={"code": "no_face"}))
    with pytest.raises(RemoteJobFailed) as caught:
        client.run(JOB)
    failed = caught.value
    assert (str(failed), failed.code, failed.worker_code) == (error, "no_face", "no_face")
    assert failed.fields is None
    assert exit_code(failed) == 3  # the CLI exits as a local run with no face would


def test_failed_invalid_job_keeps_its_fields(fake, client):
    fields = [{"field": "job.colour", "problem": "unknown key"}]
    fake.script("POST", path("run"), accepted("j1"))
    fake.script(
        "GET",
        path("status", "j1"),
        state("j1", "FAILED", error="invalid job (1 problem): job.colour: unknown key",
              output={"code": "invalid_job", "fields": fields}),
    )  # fmt: skip
    with pytest.raises(RemoteJobFailed) as caught:
        client.run(JOB)
    assert (caught.value.code, caught.value.fields) == ("invalid_job", fields)
    assert caught.value.to_dict()["fields"] == fields
    assert exit_code(caught.value) == 2


def test_failed_with_a_code_that_is_not_facedecks(fake, client):
    fake.script("POST", path("run"), accepted("j1"))
    failed = state("j1", "FAILED", error="disk full", output={"code": "ENOSPC"})
    fake.script("GET", path("status", "j1"), failed)
    with pytest.raises(RemoteJobFailed) as caught:
        client.run(JOB)
    error = caught.value
    assert (str(error), error.code, error.worker_code) == ("disk full", "remote", "ENOSPC")


def test_failed_by_a_raised_exception_shows_its_message_not_the_traceback(fake, client):
    # what RunPod's SDK makes of an exception a handler lets out
    error = json.dumps(
        {
            "error_type": "<class 'RuntimeError'>",
            "error_message": "CUDA out of memory",
            "error_traceback": 'Traceback (most recent call last):\n  File "/handler.py", line 3',
            "hostname": "worker-1",
        }
    )
    fake.script("POST", path("run"), accepted("j1"))
    fake.script("GET", path("status", "j1"), state("j1", "FAILED", error=error))
    with pytest.raises(RemoteJobFailed) as caught:
        client.run(JOB)
    error = caught.value
    assert (str(error), error.code, error.worker_code) == ("CUDA out of memory", "remote", None)


def test_completed_without_output_explains_the_size_limit(fake, client):
    fake.script("POST", path("run"), accepted("j1"))
    fake.script("GET", path("status", "j1"), state("j1", "COMPLETED", executionTime=40))
    with pytest.raises(RemoteError) as caught:
        client.run(JOB)
    assert str(caught.value) == (
        f"job j1 completed on {LABEL} without an output: RunPod drops results over ~20 MB, so large "
        "results need storage configured (an upload URL or the worker's bucket)"
    )


def test_cancelled_elsewhere(fake, client):
    fake.script("POST", path("run"), accepted("j1"))
    fake.script("GET", path("status", "j1"), state("j1", "IN_PROGRESS"), state("j1", "CANCELLED"))
    with pytest.raises(RemoteError) as caught:
        client.run(JOB)
    assert not isinstance(caught.value, JobCancelled)
    assert str(caught.value) == f"the job was cancelled on the endpoint ({LABEL}), not by this client"
    assert fake.requests_to("POST", path("cancel", "j1")) == []


def test_timed_out_suggests_a_longer_execution_timeout(fake, client):
    fake.script("POST", path("run"), accepted("j1"))
    fake.script("GET", path("status", "j1"), state("j1", "TIMED_OUT"))
    with pytest.raises(RemoteError) as caught:
        client.run(JOB)
    assert str(caught.value) == (
        f"job j1 ran past its execution timeout on {LABEL}; raise it (the client sends "
        "policy.executionTimeout) or use --segments"
    )


def test_an_unknown_status(fake, client):
    fake.script("GET", path("status", "j1"), state("j1", "PAUSED"))
    with pytest.raises(RemoteError, match=f"^{LABEL} answered an unknown status 'PAUSED' for job j1$"):
        client.wait("j1")


def test_dropped_connections_and_stalls_while_polling_are_survived(fake):
    fake.script(
        "GET",
        path("status", "j1"),
        state("j1", "IN_PROGRESS"),
        Drop(),
        Drop(),  # the second retry of this poll: the third try answers
        state("j1", "IN_PROGRESS"),
        Stall(5.0),  # longer than the read timeout
        completed("j1"),
    )
    settings = ClientSettings(retry_delays=(0.01, 0.02), poll_first=0.01, poll_max=0.02, read_timeout=0.2)
    with RemoteClient(runpod_endpoint(fake), settings) as remote:
        assert remote.wait("j1") == OUTPUT
    assert len(statuses(fake)) == 6


def test_a_submission_that_times_out_is_not_sent_twice(fake):
    fake.script("POST", path("run"), Stall(5.0))
    settings = ClientSettings(retry_delays=(0.01, 0.02), read_timeout=0.2)
    with RemoteClient(runpod_endpoint(fake), settings) as remote, pytest.raises(RemoteError) as caught:
        remote.run(JOB)
    assert str(caught.value) == (
        f"{LABEL} did not answer within 0.2 s to the job's submission; it was not sent again, "
        "since it may run there already"
    )
    assert len(fake.requests) == 1


def test_progress_updates_arrive_in_order_without_repeats(fake, client):
    first, second, third = ({"stage": "frames", "done": done, "total": 30} for done in (10, 20, 30))
    fake.script("POST", path("run"), accepted("j1"))
    fake.script(
        "GET",
        path("status", "j1"),
        state("j1", "IN_QUEUE"),
        state("j1", "IN_PROGRESS"),
        state("j1", "IN_PROGRESS", output=first),
        state("j1", "IN_PROGRESS", output=first),
        state("j1", "IN_PROGRESS", output=second),
        state("j1", "IN_PROGRESS", output=second),
        state("j1", "IN_PROGRESS", output=third),
        completed("j1"),
    )
    updates = []
    assert client.run(JOB, progress=updates.append) == OUTPUT
    assert updates == [first, second, third]


def test_a_user_cancel_cancels_the_remote_job(fake, client):
    fake.script("POST", path("run"), accepted("j1"))
    updates = [state("j1", "IN_PROGRESS", output={"done": done}) for done in range(9)]
    fake.script("GET", path("status", "j1"), *updates)
    fake.script("POST", path("cancel", "j1"), state("j1", "CANCELLED"))
    stop = threading.Event()

    def progress(update):
        if update["done"] == 2:
            stop.set()

    with pytest.raises(JobCancelled) as caught:
        client.run(JOB, progress=progress, cancel=stop)
    assert str(caught.value) == "cancelled; the remote job was cancelled too"
    assert caught.value.code == "cancelled"
    assert len(statuses(fake)) == 3  # no poll after the event was set
    [cancelled] = fake.requests_to("POST", path("cancel", "j1"))
    assert cancelled.header("Authorization") == f"Bearer {KEY}"
    assert fake.requests[-1] == cancelled


def test_cancel_reacts_within_the_poll_interval(fake):
    fake.script("GET", path("status", "j1"), state("j1", "IN_QUEUE"))
    fake.script("POST", path("cancel", "j1"), state("j1", "CANCELLED"))
    stop = threading.Event()

    def cancel_after_the_first_poll():
        fake.wait_for("GET", path("status", "j1"))
        stop.set()

    helper = threading.Thread(target=cancel_after_the_first_poll)
    helper.start()
    # a minute between polls: a client that slept through the event would poll again before cancelling
    settings = ClientSettings(poll_first=60.0, poll_max=60.0)
    with RemoteClient(runpod_endpoint(fake), settings) as remote, pytest.raises(JobCancelled):
        remote.wait("j1", cancel=stop)
    helper.join()
    assert [request.path for request in fake.requests] == [path("status", "j1"), path("cancel", "j1")]


def test_cancel_interrupts_a_retry_wait(fake):
    fake.script("GET", path("status", "j1"), Reply(503))
    fake.script("POST", path("cancel", "j1"), state("j1", "CANCELLED"))
    stop = threading.Event()

    def cancel_after_the_first_failure():
        fake.wait_for("GET", path("status", "j1"))
        stop.set()

    helper = threading.Thread(target=cancel_after_the_first_failure)
    helper.start()
    settings = ClientSettings(retry_delays=(60.0, 60.0))
    with RemoteClient(runpod_endpoint(fake), settings) as remote, pytest.raises(JobCancelled):
        remote.wait("j1", cancel=stop)
    helper.join()
    assert len(statuses(fake)) == 1
    assert fake.requests[-1].path == path("cancel", "j1")


def test_cancel_is_best_effort(fake, client, caplog):
    fake.script("POST", path("cancel", "j1"), Reply(500))
    with caplog.at_level(logging.WARNING, logger="facedeck"):
        assert client.cancel("j1") is False
    assert len(fake.requests) == 2  # one retry at most: someone is waiting for the stop
    assert caplog.messages == [f"could not cancel job j1: {LABEL} answered HTTP 500 twice; try again later"]
    fake.script("POST", path("cancel", "j1"), state("j1", "CANCELLED"))
    assert client.cancel("j1") is True


def test_a_user_cancel_when_the_remote_cancel_fails_says_so(fake, client):
    fake.script("GET", path("status", "j1"), state("j1", "IN_PROGRESS", output={"done": 1}))
    stop = threading.Event()
    with pytest.raises(JobCancelled) as caught:
        client.wait("j1", progress=lambda update: stop.set(), cancel=stop)
    assert str(caught.value) == (
        f"cancelled; the remote job could not be cancelled and may still run on {LABEL}"
    )


def test_health(fake, client):
    answer = {"jobs": {"completed": 3, "inQueue": 0}, "workers": {"idle": 1, "running": 0}}
    fake.script("GET", path("health"), Reply(200, answer))
    assert client.health() == answer
    fake.script("GET", path("health"), Reply(200, [1, 2]))
    with pytest.raises(RemoteError, match=f"^{LABEL} answered list where a JSON object belongs$"):
        client.health()


def test_many_threads_run_jobs_on_one_client(fake, client):
    count = 8
    fake.script("POST", path("run"), *(accepted(f"j{index}") for index in range(count)))
    for index in range(count):
        fake.script(
            "GET",
            path("status", f"j{index}"),
            state(f"j{index}", "IN_PROGRESS", output={"done": index}),
            Drop(),
            completed(f"j{index}", output={"job": index}),
        )
    results: dict[int, object] = {}
    updates: dict[int, list] = {index: [] for index in range(count)}

    def one(index):
        results[index] = client.run({"n": index}, progress=updates[index].append)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # the k-th submission to arrive got job jk: each thread must get that job's output and progress
    order = [request.json()["input"]["n"] for request in fake.requests_to("POST", path("run"))]
    assert sorted(order) == list(range(count))
    for job, thread_index in enumerate(order):
        assert results[thread_index] == {"job": job}
        assert updates[thread_index] == [{"done": job}]


def test_runsync_that_finishes_at_once_needs_no_poll(fake, client):
    fake.script("POST", path("runsync"), completed("sync-1"))
    assert client.run(JOB, policy={"executionTimeout": 60_000}, sync=True) == OUTPUT
    [request] = fake.requests
    assert (request.method, request.path) == ("POST", path("runsync"))
    assert request.json() == {"input": JOB, "policy": {"executionTimeout": 60_000}}
    assert request.header("Authorization") == f"Bearer {KEY}"


def test_runsync_still_running_is_polled(fake, client):
    update = {"stage": "frames", "done": 5, "total": 10}
    fake.script("POST", path("runsync"), state("sync-2", "IN_PROGRESS", output=update))
    fake.script(
        "GET", path("status", "sync-2"), state("sync-2", "IN_PROGRESS", output=update), completed("sync-2")
    )
    updates = []
    assert client.run(JOB, sync=True, progress=updates.append) == OUTPUT
    assert updates == [update]  # the runsync answer's own progress, not repeated by the poll
    assert len(statuses(fake, "sync-2")) == 2


def test_runsync_failed_at_once(fake, client):
    failed = state("sync-3", "FAILED", error="no face", output={"code": "no_face"})
    fake.script("POST", path("runsync"), failed)
    with pytest.raises(RemoteJobFailed) as caught:
        client.run(JOB, sync=True)
    assert (str(caught.value), caught.value.code) == ("no face", "no_face")


def test_a_body_over_runpods_limit_is_refused_before_anything_is_sent(fake, client):
    big = {"data": "x" * (10 * 1024 * 1024)}  # the JSON around it tips it over 10 MB
    with pytest.raises(RequestTooLarge) as caught:
        client.run(big)
    assert str(caught.value) == (
        f"the request is 10.0 MB (10,485,781 bytes), over the 10.0 MB (10,485,760 bytes) {LABEL} accepts "
        "on /run; send large media by URL (configure storage)"
    )
    with pytest.raises(RequestTooLarge):
        client.submit(big)
    assert fake.requests == []
    client.check_body(10 * 1024 * 1024, sync=False)  # at the limit: fine
    client.check_body(20 * 1024 * 1024, sync=True)
    with pytest.raises(RequestTooLarge, match=r"^the request is 25\.0 MB, over the 20\.0 MB .* on /runsync;"):
        client.check_body(25 * 1024 * 1024, sync=True)


def test_a_servers_limit_is_its_own(fake):
    # a self-hosted server sets its own limit (--max-body-mb) and answers 413 past it
    with RemoteClient(Endpoint.server(fake.url, None), FAST) as remote:
        assert remote.body_limit(sync=False) is None
        remote.check_body(500 * 1024 * 1024, sync=False)


def test_ctrl_c_while_waiting_cancels_the_remote_job_too(fake, client):
    """A job nobody waits for any more would still run on the endpoint, and be billed."""
    fake.script("POST", path("run"), accepted("j1"))
    fake.script("GET", path("status", "j1"), state("j1", "IN_PROGRESS", output={"done": 1, "total": 9}))
    fake.script("POST", path("cancel", "j1"), state("j1", "CANCELLED"))

    def interrupted(_update) -> None:
        raise KeyboardInterrupt  # what Ctrl-C (or the CLI's SIGTERM handler) raises mid-wait

    with pytest.raises(KeyboardInterrupt):
        client.run(JOB, progress=interrupted)
    assert len(fake.requests_to("POST", path("cancel", "j1"))) == 1
