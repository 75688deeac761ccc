"""The window's job document, without Qt: the SwapJob it builds is the CLI's."""

from __future__ import annotations

import argparse

import pytest

from facedeck.core.errors import UsageError
from facedeck.core.faces.options import SelectionMode
from facedeck.core.jobs.spec import FaceRef, JobKind, MediaRef
from facedeck.desktop.headless import swap_args
from facedeck.desktop.headless.swap import build_job
from facedeck.desktop.job_document import OPTIONS, SELECTION, SOURCES, TARGET, JobDocument


def cli_job(*argv: str):
    parser = argparse.ArgumentParser()
    swap_args.add_parser(parser.add_subparsers(), handler=lambda args: 0)
    args = parser.parse_args(["swap", *argv])
    return build_job(args, args.target[0], None, video=False)


def test_sources_and_options_give_the_job_the_cli_builds(tmp_path):
    document = JobDocument()
    changes: list[str] = []
    document.subscribe(changes.append)
    document.add_sources(["a.jpg", "b.jpg"])
    document.set_target(str(tmp_path / "t.png"))
    document.set_options(mask_blur=0.3, enhance=True, selection=SelectionMode.MANY)
    assert changes == [SOURCES, TARGET, SELECTION]
    job = document.job(output=False)
    expected = cli_job(
        "-s",
        "a.jpg",
        "b.jpg",
        "-t",
        str(tmp_path / "t.png"),
        "--mask-blur",
        "0.3",
        "--enhance",
        "--select",
        "many",
    )
    assert job.faces == expected.faces and job.options == expected.options and job.kind is JobKind.IMAGE
    document.set_options(mask_blur=0.3)
    assert changes[-1] == SELECTION  # an unchanged value notifies no one
    document.set_options(mask_padding=0.2)
    assert changes[-1] == OPTIONS


def test_default_output_is_the_cli_name_and_never_an_existing_file(tmp_path):
    document = JobDocument()
    assert document.default_output() is None
    target = tmp_path / "clip.mp4"
    document.set_target(str(target))
    assert document.kind is JobKind.VIDEO
    assert document.default_output() == str(tmp_path / "clip.facedeck.mp4")
    (tmp_path / "clip.facedeck.mp4").write_bytes(b"earlier result")
    assert document.default_output() == str(tmp_path / "clip.facedeck-2.mp4")
    document.add_sources(["a.jpg"])
    document.set_output_path(str(tmp_path / "mine.mp4"))
    assert document.job().output.path == str(tmp_path / "mine.mp4")


def test_mappings_follow_the_sources_and_the_frame_shown(tmp_path):
    document = JobDocument()
    document.add_sources(["a.jpg", "b.jpg", "c.jpg"])
    document.set_target("clip.mp4")
    document.set_frame_time(1.5)
    document.map_face(0, 2)
    document.map_face(3, 1)
    target = MediaRef.of("clip.mp4")
    mappings = document.job().faces.mappings
    assert [m.reference for m in mappings] == [FaceRef(target, 0, 1.5), FaceRef(target, 3, 1.5)]
    assert [m.sources for m in mappings] == [[FaceRef(MediaRef.of("c.jpg"))], [FaceRef(MediaRef.of("b.jpg"))]]
    document.remove_source(1)  # b goes: its mapping goes, c's moves down to index 1
    assert document.mappings == {0: 1}
    document.set_target("other.png")
    assert document.mappings == {} and document.frame_time == 0.0


def test_reference_mode_uses_the_face_clicked():
    document = JobDocument()
    document.add_sources(["a.jpg"])
    document.set_target("t.png")
    document.set_options(selection=SelectionMode.REFERENCE)
    document.set_reference_face(2)
    assert document.job().faces.reference == FaceRef(MediaRef.of("t.png"), face=2)


def test_a_job_needs_a_target_and_a_source():
    document = JobDocument()
    with pytest.raises(UsageError, match="target"):
        document.job()
    document.set_target("t.png")
    with pytest.raises(UsageError, match="source"):
        document.job()
