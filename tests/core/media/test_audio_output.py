"""Audio of video outputs: copied bit for bit, transcoded when the container needs it, or dropped."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from facedeck.core.media.encoding import EncoderSettings
from tests.core.media.video_helpers import (
    transcode,
)
from tests.support.media_fixtures import (
    audio_info,
    audio_packets,
    decode_frames,
)


def test_audio_is_copied_bit_for_bit(clips: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / "copy.mkv"
    transcode(clips["mp4"], output, EncoderSettings(quality=60, preset="ultrafast"))
    assert audio_packets(output) == audio_packets(clips["mp4"])


def test_audio_is_transcoded_when_the_container_needs_it(clips: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / "pcm.mp4"
    transcode(clips["mov"], output, EncoderSettings(quality=60, preset="ultrafast"))
    [(codec, seconds)] = audio_info(output)
    assert codec == "aac"
    assert seconds == pytest.approx(audio_info(clips["mov"])[0][1], abs=0.03)
    # Starts with the video, as the input did.
    with av.open(str(output)) as container:
        audio = container.streams.audio[0]
        first = next(p for p in container.demux(audio) if p.size)
        assert float(first.pts * first.time_base) == pytest.approx(0.0, abs=0.03)


def test_mp3_in_avi_is_transcoded_into_mp4(tmp_path: Path) -> None:
    """Old camera files: MP3 in AVI counts time in packets (3/125 s), which the AAC encoder's
    1024-sample frames cannot be stamped in; the output failed with "Invalid argument"."""
    from tests.support.media_fixtures import make_clip

    source = make_clip(
        tmp_path / "old.avi",
        frames=24,
        size=(160, 120),
        fps=24,
        codec="mpeg4",
        audio_codec="libmp3lame",
        crf=None,
    )
    output = tmp_path / "old.mp4"
    transcode(source, output, EncoderSettings(quality=60, preset="ultrafast"))
    [(codec, seconds)] = audio_info(output)
    assert codec == "aac"
    assert seconds == pytest.approx(audio_info(source)[0][1], abs=0.05)
    assert len(decode_frames(output)) == 24


def test_every_audio_stream_is_kept(clips: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / "two.mp4"
    transcode(clips["two_audio"], output, EncoderSettings(quality=60, preset="ultrafast"))
    assert [codec for codec, _ in audio_info(output)] == ["aac", "aac"]
    assert audio_packets(output, 1) == audio_packets(clips["two_audio"], 1)


def test_no_audio_drops_every_audio_stream(clips: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / "silent.mp4"
    transcode(clips["two_audio"], output, EncoderSettings(quality=60, audio=False))
    assert audio_info(output) == []
    assert len(decode_frames(output)) == 12
