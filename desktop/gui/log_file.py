"""The window's log file: ``facedeck.log`` (rotated at about 1 MB, three old files kept).

It lives in the platform's per-user log folder (platformdirs), in ``FACEDECK_LOG_DIR`` when
that is set, or else in a ``logs`` folder inside ``FACEDECK_CONFIG_DIR`` when that is set:
tests and portable setups, which point the settings elsewhere, then never write into the
user's own log folder either. Only the ``facedeck`` logger's records go there, never the
environment (it can hold tokens).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs

from ...core.models.store import CONFIG_DIR_ENV
from ...core.version import SOFTWARE_NAME, software_version

log = logging.getLogger(__name__)

LOG_DIR_ENV = "FACEDECK_LOG_DIR"
LOG_NAME = "facedeck.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FILE_LEVEL = logging.INFO  # model loads, downloads and job summaries: few lines, useful in a report
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"
LOGGER = "facedeck"


def log_dir() -> Path:
    override = os.environ.get(LOG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    config = os.environ.get(CONFIG_DIR_ENV)
    if config:
        return Path(config).expanduser() / "logs"
    return Path(platformdirs.user_log_dir(SOFTWARE_NAME, appauthor=False))


def open_log_file(folder: Path | None = None) -> RotatingFileHandler | None:
    """A handler writing to ``facedeck.log`` in ``folder``; None (with a warning) if it cannot."""
    folder = log_dir() if folder is None else folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # opened now, not on the first record: a folder that cannot be written is reported
        # once here instead of as a traceback from logging on every record
        handler = RotatingFileHandler(
            folder / LOG_NAME, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as error:
        log.warning("no log file: cannot write to %s (%s)", folder, error)
        return None
    handler.setLevel(FILE_LEVEL)
    handler.setFormatter(logging.Formatter(FORMAT))
    return handler


@contextmanager
def logging_to_file(folder: Path | None = None) -> Iterator[Path | None]:
    """Within the block, ``facedeck`` records of FILE_LEVEL and above go to the log file.

    Yields the file's path, or None when it could not be opened. The handler is removed
    and closed, and the logger's level put back, when the block ends (run() may be called
    more than once in a process: tests do).
    """
    handler = open_log_file(folder)
    if handler is None:
        yield None
        return
    logger = logging.getLogger(LOGGER)
    previous_level = logger.level
    if logger.getEffectiveLevel() > FILE_LEVEL:
        logger.setLevel(FILE_LEVEL)
    logger.addHandler(handler)
    try:
        log.info("%s %s started", SOFTWARE_NAME, software_version())
        yield Path(handler.baseFilename)
    finally:
        log.info("%s closed", SOFTWARE_NAME)
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(previous_level)
