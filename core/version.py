"""The software name and version that outputs are stamped with."""

from __future__ import annotations

import functools
import os
import sys

SOFTWARE_NAME = "FaceDeck"
DISTRIBUTION = "facedeck"


@functools.cache
def software_version() -> str:
    """The installed distribution's version, or ``0+unknown`` when run from a bare tree."""
    found = _version_from_dist_info_name()
    if found is not None:
        return found
    # importlib.metadata costs ~18 ms to import (email, csv, zipfile): the fallback only,
    # for installs whose metadata folder is not a plain directory on sys.path
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _version_from_dist_info_name() -> str | None:
    """The version in the name of the installed metadata folder, ``facedeck-X.Y.Z.dist-info``.

    PEP 427 names that folder ``{name}-{version}.dist-info``; pip, editable installs included,
    keeps one per installed distribution. Searched in sys.path order, as Python imports.
    """
    prefix, suffix = f"{DISTRIBUTION}-", ".dist-info"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip file, a missing folder
            continue
        for name in names:
            if name.lower().startswith(prefix) and name.endswith(suffix):
                return name[len(prefix) : -len(suffix)]
    return None


def software_label() -> str:
    """``FaceDeck x.y.z``: what goes into the metadata of every file FaceDeck writes."""
    return f"{SOFTWARE_NAME} {software_version()}"
