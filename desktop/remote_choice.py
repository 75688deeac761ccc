"""Where the window runs its jobs: this computer, a RunPod endpoint or a FaceDeck server.

Qt-free, like the JobDocument: the window's "Run on" combo and its settings dialog show and
edit a :class:`RemoteChoice`, the window's settings store it field by field (checked with
:func:`field_problem` when read), and Start asks it for a runner. It holds no secret: keys
come from a :class:`~.secret_store.SecretStore` (or anything with its ``get``) at the moment
a runner is built, so the choice can be stored, logged and compared freely.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..core.errors import UsageError
from .secret_store import ENVIRONMENT, RUNPOD_API_KEY, SERVER_TOKEN, STORAGE_SECRET_KEY

if TYPE_CHECKING:
    from ..remote.client import ClientSettings, RemoteClient
    from ..remote.endpoint import Endpoint
    from ..remote.remote_run import RemoteRunner
    from ..remote.staging import StorageSettings

LOCAL, RUNPOD, SERVER = "local", "runpod", "server"
WHERE = (LOCAL, RUNPOD, SERVER)
MAX_SEGMENTS = 16
QUEUE_TIMEOUT_RANGE = (10.0, 3600.0)  # seconds a job may wait for a worker
DEFAULT_QUEUE_TIMEOUT = 600.0
DEFAULT_PREFIX = "facedeck/jobs/"  # remote.staging's default, kept here so reading settings needs no boto3
MAX_TEXT = 2000  # characters: a longer stored text is a damaged value
_ENDPOINT_ID = re.compile(r"[A-Za-z0-9_-]*")
BASE_URL_ENV = "RUNPOD_ENDPOINT_BASE_URL"


class SecretSource(Protocol):
    def get(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class RemoteChoice:
    """What "Run on" says, and the endpoint and storage details (never a key)."""

    where: str = LOCAL
    runpod_endpoint: str = ""  # the endpoint's id in RunPod's console
    server_url: str = ""  # http(s)://host:port of `facedeck --headless serve`
    segments: int = 1  # videos: parts run on that many workers at once
    queue_timeout: float = DEFAULT_QUEUE_TIMEOUT
    bucket: str = ""  # storage for videos and large photos; blank: none
    storage_endpoint: str = ""  # S3-compatible endpoint URL (R2, MinIO); blank: AWS S3
    region: str = ""
    prefix: str = DEFAULT_PREFIX
    keep_uploads: bool = False
    access_key_id: str = ""  # blank: boto3's own lookup (environment, ~/.aws)

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> RemoteChoice:
        """A choice from stored fields already checked with :func:`field_problem`."""
        values = dict(fields)
        if "queue_timeout" in values:
            values["queue_timeout"] = float(values["queue_timeout"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def remote(self) -> bool:
        return self.where != LOCAL

    def problem(self) -> str | None:
        """What keeps this choice from running a job (before any key is looked at), or None."""
        problem = None
        if self.where == RUNPOD:
            problem = field_problem("runpod_endpoint", self.runpod_endpoint)
            if not self.runpod_endpoint:
                problem = "enter the RunPod endpoint id"
        elif self.where == SERVER:
            problem = _url_problem(self.server_url, "the server URL")
            if not self.server_url:
                problem = "enter the FaceDeck server's URL"
        if problem is None and self.bucket.strip() and self.storage_endpoint.strip():
            problem = _url_problem(self.storage_endpoint, "the storage endpoint URL")
        return problem

    # ----- what runs the job --------------------------------------------------------------------
    def endpoint(self, secrets: SecretSource, environ: Mapping[str, str] | None = None) -> Endpoint:
        """The endpoint with its key; UsageError or RemoteError when something is missing."""
        from ..remote.endpoint import Endpoint

        problem = self.problem() if self.remote else "jobs run on this computer"
        if problem:
            raise UsageError(problem)
        if self.where == RUNPOD:
            key = secrets.get(RUNPOD_API_KEY)
            if not key:
                raise UsageError(
                    f"no RunPod API key: enter it in Run on > Settings, or set {ENVIRONMENT[RUNPOD_API_KEY]}"
                )
            # the key is passed in a mapping of our own, never through os.environ
            wanted = {ENVIRONMENT[RUNPOD_API_KEY]: key}
            base = (os.environ if environ is None else environ).get(BASE_URL_ENV, "").strip()
            if base:
                wanted[BASE_URL_ENV] = base
            endpoint = Endpoint.runpod(self.runpod_endpoint, wanted)
        else:
            endpoint = Endpoint.server(self.server_url, secrets.get(SERVER_TOKEN))
        # a refused key is fixed in the dialog here, not in an environment variable
        where = "the API key" if self.where == RUNPOD else "the token"
        return dataclasses.replace(endpoint, key_source=f"{where} in Run on > Settings")

    def client(
        self,
        secrets: SecretSource,
        settings: ClientSettings | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> RemoteClient:
        from ..remote.client import ClientSettings, RemoteClient

        settings = settings or ClientSettings(queue_timeout=self.queue_timeout)
        return RemoteClient(self.endpoint(secrets, environ), settings)

    def storage(self, secrets: SecretSource) -> StorageSettings | None:
        """The bucket settings, None without a bucket."""
        if not self.bucket.strip():
            return None
        from ..remote.staging import StorageSettings

        return StorageSettings(
            self.bucket.strip(),
            endpoint_url=self.storage_endpoint.strip() or None,
            region=self.region.strip() or None,
            prefix=self.prefix,
            keep=self.keep_uploads,
            access_key=self.access_key_id.strip() or None,
            secret_key=secrets.get(STORAGE_SECRET_KEY),
        )

    def runner(self, secrets: SecretSource, environ: Mapping[str, str] | None = None) -> RemoteRunner | None:
        """The runner of a remote choice; None for this computer (the caller runs ``run_job``)."""
        if not self.remote:
            return None
        from ..remote.remote_run import RemoteRunner

        storage = self.storage(secrets)
        return RemoteRunner(self.client(secrets, environ=environ), storage, segments=self.segments)


FIELDS = {field.name: field for field in dataclasses.fields(RemoteChoice)}


def field_problem(name: str, value: Any) -> str | None:
    """What is wrong with a stored value of field ``name``, or None."""
    if name not in FIELDS:
        return "not a remote setting FaceDeck knows"
    if name == "keep_uploads":
        return None if isinstance(value, bool) else "expected true or false"
    if name == "segments":
        ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_SEGMENTS
        return None if ok else f"expected a whole number from 1 to {MAX_SEGMENTS}"
    if name == "queue_timeout":
        low, high = QUEUE_TIMEOUT_RANGE
        ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"expected seconds from {low:.0f} to {high:.0f}"
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        return "expected text"
    if name == "where":
        return None if value in WHERE else f"not one of {', '.join(WHERE)}"
    if name == "runpod_endpoint" and not _ENDPOINT_ID.fullmatch(value):
        return "an endpoint id holds only letters, digits, '-' and '_'"
    if name in ("server_url", "storage_endpoint") and value:
        return _url_problem(value, "the URL")
    return None


def _url_problem(url: str, what: str) -> str | None:
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{what} must be an http:// or https:// URL with a host"
    if parts.username is not None or parts.password is not None:
        # the URL is stored with the settings and shown in messages: a password in it would be too
        return f"{what} must not hold a user name or password"
    if parts.query or parts.fragment:
        return f"{what} must not have a query string or fragment"
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        return f"{what} has a port that is not a number from 0 to 65535"
    return None
