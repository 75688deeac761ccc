"""Folders a write fails in for real: a read-only one, and a tiny file system that fills up.

As root (containers, CI) permissions do not stop a write, so a read-only folder is a tmpfs
mounted read-only; as another user a folder with its write bits removed does the same. A
full file system needs a mount as well. Where neither can be made the test is skipped with
the reason.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=30)


@contextmanager
def mounted_tmpfs(folder: Path, *, size: str, read_only: bool = False) -> Iterator[Path]:
    """``folder`` (created) with a tmpfs of ``size`` ("64k", "1m") mounted on it for the block."""
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    try:
        mounted = _run("mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder))
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"cannot mount a tmpfs here ({error})")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    try:
        yield folder
    finally:
        _run("umount", str(folder))


@contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """A folder nothing can be created in, for whoever runs the tests."""
    if os.name == "posix" and os.geteuid() == 0:  # root ignores permission bits
        with mounted_tmpfs(folder, size="64k", read_only=True) as mounted:
            yield mounted
        return
    if os.name != "posix":
        pytest.skip("no read-only folder can be made on this system")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        yield folder
    finally:
        folder.chmod(stat.S_IRWXU)
