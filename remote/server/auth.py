"""The bearer token: where it comes from, when it is required, and the check itself.

The token never travels on the command line (``ps`` shows every user a process's
arguments): it comes from ``FACEDECK_SERVER_TOKEN`` or a file named by ``--token-file``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from ...core.errors import UsageError

logger = logging.getLogger(__name__)

TOKEN_ENV = "FACEDECK_SERVER_TOKEN"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` keeps the server to this machine."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface, so it counts as beyond loopback


def load_token(token_file: str | None, environ: Mapping[str, str]) -> str | None:
    """The token from ``--token-file`` or the environment; None when neither gives one.

    Both at once is refused rather than silently preferring one: a stale variable in a
    service's environment would otherwise decide which clients get in.
    """
    from_env = environ.get(TOKEN_ENV, "")
    if token_file is not None:
        if from_env.strip():
            raise UsageError(f"give the token either in {TOKEN_ENV} or with --token-file, not both")
        return _read_token_file(Path(token_file).expanduser())
    token = from_env.strip()
    if TOKEN_ENV in environ and not token:
        raise UsageError(f"{TOKEN_ENV} is set but empty; put the token in it or unset it")
    return token or None


def _read_token_file(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"token file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
        raise UsageError(f"cannot read token file {path}: {reason}") from None
    token = text.strip()
    if not token:
        raise UsageError(f"token file {path} is empty")
    if "\n" in token:
        raise UsageError(f"token file {path} holds several lines; it must hold the token only")
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
        logger.warning("token file %s is readable by other users; chmod 600 it", path)
    return token


def require_token_beyond_loopback(host: str, token: str | None) -> None:
    if token is None and not is_loopback(host):
        raise UsageError(
            f"listening on {host} reaches other machines: set a token in {TOKEN_ENV} or give "
            "--token-file (or listen on 127.0.0.1)"
        )


class TokenCheck:
    """Compares an ``Authorization: Bearer ...`` header with the token in constant time."""

    def __init__(self, token: str | None) -> None:
        self._expected = token.encode("utf-8") if token is not None else None

    @property
    def enabled(self) -> bool:
        return self._expected is not None

    def allows(self, authorization: str | None) -> bool:
        if self._expected is None:
            return True
        scheme, _, credentials = (authorization or "").strip().partition(" ")
        # compare_digest takes as long for a near miss as for a wild guess
        matches = hmac.compare_digest(credentials.strip().encode("utf-8", "replace"), self._expected)
        return matches and scheme.lower() == "bearer"  # the scheme is case-insensitive (RFC 9110)
