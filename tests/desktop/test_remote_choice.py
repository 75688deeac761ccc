"""The window's Qt-free half of remote runs: RemoteChoice (checked fields, the runner it
builds) and SecretStore (the system keyring through a real ``keyring`` backend, the
session-only fallback, the environment's keys)."""

from __future__ import annotations

import dataclasses
import logging
import sys

import pytest
from keyring.backends import fail

from facedeck.core.errors import UsageError
from facedeck.desktop.remote_choice import (
    FIELDS,
    LOCAL,
    RUNPOD,
    SERVER,
    RemoteChoice,
    field_problem,
)
from facedeck.desktop.secret_store import (
    ENVIRON,
    KEYRING,
    RUNPOD_API_KEY,
    SERVER_TOKEN,
    SERVICE,
    SESSION,
    STORAGE_SECRET_KEY,
    SecretStore,
)
from facedeck.remote.remote_run import RemoteRunner
from tests.support.keyrings import BrokenKeyring, MemoryKeyring, installed

KEY = "rpa_9c1f0e7b3d5a4e28b6f0"  # long enough that finding it anywhere is no accident


@pytest.fixture
def memory():
    with installed(MemoryKeyring()) as backend:
        yield backend


@pytest.fixture
def no_keyring():
    with installed(fail.Keyring()) as backend:
        yield backend


# ----- RemoteChoice ---------------------------------------------------------------------------
def test_local_has_no_runner_and_a_server_has_one_with_its_storage(memory):
    secrets = SecretStore(environ={})
    assert RemoteChoice().runner(secrets) is None
    secrets.set(SERVER_TOKEN, KEY)
    secrets.set(STORAGE_SECRET_KEY, "storage-secret-5d2e")
    choice = RemoteChoice(
        where=SERVER,
        server_url="http://127.0.0.1:8123",
        segments=3,
        queue_timeout=45.0,
        bucket="clips",
        storage_endpoint="http://127.0.0.1:9000",
        region="auto",
        prefix="mine/",
        keep_uploads=True,
        access_key_id="AKIA-TEST",
    )
    runner = choice.runner(secrets)
    assert isinstance(runner, RemoteRunner)
    try:
        assert runner.segments == 3 and runner.client.settings.queue_timeout == 45.0
        endpoint = runner.client.endpoint
        assert endpoint.base_url == "http://127.0.0.1:8123/v2" and endpoint.key.reveal() == KEY
        storage = runner.storage
        assert storage is not None and (storage.bucket, storage.endpoint_url, storage.region) == (
            "clips",
            "http://127.0.0.1:9000",
            "auto",
        )
        assert storage.keep and storage.prefix == "mine/" and storage.access_key == "AKIA-TEST"
        assert storage.secret_key == "storage-secret-5d2e"
        assert KEY not in repr(runner.client) and "storage-secret" not in repr(storage)
    finally:
        runner.client.close()


def test_runpod_takes_the_stored_key_and_the_environments_base_url(memory):
    secrets = SecretStore(environ={"RUNPOD_API_KEY": "from-the-environment"})
    secrets.set(RUNPOD_API_KEY, KEY)
    choice = RemoteChoice(where=RUNPOD, runpod_endpoint="abc123")
    endpoint = choice.endpoint(secrets, environ={"RUNPOD_ENDPOINT_BASE_URL": "http://127.0.0.1:9/v2"})
    assert endpoint.key.reveal() == KEY  # what is stored wins over the environment
    assert endpoint.base_url == "http://127.0.0.1:9/v2" and endpoint.label == "RunPod endpoint abc123"
    assert choice.endpoint(secrets, environ={}).base_url == "https://api.runpod.ai/v2"


def test_what_is_missing_is_said_before_anything_is_sent(no_keyring):
    secrets = SecretStore(environ={})
    with pytest.raises(UsageError, match="enter the RunPod endpoint id"):
        RemoteChoice(where=RUNPOD).runner(secrets)
    with pytest.raises(UsageError, match=r"no RunPod API key: enter it in Run on > Settings"):
        RemoteChoice(where=RUNPOD, runpod_endpoint="abc").runner(secrets)
    with pytest.raises(UsageError, match="enter the FaceDeck server's URL"):
        RemoteChoice(where=SERVER).runner(secrets)
    with pytest.raises(UsageError, match="must not hold a user name or password"):
        RemoteChoice(where=SERVER, server_url="http://me:pw@host:8000").runner(secrets)
    storage = RemoteChoice(where=SERVER, server_url="http://host:8000", bucket="b", storage_endpoint="ftp://x")
    assert storage.problem() == "the storage endpoint URL must be an http:// or https:// URL with a host"
    # no bucket, no storage: a storage endpoint alone is not looked at
    assert dataclasses.replace(storage, bucket="").problem() is None


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("where", "cloud", "not one of local, runpod, server"),
        ("where", 3, "expected text"),
        ("segments", 0, "expected a whole number from 1 to 16"),
        ("segments", 17, "expected a whole number from 1 to 16"),
        ("segments", True, "expected a whole number from 1 to 16"),
        ("queue_timeout", 5, "expected seconds from 10 to 3600"),
        ("queue_timeout", "600", "expected seconds from 10 to 3600"),
        ("keep_uploads", "yes", "expected true or false"),
        ("runpod_endpoint", "abc/../x", "an endpoint id holds only letters, digits, '-' and '_'"),
        ("server_url", "https://user:secret@host", "the URL must not hold a user name or password"),
        ("api_key", "anything", "not a remote setting FaceDeck knows"),
    ],
)
def test_damaged_fields_are_named(name, value, problem):
    assert field_problem(name, value) == problem


def test_every_default_field_passes_its_own_check():
    defaults = RemoteChoice().to_dict()
    assert set(defaults) == set(FIELDS)
    assert [name for name, value in defaults.items() if field_problem(name, value)] == []
    assert RemoteChoice.from_fields({"queue_timeout": 30, "where": LOCAL}).queue_timeout == 30.0


# ----- SecretStore ------------------------------------------------------------------------------
def test_a_system_keyring_stores_reads_and_forgets_a_key(memory):
    store = SecretStore(environ={})
    assert store.persistent and store.get(RUNPOD_API_KEY) is None
    store.set(RUNPOD_API_KEY, f"  {KEY}  ")
    assert memory.passwords == {(SERVICE, RUNPOD_API_KEY): KEY}
    assert SecretStore(environ={}).get(RUNPOD_API_KEY) == KEY  # another session reads it back
    assert store.source(RUNPOD_API_KEY) == KEYRING
    store.set(RUNPOD_API_KEY, "")
    assert memory.passwords == {} and store.get(RUNPOD_API_KEY) is None
    store.set(RUNPOD_API_KEY, None)  # forgetting what is not there is fine
    assert KEY not in repr(store)


def test_without_a_keyring_a_key_lasts_for_the_session(no_keyring):
    store = SecretStore(environ={})
    assert not store.persistent
    store.set(SERVER_TOKEN, KEY)
    assert store.get(SERVER_TOKEN) == KEY and store.source(SERVER_TOKEN) == SESSION
    assert SecretStore(environ={}).get(SERVER_TOKEN) is None  # gone with the session


def test_without_the_keyring_package_a_key_lasts_for_the_session(monkeypatch):
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring raises ImportError
    store = SecretStore(environ={})
    assert not store.persistent
    store.set(RUNPOD_API_KEY, KEY)
    assert store.get(RUNPOD_API_KEY) == KEY


def test_the_environment_serves_when_nothing_is_stored(memory):
    store = SecretStore(environ={"RUNPOD_API_KEY": KEY, "FACEDECK_SERVER_TOKEN": " tok "})
    assert store.get(RUNPOD_API_KEY) == KEY and store.source(RUNPOD_API_KEY) == ENVIRON
    assert store.get(SERVER_TOKEN) == "tok"
    assert store.stored(RUNPOD_API_KEY) is None
    assert store.get(STORAGE_SECRET_KEY) is None  # boto3 finds its own in the environment
    store.set(RUNPOD_API_KEY, "typed-in-the-dialog")
    assert store.get(RUNPOD_API_KEY) == "typed-in-the-dialog"
    with pytest.raises(KeyError):
        store.get("password")


def test_a_failing_keyring_falls_back_without_showing_the_key(caplog):
    with installed(BrokenKeyring()), caplog.at_level(logging.DEBUG):
        store = SecretStore(environ={})
        assert store.persistent  # there is a keyring: until it fails
        store.set(RUNPOD_API_KEY, KEY)
        assert not store.persistent and store.get(RUNPOD_API_KEY) == KEY
    assert "the system keyring failed for runpod_api_key (KeyringError)" in caplog.text
    assert KEY not in caplog.text
