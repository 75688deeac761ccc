"""How core errors look on the command line: exit statuses by error code, and the hints
that name FaceDeck's own commands (core messages never embed a command line)."""

from __future__ import annotations

import shlex
from pathlib import Path

from ..core.errors import FaceDeckError, InvalidJobError, ModelLoadError, ModelMissingError

EXIT_INTERNAL = 70
# The shell's convention for a command ended by signal N: 128 + N (Ctrl-C, SIGINT: 130;
# SIGHUP: 129; SIGTERM: 143), so scripts and supervisors see which signal stopped it.
EXIT_SIGNAL_BASE = 128
EXIT_INTERRUPTED = EXIT_SIGNAL_BASE + 2

# Stable codes, so scripts can branch on the status (README "Errors").
EXIT_CODES = {
    "input": 2,
    "usage": 2,
    "invalid_job": 2,
    "output": 2,
    "no_face": 3,
    "model_missing": 4,
    "model_load": 4,
    "model_verification": 4,
    "manifest": 4,
    "provider": 5,
    "runtime_install": 5,
    "download": 6,
    "upload": 6,  # a remote result that could not be stored (remote/storage.py)
    # a camera, stream, recording or virtual camera that failed: the live command's help says 1
    "live": 1,
    "cancelled": EXIT_INTERRUPTED,
    # a remote run: the endpoint, its key, the storage, or a job that failed there for a
    # reason with no code of its own (remote/client.py); a worker's own codes map as above
    "remote": 7,
}

DOWNLOAD_COMMAND = "facedeck --headless models download"

# The CLI names job fields by the flags that set them.
FLAGS = {
    "target": "-t",
    "output.path": "-o",
    "output.format": "-o",
    "output.quality": "--quality",
    "output.encoder_threads": "--encoder-threads",
    "faces.sources": "-s",
    "faces.reference": "--reference",
    "faces.mappings": "--map",
    "faces": "-s/--map",
    "tracker.detect_every": "--detect-every",
    "options.distance_threshold": "--distance",
    "options.enhance_strength": "--enhance-strength",
    "options.mask_blur": "--mask-blur",
    "options.mask_padding": "--mask-padding",
    "options.detector_size": "--detector-size",
    "options.detector_threshold": "--detector-threshold",
    "options.swapper_file": "--swapper",
    "faces.reference.time": "--reference-frame",
    "faces.reference.face": "--reference-face",
    "trim": "--start/--end",
    "trim.start": "--start",
    "trim.end": "--end",
}


def exit_code(error: FaceDeckError) -> int:
    return EXIT_CODES.get(error.code, 1)


def cli_message(error: FaceDeckError) -> str:
    """The one line the CLI prints for ``error``, with a hint where a command fixes it."""
    # imported here, not at the top: this module loads on every start, these only on an error
    from ..core.models.files import resolve_models_dir
    from ..core.models.store import ImportMismatchError, ModelVerificationError

    if isinstance(error, InvalidJobError):
        return "; ".join(f"{_flag(problem.field)}: {problem.problem}" for problem in error.problems)
    message = str(error)
    if isinstance(error, ModelMissingError) and error.ids:
        command = f"{DOWNLOAD_COMMAND} {' '.join(error.ids)}"
        # the folder this shell would use anyway needs no option; quoted so it runs when pasted
        if error.directory != str(resolve_models_dir(check=False)):
            command += f" --models-dir {shlex.quote(error.directory)}"
        message += f"; fetch them with: {command}"
    elif isinstance(error, ModelLoadError) and error.model and error.path:
        # a file off its contract was trusted or imported by hand: the published one fixes it
        folder = ""
        directory = str(Path(error.path).parent)
        if directory != str(resolve_models_dir(check=False)):
            folder = f" --models-dir {shlex.quote(directory)}"
        message += (
            f"; replace it with the published file: facedeck --headless models remove {error.model}{folder} "
            f"&& {DOWNLOAD_COMMAND} {error.model}{folder}"
        )
    elif isinstance(error, ImportMismatchError):
        message += "; pass --trust to use this exact file anyway"
    elif isinstance(error, ModelVerificationError) and error.model:
        message += (
            f"; download it again with '{DOWNLOAD_COMMAND} {error.model}', or if you trust this file, "
            f"'facedeck --headless models import {error.model} PATH --trust'"
        )
    return message


def _flag(field: str) -> str:
    base = field.split("[")[0]
    for key in (field, base):
        if key in FLAGS:
            return FLAGS[key]
    head = base.split(".media")[0]
    if head.split(".")[0] == "target":  # target.path, target.url, target.data
        return "-t"
    if head.startswith("faces.sources"):
        return "-s"
    if head.startswith("faces.mappings"):
        return "--map"
    return FLAGS.get(head, field)
