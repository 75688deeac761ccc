"""The error model: every core error has a stable code and structured fields, and the
desktop maps every code to an exit status."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import shlex

import facedeck.core
from facedeck.core import errors
from facedeck.core.errors import FaceDeckError, FieldProblem, InvalidJobError, JobCancelled, ModelMissingError
from facedeck.desktop.errors import EXIT_CODES, cli_message, exit_code


def all_error_classes() -> list[type[FaceDeckError]]:
    for info in pkgutil.walk_packages(facedeck.core.__path__, "facedeck.core."):
        importlib.import_module(info.name)
    found, pending = [], [FaceDeckError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_core_error_has_a_code_the_cli_maps_to_an_exit_status():
    classes = all_error_classes()
    assert len(classes) > 10
    for cls in classes:
        if cls is FaceDeckError:
            continue
        assert cls.code in EXIT_CODES, f"{cls.__name__} has code {cls.code!r} without an exit status"
        assert not hasattr(cls, "exit_code"), f"{cls.__name__} keeps an exit status in core"


def test_structured_fields_and_json_form():
    error = errors.InputError("clip.mp4: not a video", path="/in/clip.mp4")
    assert error.to_dict() == {"code": "input", "message": "clip.mp4: not a video", "path": "/in/clip.mp4"}
    assert exit_code(error) == 2 and exit_code(errors.NoFaceError("x")) == 3


def test_cancel_does_not_shadow_asyncio():
    assert not hasattr(errors, "CancelledError")
    assert not issubclass(JobCancelled, asyncio.CancelledError) and exit_code(JobCancelled("x")) == 130


def test_core_messages_name_no_command_and_the_cli_adds_the_hint(tmp_path):
    missing = ModelMissingError(["inswapper_128.onnx"], str(tmp_path), ids=["inswapper_128"])
    assert "facedeck" not in str(missing)
    # quoted for a POSIX shell (shlex); test_cli_models_offline.py runs such a command as printed
    assert f"facedeck --headless models download inswapper_128 --models-dir {shlex.quote(str(tmp_path))}" in (
        cli_message(missing)
    )


def test_cli_names_job_fields_by_their_flags():
    error = InvalidJobError([FieldProblem("options.enhance_strength", "140 is out of range (0 to 100)")])
    assert cli_message(error) == "--enhance-strength: 140 is out of range (0 to 100)"


def test_report_error_prints_one_line_whatever_the_message_holds(capsys):
    from facedeck.desktop.cli import report_error

    report_error("first line\nsecond line\n", 70, as_json=False)
    assert capsys.readouterr().err == "facedeck: error: first line second line\n"


def test_a_model_off_its_contract_gets_the_commands_that_replace_it(tmp_path):
    from facedeck.core.errors import ModelLoadError
    from facedeck.desktop.errors import cli_message

    folder = tmp_path / "my models"
    error = ModelLoadError(
        "inswapper_128.onnx (inswapper_128): input 'target' expects float32, this file takes float16",
        path=str(folder / "inswapper_128.onnx"),
        model="inswapper_128",
    )
    quoted = f"'{folder}'"
    assert cli_message(error) == (
        f"{error}; replace it with the published file: facedeck --headless models remove inswapper_128 "
        f"--models-dir {quoted} && facedeck --headless models download inswapper_128 --models-dir {quoted}"
    )
