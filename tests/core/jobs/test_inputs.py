"""JobInputs: media references become local files once per job, and go with the job."""

from __future__ import annotations

from facedeck.core.jobs.inputs import JobInputs
from facedeck.core.jobs.spec import MediaRef
from tests.support.http_fixtures import MisbehavingServer


def test_a_url_read_twice_in_one_job_is_downloaded_once_and_removed_with_the_job():
    body = b"\x00\x01video bytes" * 1000
    with MisbehavingServer() as server:
        url = server.add("/clip.mp4", body)
        with JobInputs() as inputs:
            # the target, then a reference face from one of its frames: one download
            first = inputs.local_path(MediaRef(url=url))
            second = inputs.local_path(MediaRef(url=url))
            assert first == second and first.read_bytes() == body
            assert first.suffix == ".mp4"
        assert len(server.records_for("/clip.mp4")) == 1
    assert not first.exists()


def test_inline_data_is_written_once_per_job():
    ref = MediaRef(data=b"inline video", name="clip.webm")
    with JobInputs() as inputs:
        path = inputs.local_path(ref)
        path.write_bytes(b"changed")  # a second call must not write the file again
        assert inputs.local_path(ref) == path and path.read_bytes() == b"changed"
    assert not path.exists()
