"""The README and the command line agree: its commands parse, its lists match the code."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from facedeck.core.runtime.providers import PROVIDER_NAMES
from facedeck.desktop.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    """Every runnable ``facedeck --headless ...`` the README shows: shell lines and inline code."""
    shell = re.findall(r"^(facedeck --headless [^#\n]+?)\s*(?:#.*)?$", README, re.M)
    inline = re.findall(r"`(facedeck --headless [^`|.]+)`", README)
    commands = [line for line in shell + inline if not re.search(r"\d\.\d{3}", line)]  # not bench rows
    assert len(commands) >= 5, commands  # the patterns still find the README's commands
    return sorted(set(commands))


@pytest.mark.parametrize("command", readme_commands())
def test_every_command_in_the_readme_parses(command):
    argv = shlex.split(command)[2:]  # after "facedeck --headless"
    if argv[-1:] == ["ACTION"] or not argv:
        pytest.skip("a placeholder")
    parser = build_parser(argv)
    if argv[0] == "worker":  # RunPod's own flags are left for the SDK, as run_headless does
        args, sdk_args = parser.parse_known_args(argv)
        assert all(word.startswith(("--rp_", "--test_input")) for word in sdk_args if word.startswith("-"))
    else:
        args = parser.parse_args(argv)
    assert args.command == argv[0]


def test_the_readme_lists_the_providers_the_code_accepts():
    listed = re.search(r"`--provider ([a-z|]+)`", README)
    assert listed is not None
    assert listed.group(1).split("|") == ["auto", *PROVIDER_NAMES]


def test_the_readme_lists_the_swappers_the_manifest_has():
    from facedeck.core.models.manifest import load_manifest

    listed = re.search(r"`--swapper ([a-z0-9_|]+)`", README)
    assert listed is not None
    assert listed.group(1).split("|") == [spec.id for spec in load_manifest().for_role("swapper")]
