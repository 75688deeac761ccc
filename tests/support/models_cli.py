"""Running ``facedeck --headless models ...`` in a real process, and running a command it printed."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

FACEDECK = [sys.executable, "-m", "facedeck.desktop"]
HEADLESS = [*FACEDECK, "--headless"]


def facedeck(
    *args: str, env: dict | None = None, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*HEADLESS, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        input=stdin,
    )


def printed_command(message: str, after: str, until: str | None = None) -> list[str]:
    """The ``facedeck ...`` command that ``message`` prints after ``after`` (up to ``until``),
    split as a POSIX shell would, with ``facedeck`` replaced by this interpreter running it."""
    text = message.split(after, 1)[1]
    if until is not None:
        text = text.split(until, 1)[0]
    words = shlex.split(text.strip())
    assert words[0] == "facedeck", words
    return [*FACEDECK, *words[1:]]


def run_printed(
    words: list[str], env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        words, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout
    )
