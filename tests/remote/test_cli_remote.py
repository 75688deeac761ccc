"""``facedeck --headless swap --remote ...`` and ``remote health`` against a real FaceDeck
server on 127.0.0.1 (its own process, stand-in models) and moto's S3 server for storage.

What a user checks: the remote result is the local result (same pixels for an image; for a
video the same frames, timestamps and audio, with 1, 2 or 4 segments), failures are one
line with exit status 7 (or the status a local run gives for the same problem), and the
token never shows, not even with --debug.
"""

from __future__ import annotations

import json
import uuid

import av
import cv2
import numpy as np
import pytest

from facedeck.core.media.marking import is_marked_synthetic
from facedeck.desktop.cli import main
from tests.remote.server_support import standin_server
from tests.support.media_fixtures import audio_info, decode_frames, frame_times, make_clip
from tests.support.models.drawing import drifting_face
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY

TOKEN = "srv-tok-7d41c9e2a0b84f6c93d1"  # long enough that finding it in output is no accident
SECONDS = 20
FPS = 24


@pytest.fixture(scope="module")
def server(remote_models, tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-remote-server")
    process = standin_server(remote_models.directory, root / "server.log", TOKEN, "--engines", "4")
    yield process
    process.stop()


@pytest.fixture
def token_env(monkeypatch):
    monkeypatch.setenv("FACEDECK_SERVER_TOKEN", TOKEN)
    for name in ("FACEDECK_S3_BUCKET", "RUNPOD_API_KEY", "RUNPOD_ENDPOINT_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def storage_env(token_env, monkeypatch, s3_server):
    prefix = f"cli-tests/{uuid.uuid4().hex}/"
    for name, value in {
        "FACEDECK_S3_BUCKET": s3_server.bucket,
        "FACEDECK_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "FACEDECK_S3_PREFIX": prefix,
        "FACEDECK_S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    return prefix


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """20 s, a keyframe every 2 s (as phones write them), a moving face, AAC audio."""
    root = tmp_path_factory.mktemp("cli-remote-clip")
    return make_clip(
        root / "long.mp4",
        frames=SECONDS * FPS,
        size=(160, 120),
        fps=FPS,
        gop=2 * FPS,
        crf=None,
        draw=drifting_face,
    )


def swap(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["--headless", "swap", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def common(remote_models) -> list[str]:
    return ["--models-dir", str(remote_models.directory), "--provider", "cpu"]


def test_an_image_swapped_remotely_is_the_local_result(
    capsys, server, token_env, remote_models, remote_media, tmp_path
):
    local, remote = tmp_path / "local.png", tmp_path / "remote.png"
    source, target = str(remote_media.source), str(remote_media.target)
    status, _, err = swap(capsys, "-s", source, "-t", target, "-o", str(local), *common(remote_models))
    assert status == 0, err
    status, out, err = swap(capsys, "-s", source, "-t", target, "-o", str(remote), "--remote", server.url)
    assert status == 0, err
    assert f"wrote {remote}" in out and "(remote)" in out
    assert np.array_equal(cv2.imread(str(remote)), cv2.imread(str(local)))
    assert is_marked_synthetic(remote)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["local.png", "remote.png"]


@pytest.mark.parametrize("segments", [1, 2, 4])
def test_a_video_in_segments_matches_the_local_run(
    capsys, server, storage_env, s3_server, remote_models, remote_media, long_clip, tmp_path, segments
):
    local = tmp_path / "local.mp4"
    source = str(remote_media.source)
    status, _, err = swap(
        capsys, "-s", source, "-t", str(long_clip), "-o", str(local), *common(remote_models)
    )
    assert status == 0, err
    remote = tmp_path / "remote.mp4"
    status, out, err = swap(
        capsys, "-s", source, "-t", str(long_clip), "-o", str(remote), "--remote", server.url,
        "--segments", str(segments),
    )  # fmt: skip
    assert status == 0, err
    assert "waiting for a worker" in err and (segments == 1 or "joining the parts" in err)
    assert f"wrote {remote} ({SECONDS * FPS} frames, {SECONDS * FPS} with swaps" in out and "None" not in out
    local_times, remote_times = frame_times(local), frame_times(remote)
    assert len(remote_times) == len(local_times) == SECONDS * FPS
    tick = 1 / FPS / 100  # well under a frame: the same timestamps, not merely the same count
    assert max(abs(a - b) for a, b in zip(local_times, remote_times, strict=True)) < tick
    (local_codec, local_audio), (remote_codec, remote_audio) = audio_info(local)[0], audio_info(remote)[0]
    assert remote_codec == local_codec == "aac"
    assert abs(remote_audio - local_audio) <= 1024 / 44100 + 1e-6  # one AAC frame
    # the same swap: the face is painted with the source's colour in every frame
    for ours, theirs in zip(decode_frames(remote)[::40], decode_frames(local)[::40], strict=True):
        assert np.abs(ours.astype(int) - theirs.astype(int)).mean() < 4
    assert is_marked_synthetic(remote)
    # what the client uploaded (the parts, the photo) and the results are gone from the bucket
    listed = s3_server.client().list_objects_v2(Bucket=s3_server.bucket, Prefix=storage_env)
    assert listed.get("KeyCount", 0) == 0
    with av.open(str(remote)) as container:
        assert container.streams.video[0].codec_context.name == "h264"


def test_a_video_without_storage_is_refused_before_anything_is_sent(
    capsys, server, token_env, remote_media, tmp_path
):
    before = server.get("health").json()["jobs"]
    status, _, err = swap(
        capsys, "-s", str(remote_media.source), "-t", str(remote_media.clip), "-o", str(tmp_path / "o.mp4"),
        "--remote", server.url,
    )  # fmt: skip
    assert status == 7, err
    assert err.strip().endswith(
        "none is configured: set FACEDECK_S3_BUCKET (and FACEDECK_S3_ENDPOINT_URL "
        "for R2 or MinIO) to a bucket FaceDeck may use"
    )
    assert server.get("health").json()["jobs"] == before
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_token_is_one_line_and_the_token_never_shows(
    capsys, server, monkeypatch, remote_media, tmp_path
):
    monkeypatch.setenv("FACEDECK_SERVER_TOKEN", "not-the-token-5b0c")
    status, out, err = swap(
        capsys, "-s", str(remote_media.source), "-t", str(remote_media.target), "-o", str(tmp_path / "o.png"),
        "--remote", server.url,
    )  # fmt: skip
    assert status == 7
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("target.png:")]
    assert len(lines) == 1 and "token" in lines[0] and "Traceback" not in err
    assert "not-the-token-5b0c" not in out + err
    assert list(tmp_path.iterdir()) == []


def test_debug_output_never_holds_the_token(capsys, caplog, server, token_env, remote_media, tmp_path):
    caplog.set_level("DEBUG")
    status = main(
        ["--headless", "--debug", "swap", "-s", str(remote_media.source), "-t", str(remote_media.target),
         "-o", str(tmp_path / "o.jpg"), "--remote", server.url]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0, captured.err
    everything = captured.out + captured.err + caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert TOKEN not in everything


def test_a_job_the_worker_refuses_exits_as_a_local_run_would(
    capsys, server, token_env, remote_media, tmp_path
):
    status, _, err = swap(
        capsys, "-s", str(remote_media.source), "-t", str(remote_media.blank), "-o", str(tmp_path / "o.png"),
        "--remote", server.url,
    )  # fmt: skip
    assert status == 3, err  # no face: the local exit status
    assert "no face found in blank.png" in err
    assert list(tmp_path.iterdir()) == []


def test_remote_options_are_checked_before_anything_runs(capsys, token_env, remote_media, monkeypatch):
    base = ["-s", str(remote_media.source), "-t", str(remote_media.target)]
    cases = {
        ("--remote", "runpod"): "--remote runpod needs --endpoint ID",
        ("--endpoint", "abc"): "--endpoint is for remote runs",
        ("--segments", "2"): "--segments splits a video across remote workers; add --remote",
        ("--remote", "ftp://host"): "--remote takes 'runpod' or a server's http(s) URL",
    }
    for extra, message in cases.items():
        status, _, err = swap(capsys, *base, *extra)
        assert status == 2 and message in err, (extra, err)
    status, _, err = swap(capsys, *base, "--remote", "runpod", "--endpoint", "abc123")
    assert status == 7 and "RUNPOD_API_KEY" in err


def test_remote_health_for_people_and_scripts(capsys, server, token_env):
    assert main(["--headless", "remote", "health", "--remote", server.url]) == 0
    out = capsys.readouterr().out
    assert "reachable" in out and "worker:  ok (ready)" in out and "inswapper" in out
    assert main(["--headless", "remote", "health", "--remote", server.url, "--json", "--no-job"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["ok"] is True and line["worker"] is None and "jobs" in line["queue"]


def test_remote_health_with_a_wrong_token_exits_7(capsys, server, monkeypatch):
    monkeypatch.setenv("FACEDECK_SERVER_TOKEN", "wrong-token-71cc")
    assert main(["--headless", "remote", "health", "--remote", server.url]) == 7
    err = capsys.readouterr().err
    assert "token" in err and "wrong-token-71cc" not in err
