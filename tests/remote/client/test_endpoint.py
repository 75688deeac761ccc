"""Endpoint and Secret: where jobs go, read from the environment as RunPod's SDK reads it,
and a key that shows as '<redacted>' however it is printed."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

from facedeck.remote.client import RemoteError
from facedeck.remote.endpoint import RUNPOD_BASE_URL, Endpoint, Secret

KEY = "rpa_0b9e7d2c4f6a41e3a5c8d7e6f1b2a3c4"


def test_secret_shows_redacted_everywhere_but_reveal(caplog):
    secret = Secret(KEY)
    assert secret.reveal() == KEY
    shown = [str(secret), repr(secret), f"{secret}", f"{secret!r}", f"{secret:>40}", "%s" % (secret,)]  # noqa: UP031
    assert all(KEY not in text and "<redacted>" in text for text in shown)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("facedeck.test").debug("key %s %r", secret, secret)
    assert KEY not in caplog.text
    assert Secret(KEY) == secret and Secret("other") != secret and hash(Secret(KEY)) == hash(secret)
    assert copy.deepcopy(secret) is secret
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_runpod_reads_the_key_and_the_base_url_like_the_sdk():
    endpoint = Endpoint.runpod("abc123", {"RUNPOD_API_KEY": f"  {KEY}\n"})
    assert (endpoint.base_url, endpoint.endpoint_id, endpoint.kind) == (RUNPOD_BASE_URL, "abc123", "runpod")
    assert endpoint.key is not None and endpoint.key.reveal() == KEY
    assert endpoint.label == "RunPod endpoint abc123"
    assert endpoint.route("status", "job-1") == "https://api.runpod.ai/v2/abc123/status/job-1"
    assert endpoint.route("status", "a/b?c") == "https://api.runpod.ai/v2/abc123/status/a%2Fb%3Fc"
    assert KEY not in repr(endpoint) and KEY not in str(endpoint)

    elsewhere = Endpoint.runpod(
        "abc123", {"RUNPOD_API_KEY": KEY, "RUNPOD_ENDPOINT_BASE_URL": "http://127.0.0.1:9000/v2/"}
    )
    assert elsewhere.base_url == "http://127.0.0.1:9000/v2"


@pytest.mark.parametrize("environ", [{}, {"RUNPOD_API_KEY": ""}, {"RUNPOD_API_KEY": "   "}])
def test_runpod_without_a_key_says_which_variable(environ):
    with pytest.raises(RemoteError) as caught:
        Endpoint.runpod("abc123", environ)
    assert str(caught.value) == "set RUNPOD_API_KEY to your RunPod API key"
    assert caught.value.code == "remote"


@pytest.mark.parametrize("endpoint_id", ["", "abc 123", "abc/123", "../x", "abc?x=1", "é"])
def test_endpoint_ids_hold_letters_digits_dashes_and_underscores_only(endpoint_id):
    with pytest.raises(RemoteError, match="may hold only letters, digits, '-' and '_'"):
        Endpoint.runpod(endpoint_id, {"RUNPOD_API_KEY": KEY})
    with pytest.raises(RemoteError, match="may hold only letters"):
        Endpoint.server("http://127.0.0.1:8000", None, endpoint_id)


@pytest.mark.parametrize(
    ("url", "base", "label"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v2", "the FaceDeck server at http://127.0.0.1:8000"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v2", "the FaceDeck server at http://127.0.0.1:8000"),
        ("https://gpu.example.com/v2", "https://gpu.example.com/v2", "the FaceDeck server at https://gpu.example.com"),
        (
            "https://example.com/facedeck/",
            "https://example.com/facedeck/v2",
            "the FaceDeck server at https://example.com/facedeck",
        ),
    ],
)
def test_server_urls_get_v2_once(url, base, label):
    endpoint = Endpoint.server(url, KEY)
    assert (endpoint.base_url, endpoint.endpoint_id, endpoint.kind) == (base, "facedeck", "server")
    assert endpoint.label == label
    assert endpoint.route("run") == f"{base}/facedeck/run"
    assert endpoint.key is not None and endpoint.key.reveal() == KEY


def test_server_without_a_token_sends_none():
    assert Endpoint.server("http://127.0.0.1:8000", None).key is None
    assert Endpoint.server("http://127.0.0.1:8000", "  ").key is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://127.0.0.1/", "must be an http:// or https:// URL with a host"),
        ("127.0.0.1:8000", "must be an http:// or https:// URL with a host"),
        ("http://", "must be an http:// or https:// URL with a host"),
        ("http://127.0.0.1:99999", "has a port that is not a number"),
        (f"http://user:{KEY}@127.0.0.1:8000", "must not hold a user name or password"),
        (f"http://127.0.0.1:8000/?token={KEY}", "must not have a query string"),
    ],
)
def test_bad_server_urls_are_refused_without_echoing_them(url, problem):
    with pytest.raises(RemoteError) as caught:
        Endpoint.server(url, None)
    assert problem in str(caught.value)
    assert KEY not in str(caught.value)
