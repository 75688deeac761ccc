"""The software name and version that outputs are stamped with."""

from __future__ import annotations

from importlib import metadata

SOFTWARE_NAME = "FaceDeck"


def software_version() -> str:
    """The installed distribution's version, or ``0+unknown`` when run from a bare tree."""
    try:
        return metadata.version("facedeck")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def software_label() -> str:
    """``FaceDeck x.y.z``: what goes into the metadata of every file FaceDeck writes."""
    return f"{SOFTWARE_NAME} {software_version()}"
