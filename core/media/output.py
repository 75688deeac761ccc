"""Where an output may be written (never over an input) and AtomicOutput: a temporary file renamed on success.

Every output, image or video, is written to a temporary file in the output's own folder
and renamed over the final name only once it is complete, so a failure or a cancel never
leaves a half-written file under the final name (an existing file of that name stays
untouched until the rename).

The temporary name is short and never derived from the output's name
(``.facedeck-<8 random hex digits>.part``): an output name close to the file system's
255-byte limit still has room for its temporary file. Writers are told the container
format explicitly (see ``formats.container_format_for``), so the temporary name needs no
meaningful extension.

Permissions: the temporary file is created with mode 0o666 and the kernel applies the
process umask (or the folder's default ACL), exactly as for any newly created file;
``os.replace`` keeps that mode. The umask is deliberately never read here: ``os.umask``
can only be read by setting it, and it is process-wide, so every other thread would
create its files under the temporary value for that moment. (``tempfile.mkstemp``
would give 0o600, leaving outputs readable by their owner only.)

Errors name the output, never the temporary file: a writer that only knows the temporary
file (the video writer, the animation and audio sinks) writes inside :func:`naming_output`.
On a stop (Ctrl-C, SIGTERM, SIGHUP: a KeyboardInterrupt in the main thread) the caller's
clean-up discards the temporary file like on any other exception.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from ..errors import OutputError
from .formats import IMAGE_OUTPUT_EXTENSIONS, listed
from .messages import one_line

logger = logging.getLogger(__name__)

TEMP_PREFIX = ".facedeck-"
TEMP_SUFFIX = ".part"
_CREATE_ATTEMPTS = 100


# --------------------------------------------------------------------------- checks


def check_output_path(output: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Validate an image output path: a writable extension, an existing folder, not an input."""
    path = Path(output)
    suffix = path.suffix.lower()
    if suffix == ".bmp":
        raise _refused(path, "BMP cannot carry the synthetic-media marking; use .png instead")
    if suffix not in IMAGE_OUTPUT_EXTENSIONS:
        problem = f"cannot write {suffix}" if suffix else "has no file extension"
        raise _refused(path, f"{problem}; use one of {listed(IMAGE_OUTPUT_EXTENSIONS)}")
    return check_output_location(path, inputs)


def check_output_location(path: Path, inputs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Any output (image or video): not one of the inputs, in an existing folder, not a folder.

    Nor an existing device, pipe or socket: the rename at the end would replace it with a
    regular file (as root, ``-o /dev/...`` would swap a device node for a file).
    """
    for source in inputs:
        if _same_file(path, Path(source)):
            raise _refused(path, f"would overwrite the input {source}; choose another output name")
    parent = path.parent
    if not parent.is_dir():
        problem = "is not a folder" if parent.exists() else "does not exist"
        raise _refused(path, f"the folder {parent} {problem}")
    if path.is_dir():
        raise _refused(path, "is a folder; give a file name")
    try:
        mode = path.lstat().st_mode
    except OSError:
        return path  # nothing there yet (the usual case)
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise _refused(path, "is not a regular file (a device or a pipe); choose another output name")
    return path


def _refused(path: Path, problem: str) -> OutputError:
    return OutputError(f"{path}: {problem}", path=os.fspath(path))


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():  # the same path spelt differently, or a symbolic link to it
        return True
    try:
        return os.path.samefile(a, b)  # hard links, case-insensitive file systems
    except OSError:
        return False  # one of them does not exist yet


# --------------------------------------------------------------------------- atomic output


class AtomicOutput:
    """A temporary file next to ``path`` that becomes ``path`` on :meth:`commit`.

    The temporary file (:attr:`temp`) is created, empty, when the object is made; write
    it by name (an encoder) or open it. As a context manager it commits when the block
    succeeds and discards on any exception. Errors are :class:`OutputError` naming
    ``path``, never the temporary file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.temp = _create_temp(self.path)
        self._state = "open"  # "committed" or "discarded" once settled

    def __enter__(self) -> AtomicOutput:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()

    def commit(self) -> Path:
        """Rename the temporary file to :attr:`path` (replacing any file there); returns the path.

        On failure the temporary file is removed and the old file, if any, stays as it was.
        """
        if self._state == "committed":
            return self.path
        if self._state == "discarded":
            raise ValueError(f"{self.path}: the output was discarded and cannot be committed")
        try:
            os.replace(self.temp, self.path)
        except OSError as error:
            self.discard()
            reason = one_line(error.strerror or error)
            raise _refused(self.path, f"cannot write the file ({reason})") from None
        self._state = "committed"
        return self.path

    def discard(self) -> None:
        """Remove the temporary file; never raises (a file that cannot be removed is logged)."""
        if self._state != "open":
            return
        self._state = "discarded"
        try:
            os.unlink(self.temp)
        except FileNotFoundError:
            pass
        except OSError as error:
            logger.warning("could not remove temporary file %s: %s", self.temp, error)


def _create_temp(path: Path) -> Path:
    """Create an empty temporary file next to ``path``, exclusively (never an existing file).

    Mode 0o666 lets the umask decide the permissions, as for any new file (see the module
    docstring).
    """
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0)
    for _ in range(_CREATE_ATTEMPTS):
        temp = path.parent / f"{TEMP_PREFIX}{secrets.token_hex(4)}{TEMP_SUFFIX}"
        try:
            os.close(os.open(temp, flags, 0o666))
            return temp
        except FileExistsError:
            continue
        except OSError as error:
            reason = one_line(error.strerror or error)
            raise _refused(path, f"cannot write in {path.parent} ({reason})") from None
    raise _refused(path, f"cannot create a temporary file in {path.parent}")


@contextmanager
def naming_output(temp: Path, path: Path) -> Iterator[None]:
    """Errors from writing ``temp`` (the temporary file of ``path``) become OutputErrors naming ``path``.

    Writers name the file they write in their messages; when that is a temporary file, its
    name means nothing to the user. The name is random and unique, so replacing it in the
    message cannot touch anything else. An OSError (ENOSPC, EIO, ...) that no writer
    translated becomes the same one-line "cannot write the file" as elsewhere.
    """
    if temp == path:
        yield
        return
    try:
        yield
    except OutputError as error:
        message = str(error).replace(os.fspath(temp), os.fspath(path))
        raise OutputError(message, path=os.fspath(path)) from None
    except OSError as error:
        reason = one_line(error.strerror or error).replace(os.fspath(temp), os.fspath(path))
        raise _refused(path, f"cannot write the file ({reason})") from None
