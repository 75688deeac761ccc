"""Options and set-up shared by the headless commands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ...core.models import files as model_files
from ...core.runtime.providers import PROVIDER_NAMES


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--models-dir",
        metavar="DIR",
        help=f"folder with the model files (default: ${model_files.MODELS_DIR_ENV}, "
        f"else {model_files.default_models_dir()})",
    )
    parser.add_argument(
        "--provider",
        default="auto",
        help=f"onnxruntime execution provider: auto, {', '.join(PROVIDER_NAMES)} "
        "(default: auto, the best one available here; 'doctor' lists them)",
    )


def checked_number(
    parse: Callable[[str], Any], problem_of: Callable[[Any], str | None], name: str = "number"
) -> Callable[[str], Any]:
    """An argparse ``type``: parses with ``parse`` (int or float), then ``problem_of`` the
    value (None when it is fine, else the message argparse shows)."""
    kind = "a whole number" if parse is int else "a number"

    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        problem = problem_of(value)
        if problem is not None:
            raise argparse.ArgumentTypeError(problem)
        return value

    convert.__name__ = name
    return convert


def emit_json(event: str, **fields: Any) -> None:
    """One machine-readable result line on stdout."""
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


def say(message: str) -> None:
    """A line for people, on stdout."""
    print(message, file=sys.stdout, flush=True)
