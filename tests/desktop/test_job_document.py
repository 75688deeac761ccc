"""The window's job document, without Qt: the SwapJob it builds is the CLI's."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from facedeck.core.errors import UsageError
from facedeck.core.faces.options import SelectionMode
from facedeck.core.jobs.spec import FaceRef, JobKind, MediaRef, TrackerOptions, Trim
from facedeck.desktop.headless import swap_args
from facedeck.desktop.headless.swap import build_job, selection_of
from facedeck.desktop.job_document import OPTIONS, OUTPUT, SELECTION, SOURCES, TARGET, JobDocument


def cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    swap_args.add_parser(parser.add_subparsers(), handler=lambda args: 0)
    return parser.parse_args(["swap", *argv])


def cli_job(*argv: str, video: bool = False):
    args = cli_args(*argv)
    return build_job(args, args.target[0], None, video=video)


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


def test_video_choices_give_exactly_the_job_the_cli_builds(tmp_path):
    target = str(tmp_path / "clip.mp4")
    document = JobDocument()
    document.add_sources(["a.jpg"])
    document.set_target(target)
    changes: list[str] = []
    document.subscribe(changes.append)
    document.set_options(swapper_file="inswapper_128_fp16.onnx")
    assert changes == [OPTIONS]  # the swapper shows in the preview: it is recomputed
    document.set_tracker(detect_every=7, smoothing=False)
    document.set_trim(1.5, 4.0)
    document.set_output_options(audio=False, hardware="off", codec="vp9", quality=60, encoder_threads=2)
    # trim, tracker and encoder change no preview frame: OUTPUT, which the preview skips
    assert changes == [OPTIONS, OUTPUT, OUTPUT, OUTPUT]
    expected = cli_job(
        *("-s", "a.jpg", "-t", target),
        *("--swapper", "inswapper_128_fp16", "--detect-every", "7", "--no-smoothing"),
        *("--start", "1.5", "--end", "4", "--no-audio", "--hw-encoder", "off"),
        *("--codec", "vp9", "--quality", "60", "--encoder-threads", "2"),
        video=True,
    )
    job = document.job()
    assert job.output.path == str(tmp_path / "clip.facedeck.mp4")
    assert dataclasses.replace(job, output=dataclasses.replace(job.output, path=None)) == expected
    assert job.tracker == TrackerOptions(7, False) and job.trim == Trim(1.5, 4.0)
    # the defaults are the CLI's defaults too: no trim, the default tracker and swapper
    document.set_trim(0.0, None)
    document.set_tracker(detect_every=3, smoothing=True)
    document.set_options(swapper_file=None)
    document.set_output_options(audio=True, hardware="auto", codec="h264", quality=None, encoder_threads=None)
    job = document.job(output=False)
    assert job == cli_job("-s", "a.jpg", "-t", target, video=True)
    assert document.trim is None


def test_a_trim_that_ends_before_it_starts_is_refused_like_the_cli_refuses_it(tmp_path):
    target = str(tmp_path / "clip.mp4")
    document = JobDocument()
    document.add_sources(["a.jpg"])
    document.set_target(target)
    document.set_trim(4.0, 2.5)
    with pytest.raises(UsageError, match="--end 2.5 s is not after --start 4"):
        selection_of(cli_args("-s", "a.jpg", "-t", target, "--start", "4", "--end", "2.5"))
    with pytest.raises(UsageError, match=r"^trim end: 2.5 s is not after the start \(4 s\)$") as refused:
        document.job()
    assert refused.value.field == "trim.end"
    # the preview's job writes nothing and keeps no trim: a trim being edited never stops it
    assert document.job(output=False).trim is None
    document.set_trim(4.0, None)  # to the end: fine
    assert document.trim_problem() is None and document.job().trim == Trim(4.0, None)


def test_the_trim_belongs_to_its_video(tmp_path):
    document = JobDocument()
    document.add_sources(["a.jpg"])
    document.set_target(str(tmp_path / "clip.mp4"))
    document.set_tracker(detect_every=5)
    document.set_trim(1.0, 2.0)
    document.set_target(str(tmp_path / "other.mp4"))
    assert document.trim is None  # its times were the old video's
    assert document.tracker.detect_every == 5  # how to track is no property of one video
    document.set_trim(1.0, 2.0)
    document.set_target(str(tmp_path / "photo.png"))
    document.set_trim(3.0, 1.0)  # the video group is disabled for an image; nothing reaches the job
    job = document.job()
    assert job.kind is JobKind.IMAGE and job.trim is None and document.trim_problem() is None
    image_job = cli_job("-s", "a.jpg", "-t", str(tmp_path / "photo.png"))
    assert dataclasses.replace(job, output=image_job.output, tracker=TrackerOptions()) == image_job
