"""The headless commands: each one's module and one-line help, without importing any of them.

``facedeck --headless`` imports only the module of the command it runs: the top-level
``--help`` needs no more than these lines, and ``doctor`` need not build ``swap``'s parser.
"""

from __future__ import annotations

from typing import NamedTuple


class Command(NamedTuple):
    help: str


COMMANDS: dict[str, Command] = {
    "swap": Command("swap faces in images and videos (one, several, a folder or a glob)"),
    "doctor": Command(
        "check this machine: Python, onnxruntime and providers, PyAV and video encoders, models"
    ),
    "models": Command("list, download, verify, import and remove model files"),
    "live": Command("swap faces live from a camera, stream or clip into a recording or a virtual camera"),
    "worker": Command("run as a RunPod serverless worker (what the worker image starts)"),
    "serve": Command("serve swap jobs over HTTP with RunPod's v2 queue API, on your own machine"),
    "remote": Command("check a RunPod endpoint or a FaceDeck server (remote health)"),
}


def command_in(argv: list[str]) -> str | None:
    """The command ``argv`` runs: its first word that is not an option (global options take no value)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None
