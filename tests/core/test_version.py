"""The version every output is stamped with is the installed distribution's."""

from __future__ import annotations

import importlib.metadata
import sys

from facedeck.core import version


def test_the_quick_lookup_agrees_with_importlib_metadata():
    assert version._version_from_dist_info_name() == importlib.metadata.version("facedeck")
    assert version.software_label() == f"FaceDeck {importlib.metadata.version('facedeck')}"


def test_the_first_metadata_folder_on_sys_path_wins_and_others_are_ignored(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    (first / "facedeck_plugin-9.9.dist-info").mkdir(parents=True)  # another distribution
    (first / "facedeck-2.0.1.dist-info").mkdir()
    (second / "facedeck-1.0.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(first), str(second)])
    assert version._version_from_dist_info_name() == "2.0.1"


def test_without_a_metadata_folder_importlib_metadata_answers(tmp_path, monkeypatch):
    monkeypatch.setattr(version, "_version_from_dist_info_name", lambda: None)
    version.software_version.cache_clear()
    try:
        assert version.software_version() == importlib.metadata.version("facedeck")
    finally:
        version.software_version.cache_clear()
