"""Keyring backends for tests: a real ``keyring`` backend that keeps passwords in memory, and
one that fails like a locked or broken system keyring. ``installed(backend)`` makes one the
active backend (``keyring.set_keyring``) and puts the previous one back afterwards, so no
test ever reads or writes the developer's own keyring.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Passwords in a dict: ``{(service, username): password}``."""

    priority = 1  # type: ignore[assignment] - keyring reads it as a class attribute

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError(f"no password for {username}")


class BrokenKeyring(KeyringBackend):
    """A keyring that is there but refuses every call (a locked Secret Service, say)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringError("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError(f"cannot store {password}")  # a careless backend would echo it

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringError("the collection is locked")


@contextmanager
def installed(backend: KeyringBackend) -> Iterator[KeyringBackend]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
