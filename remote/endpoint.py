"""Where remote jobs go: a RunPod serverless endpoint or a self-hosted FaceDeck server.

Both speak RunPod's v2 queue API under ``{base_url}/{endpoint_id}/``, so an :class:`Endpoint`
is a base URL, an endpoint id, the key that opens it and which of the two it is (messages
tell the user to check RUNPOD_API_KEY or FACEDECK_SERVER_TOKEN accordingly).

The key is a :class:`Secret`: printing, formatting or repr-ing it (or the Endpoint that holds
it) shows ``<redacted>``; only :meth:`Secret.reveal` gives the text, for the one header that
needs it.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

from .client_errors import RemoteError

RUNPOD_BASE_URL = "https://api.runpod.ai/v2"
RUN_BODY_LIMIT = 10 * 1024 * 1024  # RunPod /run body limit (bytes of the JSON body)
RUNSYNC_BODY_LIMIT = 20 * 1024 * 1024  # /runsync

# the variables RunPod's own SDK reads (runpod/__init__.py), so one environment serves both
API_KEY_ENV = "RUNPOD_API_KEY"
BASE_URL_ENV = "RUNPOD_ENDPOINT_BASE_URL"
SERVER_TOKEN_ENV = "FACEDECK_SERVER_TOKEN"

RUNPOD = "runpod"
SERVER = "server"
DEFAULT_SERVER_ENDPOINT = "facedeck"  # the server accepts any endpoint id unless told one

_ENDPOINT_ID = re.compile(r"[A-Za-z0-9_-]+")
_REDACTED = "<redacted>"


class Secret:
    """A key or token: str(), repr() and format() show '<redacted>'; reveal() gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return _REDACTED

    def __repr__(self) -> str:
        return f"Secret({_REDACTED!r})"

    def __format__(self, spec: str) -> str:
        return format(_REDACTED, spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # constant time: equality must not become a way to guess a key byte by byte
        return hmac.compare_digest(self._value.encode("utf-8"), other._value.encode("utf-8"))

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __copy__(self) -> Secret:
        return self  # immutable: copies may share it

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self

    def __reduce__(self) -> str | tuple[object, ...]:
        # a pickled Secret would carry the key in clear into whatever stores the pickle
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class Endpoint:
    """One remote place to run jobs; build it with :meth:`runpod` or :meth:`server`."""

    base_url: (
        str  # without trailing slash, ends with /v2: "https://api.runpod.ai/v2", "http://127.0.0.1:8000/v2"
    )
    endpoint_id: str
    key: Secret | None
    kind: str  # "runpod" or "server"
    # where the user sets the key, for messages; None: the environment variable
    key_source: str | None = None

    @classmethod
    def runpod(cls, endpoint_id: str, environ: Mapping[str, str]) -> Endpoint:
        """RUNPOD_API_KEY (required) and RUNPOD_ENDPOINT_BASE_URL (optional), read as RunPod's SDK does."""
        key = environ.get(API_KEY_ENV, "").strip()
        if not key:
            raise RemoteError(f"set {API_KEY_ENV} to your RunPod API key")
        base = environ.get(BASE_URL_ENV, "").strip() or RUNPOD_BASE_URL
        _check_url(base, what=BASE_URL_ENV)
        return cls(base.rstrip("/"), _checked_id(endpoint_id), Secret(key), RUNPOD)

    @classmethod
    def server(cls, url: str, token: str | None, endpoint_id: str = DEFAULT_SERVER_ENDPOINT) -> Endpoint:
        """A self-hosted server at ``http(s)://host:port`` (a path prefix allowed); '/v2' is appended
        unless the path already ends with it. A blank token means none."""
        parts = _check_url(url.strip(), what="the server URL")
        path = parts.path.rstrip("/")
        if not path.endswith("/v2"):
            path += "/v2"
        base = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        secret = Secret(token.strip()) if token is not None and token.strip() else None
        return cls(base, _checked_id(endpoint_id), secret, SERVER)

    def route(self, *parts: str) -> str:
        """The URL of one API route: ``route("status", job_id)``; each part is URL-quoted."""
        return f"{self.base_url}/{self.endpoint_id}/{'/'.join(quote(part, safe='') for part in parts)}"

    @property
    def label(self) -> str:
        """How messages name this endpoint (never with its key)."""
        if self.kind == RUNPOD:
            return f"RunPod endpoint {self.endpoint_id}"
        return f"the FaceDeck server at {self.base_url.removesuffix('/v2')}"

    @property
    def key_hint(self) -> str:
        """Where the user sets this endpoint's key."""
        if self.key_source is not None:
            return self.key_source
        return API_KEY_ENV if self.kind == RUNPOD else SERVER_TOKEN_ENV


def _checked_id(endpoint_id: str) -> str:
    if not _ENDPOINT_ID.fullmatch(endpoint_id):
        shown = endpoint_id[:60] or "(empty)"
        raise RemoteError(f"endpoint id {shown!r} may hold only letters, digits, '-' and '_'")
    return endpoint_id


def _check_url(url: str, *, what: str) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteError(f"{what} must be an http:// or https:// URL with a host")
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise RemoteError(f"{what} has a port that is not a number from 0 to 65535") from None
    if parts.username is not None or parts.password is not None:
        # a URL ends up in messages and logs: credentials in it would too
        raise RemoteError(f"{what} must not hold a user name or password; the key goes in its own variable")
    if parts.query or parts.fragment:
        raise RemoteError(f"{what} must not have a query string or fragment")
    return parts
