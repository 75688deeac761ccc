"""RecordingSink: processed live frames into a video file at real speed, marked as synthetic,
renamed into place only on stop, nothing left behind on abort or failure."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest

from facedeck.core.errors import OutputError
from facedeck.core.live.recording import RecordingSink
from facedeck.core.live.types import CapturedFrame, LiveError, LiveFrame, SourceInfo
from facedeck.core.media.encoding import EncoderSettings
from facedeck.core.media.metadata import DIGITAL_SOURCE_TYPE, synthetic_text_fields
from facedeck.core.media.video_writer import VideoWriter
from tests.support.media_fixtures import synthetic_frame
from tests.support.tmpfs import mounted_tmpfs, read_only_folder

WIDTH, HEIGHT = 160, 120
INFO = SourceInfo(name="camera 0", width=WIDTH, height=HEIGHT, fps=25.0)
FAST = EncoderSettings(preset="ultrafast", hardware="off", audio=False)
# Capture times (seconds after some monotonic origin): 40 ms apart, a 400 ms gap after frame 5
# (the loop dropped frames there), then 40 ms again.
START = 1234.5
OFFSETS = [i * 0.040 for i in range(6)] + [0.600 + i * 0.040 for i in range(6)]


def live_frame(index: int, captured_at: float, image: np.ndarray | None = None) -> LiveFrame:
    picture = synthetic_frame(index, WIDTH, HEIGHT) if image is None else image
    captured = CapturedFrame(image=picture, index=index, captured_at=captured_at, time=captured_at - START)
    return LiveFrame(captured=captured, image=picture, faces_found=1, faces_swapped=1, latency=0.02)


def record(path: Path, offsets: list[float] = OFFSETS, **kwargs: object) -> RecordingSink:
    sink = RecordingSink(path, FAST, queue_size=64, **kwargs)  # type: ignore[arg-type]
    sink.start(INFO)
    for index, offset in enumerate(offsets):
        sink.write(live_frame(index, START + offset))
    sink.stop()
    return sink


def decoded(path: Path) -> tuple[list[float], list[np.ndarray], dict[str, str]]:
    with av.open(str(path)) as container:
        tags = {key.lower(): value for key, value in container.metadata.items()}
        frames = list(container.decode(video=0))
    return [float(frame.time) for frame in frames], [f.to_ndarray(format="bgr24") for f in frames], tags


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_frames_are_timed_by_capture_and_marked_synthetic(tmp_path: Path, suffix: str) -> None:
    output = tmp_path / f"take{suffix}"
    sink = record(output)
    times, images, tags = decoded(output)
    assert len(times) == len(OFFSETS) == sink.frames
    # Each frame at its capture time after the first, the 400 ms gap included (mkv counts in ms).
    assert times == pytest.approx(OFFSETS, abs=0.0015)
    assert sink.duration == pytest.approx(OFFSETS[-1])
    assert all(image.shape == (HEIGHT, WIDTH, 3) for image in images)
    # The pictures are the frames written, in order: each decoded frame is nearest its own.
    expected = [synthetic_frame(i, WIDTH, HEIGHT).astype(int) for i in range(len(OFFSETS))]
    for index, got in enumerate(images):
        distances = [np.abs(got.astype(int) - want).mean() for want in expected]
        assert int(np.argmin(distances)) == index, distances
    for key, value in synthetic_text_fields().items():
        assert tags.get(key.lower()) == value
    assert DIGITAL_SOURCE_TYPE.encode() in output.read_bytes()
    assert leftovers(tmp_path) == [output.name]  # the temporary file became the output


def test_nothing_is_under_the_final_name_until_stop(tmp_path: Path) -> None:
    output = tmp_path / "take.mp4"
    sink = RecordingSink(output, FAST, queue_size=64)
    sink.start(INFO)
    sink.write(live_frame(0, START))
    assert not output.exists()
    assert [name for name in leftovers(tmp_path) if name.endswith(".part")]  # written next to it
    sink.stop()
    assert leftovers(tmp_path) == ["take.mp4"]


def test_abort_leaves_nothing_and_keeps_an_older_file(tmp_path: Path) -> None:
    output = tmp_path / "take.mp4"
    output.write_bytes(b"an older take")
    sink = RecordingSink(output, FAST, queue_size=64)
    sink.start(INFO)
    for index, offset in enumerate(OFFSETS):
        sink.write(live_frame(index, START + offset))
    sink.abort()
    sink.abort()  # twice is harmless
    sink.stop()  # and a stop after an abort keeps nothing
    assert leftovers(tmp_path) == ["take.mp4"]
    assert output.read_bytes() == b"an older take"


def test_stop_with_no_frame_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    sink = RecordingSink(tmp_path / "take.mp4", FAST)
    sink.start(INFO)
    with pytest.raises(LiveError, match="no frames were recorded"):
        sink.stop()
    assert leftovers(tmp_path) == []


def test_a_frame_of_another_size_is_refused(tmp_path: Path) -> None:
    sink = RecordingSink(tmp_path / "take.mp4", FAST)
    sink.start(INFO)
    sink.write(live_frame(0, START))
    with pytest.raises(LiveError) as caught:
        sink.write(live_frame(1, START + 0.04, np.zeros((HEIGHT * 2, WIDTH * 2, 3), np.uint8)))
    assert "320x240" in str(caught.value) and "160x120" in str(caught.value)
    sink.abort()
    assert leftovers(tmp_path) == []


def one_line_error(sink: RecordingSink) -> str:
    with pytest.raises(LiveError) as caught:
        sink.start(INFO)
    message = str(caught.value)
    assert "\n" not in message and ".part" not in message
    return message


def test_bad_output_paths_fail_at_start_in_one_line(tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"a video played as the source")
    assert "would overwrite the input" in one_line_error(RecordingSink(source, FAST, inputs=[source]))
    missing = tmp_path / "no such folder" / "take.mp4"
    assert "does not exist" in one_line_error(RecordingSink(missing, FAST))
    assert "use one of" in one_line_error(RecordingSink(tmp_path / "take.gif", FAST))
    assert "use one of" in one_line_error(RecordingSink(tmp_path / "take.txt", FAST))
    assert leftovers(tmp_path) == ["clip.mp4"]


def test_a_read_only_folder_fails_at_start(tmp_path: Path) -> None:
    with read_only_folder(tmp_path / "locked") as locked:
        message = one_line_error(RecordingSink(locked / "take.mp4", FAST))
        assert message.startswith(f"{locked / 'take.mp4'}: cannot write")


def test_a_full_disk_fails_in_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    # Lossless noise, new in every frame: ~57 kB a frame, more than the disk holds in 2 frames.
    noise = np.random.default_rng(3).integers(0, 256, (8, HEIGHT, WIDTH, 3), dtype=np.uint8)
    with mounted_tmpfs(tmp_path / "full", size="64k") as full:
        lossless = EncoderSettings(quality=100, preset="ultrafast", hardware="off", audio=False)
        sink = RecordingSink(full / "take.mkv", lossless, queue_size=len(noise))
        sink.start(INFO)
        with pytest.raises(LiveError) as caught:
            for index, image in enumerate(noise):
                sink.write(live_frame(index, START + index * 0.04, image))
            sink.stop()
        message = str(caught.value)
        assert "No space left on device" in message and "\n" not in message and ".part" not in message
        sink.abort()
        assert leftovers(full) == []


def test_frames_are_dropped_not_queued_when_the_encoder_is_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    original = VideoWriter.write_frame

    def slow_write(self: VideoWriter, *args: object, **kwargs: object) -> None:
        release.wait(10)  # the encoder is stuck on the first frame until released
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(VideoWriter, "write_frame", slow_write)
    output = tmp_path / "take.mp4"
    sink = RecordingSink(output, FAST, queue_size=2)
    sink.start(INFO)
    for index, offset in enumerate(OFFSETS):
        sink.write(live_frame(index, START + offset))  # never waits for the stuck encoder
    # one frame in the encoder's hands and two queued at most; the rest were dropped
    assert sink.dropped >= len(OFFSETS) - 3
    assert sink.frames + sink.dropped == len(OFFSETS)
    release.set()
    sink.stop()
    times, _, _ = decoded(output)
    assert len(times) == sink.frames
    assert times == pytest.approx([OFFSETS[i] for i in range(sink.frames)], abs=0.0015)


def test_an_encoder_failure_reaches_write_and_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_write(self: VideoWriter, *args: object, **kwargs: object) -> None:
        raise OutputError(f"{tmp_path / 'take.mp4'}: cannot write the file (Input/output error)")

    monkeypatch.setattr(VideoWriter, "write_frame", broken_write)
    sink = RecordingSink(tmp_path / "take.mp4", FAST)
    sink.start(INFO)
    sink.write(live_frame(0, START))
    # the encoder thread ends on the failure: wait for that, then the loop's next write hears of it
    (worker,) = [thread for thread in threading.enumerate() if thread.name == "facedeck-record"]
    worker.join(10)
    with pytest.raises(LiveError, match=r"take\.mp4: cannot write the file \(Input/output error\)"):
        sink.write(live_frame(1, START + 0.04))
    with pytest.raises(LiveError, match="Input/output error"):
        sink.stop()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix, codec", [(".mp4", "h264"), (".webm", "vp9")])
def test_the_default_settings_suit_each_container(tmp_path: Path, suffix: str, codec: str) -> None:
    output = tmp_path / f"take{suffix}"
    sink = RecordingSink(output, queue_size=64)  # the real-time defaults
    sink.start(INFO)
    for index, offset in enumerate(OFFSETS[:4]):
        sink.write(live_frame(index, START + offset))
    sink.stop()
    with av.open(str(output)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == codec
        assert not container.streams.audio
        assert len(list(container.decode(video=0))) == 4


def test_a_frame_is_kept_as_it_was_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source may reuse its capture buffer: the recording keeps the picture of the moment."""
    release = threading.Event()
    original = VideoWriter.write_frame

    def late_write(self: VideoWriter, *args: object, **kwargs: object) -> None:
        release.wait(10)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(VideoWriter, "write_frame", late_write)
    output = tmp_path / "take.mkv"
    sink = RecordingSink(output, FAST)
    sink.start(INFO)
    buffer = np.full((HEIGHT, WIDTH, 3), 200, np.uint8)
    sink.write(live_frame(0, START, buffer))
    buffer[:] = 0  # the source fills its buffer with the next frame before the encoder ran
    release.set()
    sink.stop()
    _, images, _ = decoded(output)
    assert abs(float(images[0].mean()) - 200) < 3
