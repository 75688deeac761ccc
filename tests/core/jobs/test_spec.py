"""SwapJob: every field survives a JSON round trip, and every bad field is named."""

from __future__ import annotations

import json

import pytest

from facedeck.core.errors import InvalidJobError
from facedeck.core.faces.selection import SelectionMode
from facedeck.core.faces.session import SwapOptions
from facedeck.core.jobs.spec import (
    SCHEMA_VERSION,
    FaceAssignment,
    FaceMapping,
    FaceRef,
    JobKind,
    MediaRef,
    OutputSpec,
    SwapJob,
    TrackerOptions,
    Trim,
)


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name in ("target.mp4", "a.png", "b.png", "ref.png"):
        paths[name] = tmp_path / name
        paths[name].write_bytes(b"not read by validate")
    return paths


def full_job(files) -> SwapJob:
    """A job with every field away from its default and every kind of media reference."""
    return SwapJob(
        kind=JobKind.VIDEO,
        target=MediaRef.of(files["target.mp4"]),
        faces=FaceAssignment(
            mappings=[
                FaceMapping(
                    sources=[FaceRef(MediaRef(url="https://example.invalid/a.png"), face=2)],
                    reference=FaceRef(MediaRef(data=b"\x89PNG\r\n\x00\xff", name="ref.png"), face=1),
                ),
                FaceMapping(
                    sources=[FaceRef(MediaRef.of(files["a.png"])), FaceRef(MediaRef.of(files["b.png"]))],
                    reference=FaceRef(MediaRef.of(files["ref.png"])),
                ),
            ]
        ),
        options=SwapOptions(
            selection=SelectionMode.MANY,
            distance_threshold=0.4,
            mouth_mask=True,
            enhance=True,
            enhance_strength=55,
            mask_padding=0.2,
            mask_blur=0.3,
            detector_size=320,
            detector_threshold=0.6,
            swapper_file="inswapper_128_fp16.onnx",
        ),
        output=OutputSpec(
            path=None,
            format="mkv",
            quality=90,
            codec="vp9",
            preset="4",
            hardware="off",
            audio=False,
            encoder_threads=2,
        ),
        tracker=TrackerOptions(detect_every=5, smoothing=False),
        preview_every=0.5,
    )


def test_every_field_and_media_kind_round_trips_through_json(files):
    job = full_job(files)
    text = json.dumps(job.to_dict())  # JSON-safe: raises on bytes, enums or paths
    again = SwapJob.from_dict(json.loads(text))
    assert again == job
    assert again.faces.mappings[0].reference.media.data == b"\x89PNG\r\n\x00\xff"
    assert again.options.selection is SelectionMode.MANY
    again.validate()


def test_defaults_fill_in_and_the_wire_form_is_minimal(files):
    data = {
        "kind": "image",
        "target": {"path": str(files["a.png"])},
        "faces": {"sources": [{"media": {"path": str(files["b.png"])}}]},
    }
    job = SwapJob.from_dict(data)
    assert job.version == SCHEMA_VERSION and job.options == SwapOptions() and job.output == OutputSpec()
    assert job.to_dict()["target"] == {"path": str(files["a.png"])}  # unset media fields are left out
    job.validate()


def problems_of(data) -> list[str]:
    with pytest.raises(InvalidJobError) as caught:
        SwapJob.from_dict(data).validate()
    return [str(problem) for problem in caught.value.problems]


def base(files) -> dict:
    return SwapJob(
        kind=JobKind.IMAGE,
        target=MediaRef.of(files["a.png"]),
        faces=FaceAssignment(sources=[FaceRef(MediaRef.of(files["b.png"]))]),
    ).to_dict()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.update(colour=1), "colour: unknown key"),
        (
            lambda d: d["options"].update(enhance="yes"),
            "options.enhance: expected true or false, got a string",
        ),
        (
            lambda d: d["options"].update(enhance_strength=140),
            "options.enhance_strength: 140 is out of range",
        ),
        (lambda d: d["options"].update(selection="all"), "options.selection: 'all' is not one of"),
        (
            lambda d: d["output"].update(quality=1.5),
            "output.quality: expected an integer, got the number 1.5",
        ),
        (lambda d: d["tracker"].update(detect_every=0), "tracker.detect_every: 0 is out of range"),
        (lambda d: d.update(kind="sound"), "kind: 'sound' is not one of"),
        (lambda d: d["target"].update(path="/no/such/file.png"), "target.path: no such file"),
        (lambda d: d.update(target={"url": "ftp://x/y.png"}), "target.url: only http and https"),
        (lambda d: d.update(target={"data": "***"}), "target.data: expected base64 text"),
        (lambda d: d.update(target={}), "target: give exactly one of path, url or data"),
        (lambda d: d["faces"].update(sources=[]), "faces.sources: give at least one source photo"),
        (lambda d: d["faces"]["sources"][0].update(face=-1), "faces.sources[0].face: -1 is out of range"),
        (lambda d: d["output"].update(path="out.bmp"), "output.path: BMP cannot carry"),
        (lambda d: d["output"].update(path="out.mp4"), "output.path: an image needs an image output"),
        (lambda d: d.pop("target"), "target: missing"),
    ],
)
def test_each_bad_field_is_named_with_its_problem(files, edit, expected):
    data = base(files)
    edit(data)
    found = problems_of(data)
    assert any(problem.startswith(expected) for problem in found), found


def test_every_bad_field_is_reported_at_once(files):
    data = base(files)
    data["options"].update(enhance_strength=-1, mask_blur=9.0)
    data["target"] = {"path": "/missing.png"}
    with pytest.raises(InvalidJobError) as caught:
        SwapJob.from_dict(data).validate()
    fields = {problem.field for problem in caught.value.problems}
    assert fields == {"options.enhance_strength", "options.mask_blur", "target.path"}
    assert "\n" not in str(caught.value) and str(caught.value).startswith("invalid job (3 problems)")
    assert caught.value.code == "invalid_job"
    assert caught.value.to_dict()["problems"][0]["field"] in fields


def test_unsupported_version_is_refused_before_anything_else(files):
    data = base(files)
    data["version"] = 99
    data["bogus"] = True
    assert problems_of(data) == [f"version: 99 is not supported (this FaceDeck reads {SCHEMA_VERSION})"]


def test_reference_selection_needs_a_reference(files):
    data = base(files)
    data["options"]["selection"] = "reference"
    assert problems_of(data) == ["faces.reference: reference selection needs a reference photo"]


def test_not_an_object():
    with pytest.raises(InvalidJobError, match="job: expected an object, got a list"):
        SwapJob.from_dict([1, 2])


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d["options"].update(detector_size=500),
            "options.detector_size: 500 is not a multiple of 32",
        ),
        (
            lambda d: d["options"].update(detector_size=64),
            "options.detector_size: 64 is out of range (160 to 2048)",
        ),
        (
            lambda d: d["options"].update(detector_threshold=1.0),
            "options.detector_threshold: 1.0 is out of range",
        ),
        (
            lambda d: d["options"].update(distance_threshold=2.5),
            "options.distance_threshold: 2.5 is out of range",
        ),
        (
            lambda d: d["output"].update(encoder_threads=0),
            "output.encoder_threads: 0 is out of range (1 to 64)",
        ),
        (
            lambda d: d["options"].update(swapper_file="other.onnx"),
            "options.swapper_file: 'other.onnx' is not a",
        ),
        (lambda d: d.update(trim={"start": 1.0}), "trim: only a video can be trimmed, and a.png is an image"),
        (lambda d: d.update(trim={"start": -1.0}), "trim.start: -1.0 is out of range"),
        (
            lambda d: d["faces"].update(reference={"media": {"path": d["target"]["path"]}, "time": 2.0}),
            "faces.reference.time: a frame time needs a video, and a.png is not one",
        ),
    ],
)
def test_option_limits_and_new_fields_are_checked_in_a_job(files, edit, expected):
    data = base(files)
    edit(data)
    found = problems_of(data)
    assert any(problem.startswith(expected) for problem in found), found


def test_trim_end_must_follow_its_start_and_the_frame_time_round_trips(files):
    job = SwapJob(
        kind=JobKind.VIDEO,
        target=MediaRef.of(files["target.mp4"]),
        faces=FaceAssignment(
            sources=[FaceRef(MediaRef.of(files["a.png"]))],
            reference=FaceRef(MediaRef.of(files["target.mp4"]), face=1, time=62.5),
        ),
        options=SwapOptions(selection=SelectionMode.REFERENCE),
        trim=Trim(start=3.0, end=2.0),
    )
    again = SwapJob.from_dict(json.loads(json.dumps(job.to_dict())))
    assert again == job and again.faces.reference.time == 62.5
    assert [str(problem) for problem in again.problems()] == ["trim.end: 2 s is not after the start (3 s)"]
    # unset optional parts stay off the wire, so readers without them still accept the job
    plain = base(files)
    assert "trim" not in plain and "time" not in plain["faces"]["sources"][0]


def test_part_of_a_video_is_checked_and_round_trips():
    from facedeck.core.errors import InvalidJobError
    from facedeck.core.jobs.spec import FaceAssignment, FaceRef, JobKind, MediaRef, PartOf, SwapJob

    video = SwapJob(
        kind=JobKind.VIDEO,
        target=MediaRef(url="https://example.com/part.mp4"),
        faces=FaceAssignment(sources=[FaceRef(MediaRef(url="https://example.com/me.png"))]),
        part=PartOf(index=2, count=4),
    )
    data = video.to_dict()
    assert data["part"] == {"index": 2, "count": 4}
    assert SwapJob.from_dict(data) == video
    import dataclasses

    problems = [str(p) for p in dataclasses.replace(video, part=PartOf(index=4, count=4)).problems()]
    assert problems == ["part.index: 4 is not below part.count"]
    image = SwapJob(
        kind=JobKind.IMAGE,
        target=MediaRef(url="https://example.com/a.png"),
        faces=video.faces,
        part=PartOf(index=0, count=2),
    )
    with pytest.raises(InvalidJobError, match="part: only a video job can be a part of a video"):
        image.validate()
    # a job that is not a part keeps the key off the wire
    plain = SwapJob(kind=JobKind.VIDEO, target=video.target, faces=video.faces)
    assert "part" not in plain.to_dict()
