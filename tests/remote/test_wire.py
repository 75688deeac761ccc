"""The job on the wire: the three input forms, every bad field named from the input's root."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from facedeck.core.errors import InvalidJobError
from facedeck.core.jobs.spec import JobKind, MediaRef
from facedeck.remote.wire import HealthRequest, ResultOptions, WireJob, parse_request
from tests.support.remote_jobs import b64, image_input, media, video_input

PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)
CAP = 10_000
CEILING = 15 * 2**20


def parse(payload):
    return parse_request(payload, inline_cap=CAP, inline_ceiling=CEILING)


def problems(payload) -> list[tuple[str, str]]:
    with pytest.raises(InvalidJobError) as caught:
        parse(payload)
    return [(p.field, p.problem) for p in caught.value.problems]


def test_a_job_with_inline_and_url_media_and_result_options():
    payload = image_input(
        media(data=PNG, name="me.png"),
        media(url="https://store.example/in/target.jpg?X-Amz-Signature=abc"),
        result={"upload_url": "https://store.example/out.png?sig=1", "inline_max_bytes": 1000},
    )
    request = parse(payload)
    assert isinstance(request, WireJob)
    assert request.job.kind is JobKind.IMAGE
    assert request.job.faces.sources[0].media == MediaRef(data=PNG, name="me.png")
    # a nameless URL is named by its path, so messages never quote the signed query
    assert request.job.target.name == "target.jpg"
    assert request.result == ResultOptions(
        upload_url="https://store.example/out.png?sig=1", inline_max_bytes=1000
    )


def test_health_request():
    assert parse({"health": True}) == HealthRequest()
    assert problems({"health": "yes"}) == [("health", "expected true")]
    assert problems({"health": True, "verbose": 1}) == [("verbose", "unknown key")]


def test_unknown_fields_are_named_wherever_they_are():
    payload = image_input(media(data=PNG), media(data=PNG), result={"upload": "x"})
    payload["job"]["colour"] = "red"
    payload["job"]["options"] = {"enhance_strenght": 50}
    payload["priority"] = 1
    assert sorted(problems(payload)) == [
        ("job.colour", "unknown key"),
        ("job.options.enhance_strenght", "unknown key"),
        ("priority", "unknown key"),
        ("result.upload", "unknown key"),
    ]


def test_bad_values_name_their_field_and_every_one_is_listed():
    payload = image_input(media(data=PNG), media(url="ftp://host/t.png"), options={"enhance_strength": 140})
    assert sorted(problems(payload)) == [
        ("job.options.enhance_strength", "140 is out of range (0 to 100)"),
        ("job.target.url", "only http and https URLs are accepted"),
    ]


def test_inline_base64_is_measured_before_it_is_decoded():
    # not even valid base64: a decoder would complain about that; the size check comes first
    payload = image_input(media(data=PNG), {"data": "!" * (CAP * 2)})
    assert problems(payload) == [("job.target.data", "about 15 KB of inline data, over the limit of 10 KB")]
    fits = image_input(media(data=PNG), {"data": b64(bytes(CAP - 10))})
    assert isinstance(parse(fits), WireJob)


def test_a_remote_job_can_neither_read_nor_write_the_workers_files():
    payload = image_input({"path": "/etc/passwd"}, media(data=PNG), output={"path": "/tmp/x.png"})
    assert sorted(problems(payload)) == [
        ("job.faces.sources[0].media.path", "a remote job cannot read the worker's files; send url or data"),
        ("job.output.path", "the worker chooses where it writes; leave path out"),
    ]


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"upload_url": "ftp://x/y"}, ("result.upload_url", "expected an http or https URL")),
        ({"upload_headers": {"a": 1}}, ("result.upload_headers", "expected an object of text values")),
        (
            {"inline_max_bytes": -1},
            ("result.inline_max_bytes", "expected a whole number of bytes, 0 or more"),
        ),
        (
            {"inline_max_bytes": CEILING + 1},
            ("result.inline_max_bytes", f"{CEILING + 1} is above this worker's limit of {CEILING} bytes"),
        ),
        ("s3", ("result", "expected an object, got a string")),
    ],
)
def test_result_options_are_checked(result, expected):
    assert problems(image_input(media(data=PNG), media(data=PNG), result=result)) == [expected]


def test_input_that_is_not_an_object_or_names_no_job():
    assert problems(["job"]) == [("input", "expected an object, got a list")]
    assert problems({}) == [("job", 'missing: send {"job": {...}} or {"health": true}')]


def test_legacy_url_payload_becomes_the_same_job_as_the_new_form():
    legacy = parse(
        {
            "source_file": "https://h/in/source.png",
            "target_file": "https://h/in/target.png",
            "process_type": "single-image",
        }
    )
    new = parse(image_input(media(url="https://h/in/source.png"), media(url="https://h/in/target.png")))
    assert legacy == new


def test_legacy_base64_payload_with_or_without_a_data_url_head():
    legacy = parse(
        {
            "source_image": "data:image/png;base64," + b64(PNG),
            "target_image": b64(PNG + b"t"),
            "type": "single_image",
        }
    )
    assert isinstance(legacy, WireJob) and legacy.job.kind is JobKind.IMAGE
    assert legacy.job.faces.sources[0].media.data == PNG
    assert legacy.job.target.data == PNG + b"t"
    assert legacy.result == ResultOptions()


def test_legacy_problems_name_the_legacy_fields():
    assert sorted(problems({"source_image": b64(PNG), "type": "single_image"})) == [
        ("target_file", "missing")
    ]
    assert problems({"source_image": "not base64!", "target_image": b64(PNG)}) == [
        ("source_image", "expected base64 text")
    ]
    assert problems({"source_file": "https://h/s.png", "target_file": "ftp://h/t.png"}) == [
        ("target_file", "only http and https URLs are accepted")
    ]
    assert problems({"source_file": "https://h/s.png", "target_file": "https://h/t.png", "mode": 1}) == [
        ("mode", "unknown key")
    ]
    [(field, problem)] = problems(
        {"source_file": "https://h/s.png", "target_file": "https://h/t.png", "process_type": "batch"}
    )
    assert field == "process_type" and problem.startswith("'batch' is not a process type")


def test_legacy_health_requests():
    assert parse({"health_check": True}) == HealthRequest()
    assert parse({"process_type": "health_check"}) == HealthRequest()
    assert problems({"health_check": 1}) == [("health_check", "expected true")]


def test_a_video_job_keeps_its_output_options():
    request = parse(video_input(media(data=PNG), media(url="https://h/clip.mp4")))
    assert isinstance(request, WireJob)
    assert request.job.kind is JobKind.VIDEO
    assert request.job.output.format == "mp4" and request.job.output.hardware == "off"
    assert request.job.target.name == "clip.mp4"


def test_inline_data_is_decoded_exactly():
    data = bytes(range(256)) * 3
    request = parse(image_input(media(data=data), {"data": base64.b64encode(data).decode()}))
    assert isinstance(request, WireJob)
    assert request.job.target.data == data


def test_every_json_example_in_the_wire_format_document_is_valid_json():
    document = Path(__file__).resolve().parents[2] / "docs" / "wire-format.md"
    blocks = re.findall(r"```json\n(.*?)```", document.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(blocks) >= 12
    for block in blocks:
        json.loads(block)


def test_the_documented_url_examples_parse():
    document = Path(__file__).resolve().parents[2] / "docs" / "wire-format.md"
    blocks = re.findall(r"```json\n(.*?)```", document.read_text(encoding="utf-8"), flags=re.DOTALL)
    inputs = [
        json.loads(block)["input"]
        for block in blocks
        if '"input"' in block and "..." not in block.replace("=...", "")
    ]
    kinds = [type(parse(payload)).__name__ for payload in inputs]
    assert kinds.count("WireJob") >= 3 and "HealthRequest" in kinds
