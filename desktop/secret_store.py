"""The keys remote runs need (RunPod API key, server token, storage secret key), kept safe.

They go to the operating system's keyring through the ``keyring`` package (service
"FaceDeck"): Windows Credential Manager, macOS Keychain, the Secret Service on Linux. Where
there is none (``keyring`` not installed, its ``fail`` backend, a chainer with no backend, or a
keyring that refuses), a key is kept in this store's memory until FaceDeck closes, and
:attr:`SecretStore.persistent` says so, so the window can tell the user. With no key stored,
the environment's RUNPOD_API_KEY and FACEDECK_SERVER_TOKEN serve, as they do for the CLI.

A secret never goes to the window's settings, a log record or a message: this module logs
only which key (its name) and what went wrong, never a value.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

SERVICE = "FaceDeck"
RUNPOD_API_KEY = "runpod_api_key"
SERVER_TOKEN = "server_token"
STORAGE_SECRET_KEY = "storage_secret_key"
NAMES = (RUNPOD_API_KEY, SERVER_TOKEN, STORAGE_SECRET_KEY)
# where a key comes from when none is stored: the variables the CLI reads (remote_args.py)
ENVIRONMENT = {RUNPOD_API_KEY: "RUNPOD_API_KEY", SERVER_TOKEN: "FACEDECK_SERVER_TOKEN"}

KEYRING, SESSION, ENVIRON = "keyring", "session", "environment"


def system_keyring() -> Any | None:
    """The keyring module when a real backend is active; None when there is none.

    Imported here, not at the top: the gui extra does not install keyring, and the
    window works without it (session-only keys).
    """
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return keyring


def _keyring_errors() -> tuple[type[Exception], ...]:
    try:
        from keyring.errors import KeyringError
    except ImportError:
        return ()
    return (KeyringError,)


class SecretStore:
    """Reads and writes the named secrets (NAMES); one per window, none process-wide."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._session: dict[str, str] = {}
        self._broken = False  # the keyring failed once: this session keeps keys in memory

    def __repr__(self) -> str:
        return f"SecretStore(persistent={self.persistent})"

    @property
    def persistent(self) -> bool:
        """Whether keys outlive this session (a system keyring works)."""
        return not self._broken and system_keyring() is not None

    def get(self, name: str) -> str | None:
        """The key stored under ``name``, else the environment's (ENVIRONMENT), else None."""
        stored = self.stored(name)
        return stored if stored is not None else self.environment(name)

    def environment(self, name: str) -> str | None:
        """The environment's key for ``name`` (ENVIRONMENT), whatever is stored; None without one."""
        _check(name)
        variable = ENVIRONMENT.get(name)
        value = self._environ.get(variable, "").strip() if variable else ""
        return value or None

    def source(self, name: str) -> str | None:
        """Where :meth:`get` finds the key: KEYRING, SESSION, ENVIRON or None."""
        _check(name)
        if name in self._session:
            return SESSION
        if self._from_keyring(name) is not None:
            return KEYRING
        return ENVIRON if self.get(name) is not None else None

    def stored(self, name: str) -> str | None:
        """The key this store keeps (keyring or session), without the environment's."""
        _check(name)
        if name in self._session:
            return self._session[name]
        return self._from_keyring(name)

    def set(self, name: str, value: str | None) -> None:
        """Keep ``value`` under ``name``; None or blank forgets it (the environment's applies again)."""
        _check(name)
        value = (value or "").strip()
        self._session.pop(name, None)
        backend = None if self._broken else system_keyring()
        if backend is not None:
            try:
                if value:
                    backend.set_password(SERVICE, name, value)
                elif backend.get_password(SERVICE, name) is not None:
                    backend.delete_password(SERVICE, name)
                return
            except _keyring_errors() as error:
                self._give_up_keyring(name, error)
        if value:
            self._session[name] = value

    def _from_keyring(self, name: str) -> str | None:
        backend = None if self._broken else system_keyring()
        if backend is None:
            return None
        try:
            value = backend.get_password(SERVICE, name)
        except _keyring_errors() as error:
            self._give_up_keyring(name, error)
            return None
        return value if isinstance(value, str) and value else None

    def _give_up_keyring(self, name: str, error: Exception) -> None:
        # the error's text comes from the backend: its kind is enough, and carries no key
        log.warning(
            "the system keyring failed for %s (%s); keys are kept until FaceDeck closes",
            name,
            type(error).__name__,
        )
        self._broken = True


def _check(name: str) -> None:
    if name not in NAMES:
        raise KeyError(f"{name} is not a secret FaceDeck keeps")
