"""The software name and version that outputs are stamped with."""

from __future__ import annotations

import functools

SOFTWARE_NAME = "FaceDeck"


@functools.cache
def software_version() -> str:
    """The installed distribution's version, or ``0+unknown`` when run from a bare tree."""
    # importlib.metadata costs ~25 ms to import: paid only when a version is asked for,
    # not by every start of the command line
    from importlib import metadata

    try:
        return metadata.version("facedeck")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def software_label() -> str:
    """``FaceDeck x.y.z``: what goes into the metadata of every file FaceDeck writes."""
    return f"{SOFTWARE_NAME} {software_version()}"
