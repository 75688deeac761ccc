"""The command catalogue: which command a command line runs, found without importing any."""

from __future__ import annotations

import subprocess
import sys

import pytest

from facedeck.desktop.headless.catalog import COMMANDS, command_in


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["doctor"], "doctor"),
        (["--debug", "-v", "swap", "-s", "doctor"], "swap"),  # later words are the command's own
        (["models", "download", "--all"], "models"),
        (["--help"], None),
        (["bogus", "swap"], None),  # argparse reports the unknown command, not us
        ([], None),
    ],
)
def test_the_command_is_the_first_word_that_is_not_an_option(argv, command):
    assert command_in(argv) == command


def test_the_overview_lists_every_command_with_the_help_its_own_parser_has():
    overview = subprocess.run(
        [sys.executable, "-m", "facedeck.desktop", "--headless", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    flat = " ".join(overview.split())
    for name, command in COMMANDS.items():
        assert f"{name} {command.help}" in flat
