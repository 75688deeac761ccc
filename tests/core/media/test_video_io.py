"""Video and animation I/O: real files written with PyAV/Pillow, read back and compared."""

from __future__ import annotations

import logging
import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from facedeck.core.errors import InputError, OutputError
from facedeck.core.media import video_io
from facedeck.core.media.metadata import DIGITAL_SOURCE_TYPE, synthetic_text_fields
from facedeck.core.media.video_io import (
    AudioChunk,
    EncoderSettings,
    SourceFrame,
    VideoInputError,
    VideoReader,
    VideoWriter,
    container_format_for,
    encoder_options,
    is_video_input,
    is_video_output,
)
from tests.support.media_fixtures import (
    audio_info,
    audio_packets,
    decode_frames,
    frame_durations_ms,
    frame_times,
    make_animated,
    make_clip,
    make_corrupt_frame_clip,
    write_bad_videos,
)

LOSSLESS = EncoderSettings(quality=100)
SMALL = (160, 120)


# --------------------------------------------------------------------------- helpers


def transcode(
    source: Path,
    output: Path,
    settings: EncoderSettings = LOSSLESS,
    *,
    change=None,
    container_format: str | None = None,
) -> tuple[VideoReader, VideoWriter]:
    """Read ``source`` and write every frame and audio packet to ``output``.

    ``change(frame) -> image | None`` gives a frame's new picture (None: untouched).
    """
    with VideoReader(source) as reader:
        writer = VideoWriter(output, reader, settings, container_format=container_format)
        with writer:
            for item in reader.items():
                if isinstance(item, SourceFrame):
                    writer.write_frame(item, change(item) if change else None)
                else:
                    writer.write_audio(item)
    return reader, writer


def reader_frames(path: Path) -> list[SourceFrame]:
    with VideoReader(path) as reader:
        return [item for item in reader.items(with_audio=False)]


def stored_size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        return context.width, context.height


def lower_keys(mapping: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in mapping.items()}


def nvenc_works() -> bool:
    """Whether this machine can open NVENC (decides what "auto" should pick)."""
    try:
        context = av.CodecContext.create("h264_nvenc", "w")
        context.width, context.height, context.pix_fmt = 64, 64, "yuv420p"
        context.time_base = Fraction(1, 24)
        context.open()
        return True
    except (av.error.FFmpegError, ValueError):
        return False


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small input per container, built once for the whole module."""
    folder = tmp_path_factory.mktemp("clips")
    return {
        "mp4": make_clip(folder / "in.mp4", frames=24, size=SMALL),
        "mov": make_clip(folder / "in.mov", frames=24, size=SMALL, audio_codec="pcm_s16le"),
        "mkv": make_clip(folder / "in.mkv", frames=24, size=SMALL),
        "avi": make_clip(folder / "in.avi", frames=24, size=SMALL, audio_codec="libmp3lame"),
        "webm": make_clip(folder / "in.webm", frames=24, size=SMALL),
        "vfr": make_clip(folder / "vfr.mkv", frames=30, size=SMALL, vfr=True),
        "two_audio": make_clip(folder / "two.mkv", frames=12, size=SMALL, audio_tracks=2),
    }


# --------------------------------------------------------------------------- names


def test_video_inputs_and_outputs_by_name(tmp_path: Path) -> None:
    for name in ("a.mp4", "a.MOV", "a.mkv", "a.avi", "a.webm", "a.gif"):
        assert is_video_input(name), name
        assert is_video_output(name), name
    assert not is_video_input("a.png")
    assert not is_video_output("a.jpg")
    assert is_video_output("a.webp")

    animated = make_animated(tmp_path / "moving.webp", frames=3)
    still = tmp_path / "still.webp"
    Image.new("RGB", (8, 8), "red").save(still)
    assert is_video_input(animated)
    assert not is_video_input(still)  # a still WebP is an image
    assert not is_video_input(tmp_path / "missing.webp")


def test_container_format_for_output_names() -> None:
    assert container_format_for("out.mp4") == "mp4"
    assert container_format_for("out.MKV") == "matroska"
    assert container_format_for("out.webp") == "webp"
    with pytest.raises(OutputError, match="cannot write .flv"):
        container_format_for("out.flv")


def test_quality_maps_onto_each_encoder_scale() -> None:
    assert encoder_options("libx264", 82)["crf"] == "18"  # the default: near visually lossless
    assert encoder_options("libx264", 77)["crf"] == "23"  # x264's own default
    assert encoder_options("libx264", 100)["crf"] == "0"  # lossless in 8-bit x264
    assert encoder_options("libx264", 0)["crf"] == "51"
    assert "lossless=1" in encoder_options("libx265", 100)["x265-params"]
    assert encoder_options("libvpx-vp9", 100)["lossless"] == "1"
    assert encoder_options("libvpx-vp9", 0)["crf"] == "63"
    assert encoder_options("libsvtav1", 100)["svtav1-params"] == "lossless=1"
    assert encoder_options("libsvtav1", 0)["crf"] == "63"
    assert encoder_options("h264_nvenc", 100)["tune"] == "lossless"
    assert encoder_options("libx264", 82, "veryfast")["preset"] == "veryfast"


# --------------------------------------------------------------------------- reading


def test_reader_probes_a_clip(clips: dict[str, Path]) -> None:
    with VideoReader(clips["mp4"]) as reader:
        info = reader.info
    assert (info.width, info.height, info.rotation) == (160, 120, 0)
    assert info.codec == "h264"
    assert info.frame_count == 24
    assert info.average_rate == 24
    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert info.has_audio and info.audio_codecs == ("aac",)
    assert not info.variable_frame_rate


def test_reader_frames_match_an_independent_decode(clips: dict[str, Path]) -> None:
    frames = reader_frames(clips["mkv"])
    reference = decode_frames(clips["mkv"])
    assert [f.index for f in frames] == list(range(24))
    assert len(frames) == len(reference)
    for frame, expected in zip(frames, reference, strict=True):
        assert frame.image.dtype == np.uint8 and frame.image.flags["C_CONTIGUOUS"]
        np.testing.assert_array_equal(frame.image, expected)
    assert [f.time for f in frames] == pytest.approx(frame_times(clips["mkv"]))


def test_reader_yields_audio_in_file_order(clips: dict[str, Path]) -> None:
    with VideoReader(clips["mp4"]) as reader:
        items = list(reader.items())
        silent = list(reader.items(with_audio=False))
    chunks = [item for item in items if isinstance(item, AudioChunk)]
    assert chunks and all(chunk.stream_index == 1 for chunk in chunks)
    # Interleaved, not all the audio at the end.
    first_audio = next(i for i, item in enumerate(items) if isinstance(item, AudioChunk))
    assert first_audio < len(items) // 2
    assert all(isinstance(item, SourceFrame) for item in silent) and len(silent) == 24


def test_reader_streams_without_holding_all_frames(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "long.mkv", frames=64, size=(320, 240), audio=False)
    frame_bytes = 320 * 240 * 3
    tracemalloc.start()
    try:
        with VideoReader(clip) as reader:
            count = sum(1 for _ in reader.items())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 64
    assert peak < 10 * frame_bytes  # all 64 frames would be 64 * frame_bytes


def test_variable_frame_rate_is_detected(clips: dict[str, Path]) -> None:
    with VideoReader(clips["vfr"]) as reader:
        assert reader.info.variable_frame_rate
    with VideoReader(clips["mkv"]) as reader:
        assert not reader.info.variable_frame_rate


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_input_is_read_upright(tmp_path: Path, rotation: int) -> None:
    def mark(index: int, image: np.ndarray) -> None:
        image[:10, :10] = (0, 0, 255)  # red top-left corner, as the viewer sees it

    clip = make_clip(tmp_path / "turned.mp4", frames=4, size=SMALL, rotation=rotation, audio=False, draw=mark)
    with VideoReader(clip) as reader:
        info = reader.info
        frames = [item for item in reader.items()]
    assert info.rotation == rotation
    expected_size = (120, 160) if rotation in (90, 270) else (160, 120)
    assert (info.width, info.height) == expected_size
    image = frames[0].image
    assert image.shape == (expected_size[1], expected_size[0], 3)
    assert np.abs(image[2, 2].astype(int) - (0, 0, 255)).max() <= 4  # red survives 4:2:0 nearly exactly
    np.testing.assert_array_equal(image, decode_frames(clip)[0])


def test_mirrored_display_matrices_are_undone_and_kept(tmp_path: Path) -> None:
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    for op in ("none", "cw", "ccw", "transpose", "antitranspose", "hflip", "vflip", "rot180"):
        np.testing.assert_array_equal(video_io._stored(video_io._upright(image, op), op), image)

    # A selfie clip: stored mirrored (and turned), shown the right way round by players.
    clip = tmp_path / "selfie.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=24, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.set_display_rotation(90, hflip=True)
        for index in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), index * 40, np.uint8), format="bgr24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    output = tmp_path / "out.mp4"
    reader, _ = transcode(clip, output)
    assert reader._orientation in ("transpose", "antitranspose")
    with VideoReader(output) as again:
        assert again._matrix == reader._matrix  # the same display matrix, flip included
        assert (again.info.width, again.info.height) == (48, 64)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("kind", ["mp4", "mov", "mkv", "avi", "webm"])
def test_round_trip_keeps_frames_timestamps_and_audio(
    clips: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    source = clips[kind]
    output = tmp_path / f"out{source.suffix}"
    reader, writer = transcode(source, output)

    expected_encoder = "libvpx-vp9" if kind == "webm" else "libx264"  # webm cannot hold h264
    assert writer.encoder_name in (expected_encoder, "h264_nvenc")
    with VideoReader(output) as check:
        info = check.info
    assert (info.width, info.height) == (reader.info.width, reader.info.height)
    assert info.duration == pytest.approx(reader.info.duration, abs=1 / 24 + 0.01)

    before, after = reader_frames(source), reader_frames(output)
    assert len(after) == len(before) == 24
    assert [f.time for f in after] == pytest.approx([f.time for f in before], abs=1e-6)
    if kind != "avi":  # AVI has no timestamps; FFmpeg guesses them (see VideoReader)
        assert frame_times(output) == pytest.approx(frame_times(source), abs=1e-6)
    else:  # no empty "dropped frame" chunk crept in (audio priming must not shift the video)
        with av.open(str(output)) as container:
            assert container.streams.video[0].frames == 24

    # Quality 100 is lossless and untouched frames skip the BGR round trip: bit-identical.
    for got, expected in zip(decode_frames(output), decode_frames(source), strict=True):
        np.testing.assert_array_equal(got, expected)

    # Each container takes its own input's audio as it is (PCM in MOV, MP3 in AVI, ...).
    (codec_in, seconds_in), (codec_out, seconds_out) = audio_info(source)[0], audio_info(output)[0]
    assert codec_out == codec_in
    assert seconds_out == pytest.approx(seconds_in, abs=0.03)


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


def test_variable_frame_rate_timestamps_are_kept(clips: dict[str, Path], tmp_path: Path) -> None:
    times = frame_times(clips["vfr"])
    gaps = np.diff(times)
    assert gaps.max() > 2 * gaps.min()  # really irregular
    for suffix in (".mp4", ".mkv"):
        output = tmp_path / f"vfr{suffix}"
        transcode(clips["vfr"], output)
        assert frame_times(output) == pytest.approx(times, abs=1e-6)
        with VideoReader(output) as reader:
            assert reader.info.variable_frame_rate


@pytest.mark.parametrize("rotation", [90, 270])
def test_rotation_is_kept(tmp_path: Path, rotation: int) -> None:
    clip = make_clip(tmp_path / "phone.mp4", frames=6, size=SMALL, rotation=rotation)
    output = tmp_path / "out.mov"

    def paint(frame: SourceFrame) -> np.ndarray:
        image = frame.image.copy()
        image[:16, :16] = (0, 255, 0)  # green top-left corner, upright
        return image

    transcode(clip, output, change=paint)
    assert stored_size(output) == (160, 120)  # same stored orientation...
    with VideoReader(output) as reader:
        assert reader.info.rotation == rotation  # ...and the same display rotation
        assert (reader.info.width, reader.info.height) == (120, 160)
        first = next(iter(reader.items(with_audio=False)))
    assert first.image.shape == (160, 120, 3)
    assert np.abs(first.image[4, 4].astype(int) - (0, 255, 0)).max() <= 3


def test_changed_frames_round_trip_within_lossless_tolerance(clips: dict[str, Path], tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    given: list[np.ndarray] = []

    def change(frame: SourceFrame) -> np.ndarray | None:
        if frame.index % 2:
            return None
        image = frame.image.copy()
        image[20:60, 30:90] = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
        given.append(image)
        return image

    output = tmp_path / "changed.mp4"
    transcode(clips["mp4"], output, change=change)
    decoded = decode_frames(output)
    original = decode_frames(clips["mp4"])
    for index, got in enumerate(decoded):
        if index % 2:
            np.testing.assert_array_equal(got, original[index])  # untouched: exact
            continue
        image = given[index // 2]
        # Lossless H.264 keeps the YUV exactly; what differs is the 4:2:0 conversion itself.
        reference = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
        expected = reference.to_ndarray(format="bgr24")
        assert np.abs(got.astype(int) - expected).max() <= 1
        assert np.abs(got.astype(int) - image).mean() < 12


def test_outputs_are_marked_synthetic(clips: dict[str, Path], tmp_path: Path) -> None:
    fields = {key.lower(): value for key, value in synthetic_text_fields().items()}
    for suffix in (".mp4", ".mov", ".mkv", ".webm"):
        output = tmp_path / f"marked{suffix}"
        transcode(clips["mkv"], output, EncoderSettings(quality=50, preset="ultrafast"))
        with av.open(str(output)) as container:
            tags = lower_keys(dict(container.metadata))
        for key, value in fields.items():
            assert tags.get(key) == value, (suffix, key, tags)
    # AVI's INFO chunk has a comment field, and no room for our other keys.
    output = tmp_path / "marked.avi"
    transcode(clips["mkv"], output, EncoderSettings(quality=50, preset="ultrafast"))
    with av.open(str(output)) as container:
        assert lower_keys(dict(container.metadata))["comment"] == synthetic_text_fields()["Comment"]


def test_writes_to_a_temporary_name_with_the_final_format(clips: dict[str, Path], tmp_path: Path) -> None:
    temp = tmp_path / ".facedeck-123.part"
    transcode(clips["mp4"], temp, EncoderSettings(quality=50), container_format="matroska")
    with av.open(str(temp)) as container:
        assert container.format.name.startswith("matroska")


# --------------------------------------------------------------------------- encoders


def test_nvenc_falls_back_to_software(
    clips: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="facedeck.core.media.video_io")
    _, writer = transcode(clips["mkv"], tmp_path / "auto.mp4", EncoderSettings(quality=50, hardware="auto"))
    if nvenc_works():
        assert writer.encoder_name == "h264_nvenc"
    else:
        assert writer.encoder_name == "libx264"
        assert any(
            "h264_nvenc cannot be used" in r.message and r.levelno == logging.INFO for r in caplog.records
        )
    _, writer = transcode(clips["mkv"], tmp_path / "off.mp4", EncoderSettings(quality=50, hardware="off"))
    assert writer.encoder_name == "libx264"


@pytest.mark.skipif(nvenc_works(), reason="this machine has a working NVENC")
def test_required_nvenc_fails_clearly(clips: dict[str, Path], tmp_path: Path) -> None:
    with VideoReader(clips["mkv"]) as reader:
        with pytest.raises(OutputError, match="h264_nvenc"):
            VideoWriter(tmp_path / "gpu.mp4", reader, EncoderSettings(hardware="nvenc"))


@pytest.mark.parametrize("codec, encoder", [("hevc", "libx265"), ("vp9", "libvpx-vp9"), ("av1", "libsvtav1")])
def test_other_codecs_are_lossless_at_quality_100(tmp_path: Path, codec: str, encoder: str) -> None:
    clip = make_clip(tmp_path / "in.mkv", frames=6, size=(64, 48), audio=False)
    output = tmp_path / "out.mkv"
    _, writer = transcode(clip, output, EncoderSettings(codec=codec, quality=100, hardware="off"))
    assert writer.encoder_name == encoder
    for got, expected in zip(decode_frames(output), decode_frames(clip), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_unknown_or_missing_codecs_are_output_errors(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with VideoReader(clips["mkv"]) as reader:
        with pytest.raises(OutputError, match="unknown video codec prores"):
            VideoWriter(tmp_path / "a.mp4", reader, EncoderSettings(codec="prores"))
        monkeypatch.setattr(av, "codecs_available", av.codecs_available - {"libsvtav1"})
        with pytest.raises(
            OutputError, match=r"av1 \(libsvtav1\) is not in this FFmpeg build; available: h264"
        ):
            VideoWriter(tmp_path / "b.mp4", reader, EncoderSettings(codec="av1"))
        with pytest.raises(OutputError, match="quality"):
            VideoWriter(tmp_path / "c.mp4", reader, EncoderSettings(quality=101))


def test_bad_presets_are_output_errors(clips: dict[str, Path], tmp_path: Path) -> None:
    with VideoReader(clips["mkv"]) as reader:
        with pytest.raises(OutputError, match="unknown libx264 preset fastest; use one of ultrafast"):
            VideoWriter(tmp_path / "a.mp4", reader, EncoderSettings(preset="fastest"))
        with pytest.raises(OutputError, match="presets are numbers"):
            VideoWriter(tmp_path / "b.mkv", reader, EncoderSettings(codec="vp9", preset="fast"))
        # webm cannot hold h264: the x264 preset is dropped along with the codec.
        writer = VideoWriter(tmp_path / "c.webm", reader, EncoderSettings(preset="veryfast"))
        assert writer.encoder_name == "libvpx-vp9"
        writer.abort()


def test_wrong_image_is_refused(clips: dict[str, Path], tmp_path: Path) -> None:
    with VideoReader(clips["mkv"]) as reader, VideoWriter(tmp_path / "x.mkv", reader, LOSSLESS) as writer:
        frame = next(iter(reader.items(with_audio=False)))
        with pytest.raises(ValueError, match="uint8"):
            writer.write_frame(frame, np.zeros((10, 10, 3), np.uint8))
        writer.write_frame(frame, None)


def test_abort_leaves_the_file_to_the_caller(clips: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / "cancelled.mp4"
    with VideoReader(clips["mp4"]) as reader:
        writer = VideoWriter(output, reader, EncoderSettings(quality=50))
        for item in reader.items():
            if isinstance(item, SourceFrame):
                writer.write_frame(item, None)
                break
        writer.abort()
        writer.abort()  # twice is fine
    output.unlink()


# --------------------------------------------------------------------------- animations


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_animation_round_trip_keeps_durations_and_loop(tmp_path: Path, suffix: str) -> None:
    durations = [50, 100, 150, 200, 40, 60, 70, 80]
    source = make_animated(tmp_path / f"in{suffix}", frames=8, durations_ms=durations, loop=3)
    with VideoReader(source) as reader:
        info = reader.info
    assert (info.width, info.height, info.frame_count) == (120, 90, 8)
    assert info.duration == pytest.approx(0.75)
    assert info.variable_frame_rate and info.loop == 3 and not info.has_audio

    output = tmp_path / f"out{suffix}"
    _, writer = transcode(source, output)
    assert writer.encoder_name == ("Pillow GIF" if suffix == ".gif" else "Pillow WebP")
    assert frame_durations_ms(output) == durations
    with Image.open(output) as image:
        assert image.info.get("loop") == 3
    for got, expected in zip(decode_frames(output), decode_frames(source), strict=True):
        # GIF re-quantises each frame to its own palette; lossless WebP is exact.
        assert np.abs(got.astype(int) - expected).mean() < (4 if suffix == ".gif" else 0.01)


def test_animations_are_marked_synthetic(tmp_path: Path) -> None:
    source = make_animated(tmp_path / "in.gif", frames=3)
    transcode(source, tmp_path / "out.gif")
    transcode(source, tmp_path / "out.webp")
    with Image.open(tmp_path / "out.gif") as image:
        comment = image.info["comment"].decode()
    assert DIGITAL_SOURCE_TYPE in comment and "Synthetic" in comment
    with Image.open(tmp_path / "out.webp") as image:
        assert DIGITAL_SOURCE_TYPE.encode() in image.info["xmp"]


def test_gif_transparency_is_kept(tmp_path: Path) -> None:
    frames = []
    for index in range(3):
        image = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
        image.paste((255, 0, 0, 255), (index * 5, 5, index * 5 + 10, 15))
        frames.append(image)
    source = tmp_path / "clear.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=100, loop=0, disposal=2)
    output = tmp_path / "out.gif"
    transcode(source, output, change=lambda frame: frame.image)
    with Image.open(output) as image:
        for index in range(3):
            image.seek(index)
            rgba = np.asarray(image.convert("RGBA"))
            assert rgba[0, 0, 3] == 0  # background still clear
            assert tuple(rgba[10, index * 5 + 5]) == (255, 0, 0, 255)


def test_video_to_gif_and_gif_to_video(clips: dict[str, Path], tmp_path: Path) -> None:
    gif = tmp_path / "clip.gif"
    transcode(clips["mkv"], gif)
    assert len(decode_frames(gif)) == 24
    assert sum(frame_durations_ms(gif)) == pytest.approx(1000, abs=10)  # 24 frames at 24 fps, in 10 ms steps

    odd = make_animated(tmp_path / "odd.gif", frames=5, size=(121, 91), durations_ms=[100, 50, 100, 50, 200])
    video = tmp_path / "odd.mp4"
    transcode(odd, video, EncoderSettings(quality=90))
    assert stored_size(video) == (121, 91)  # odd sizes kept (4:4:4 instead of 4:2:0)
    assert frame_times(video) == pytest.approx([0.0, 0.1, 0.15, 0.25, 0.3])


def test_webp_writer_streams_through_a_spool(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "in.mkv", frames=64, size=(320, 240), audio=False)
    tracemalloc.start()
    try:
        transcode(source, tmp_path / "out.webp", EncoderSettings(quality=60))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(decode_frames(tmp_path / "out.webp")) == 64
    assert peak < 12 * 320 * 240 * 3
    assert not list(tmp_path.glob(".facedeck-*"))  # the spool is gone


# --------------------------------------------------------------------------- bad inputs


@pytest.fixture(scope="module")
def bad_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_bad_videos(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize(
    "kind, message",
    [
        ("empty", "is empty"),
        ("text", "is not a video file (it contains text)"),
        ("truncated", ": truncated or corrupt video"),
        ("no_video", "has no video stream"),
        ("unsupported_codec", ": unsupported video codec"),
    ],
)
def test_bad_inputs_are_refused_in_one_line(bad_videos: dict[str, Path], kind: str, message: str) -> None:
    with pytest.raises(VideoInputError) as caught:
        VideoReader(bad_videos[kind])
    text = str(caught.value)
    assert message in text and str(bad_videos[kind]) in text
    assert "\n" not in text
    assert isinstance(caught.value, InputError) and caught.value.code == "input"


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_truncated_animations_are_refused(tmp_path: Path, suffix: str) -> None:
    data = make_animated(tmp_path / f"whole{suffix}", frames=6).read_bytes()
    for fraction in (0.5, 0.05):
        cut = tmp_path / f"cut{suffix}"
        cut.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(VideoInputError, match="truncated or corrupt animation"):
            with VideoReader(cut) as reader:
                list(reader.items())


def test_missing_file_and_size_limit(clips: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(VideoInputError, match="file not found"):
        VideoReader(tmp_path / "nope.mp4")
    with pytest.raises(VideoInputError, match="above the limit of 1,000 pixels"):
        VideoReader(clips["mp4"], max_pixels=1000)


def test_a_named_codec_without_decoder_is_reported(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real case above has no codec name (PyAV has no decoder context to name it),
    # so the named message is checked by making the first decode fail as FFmpeg does.
    def no_decoder(stream: object, packet: object) -> list[object]:
        raise av.error.DecoderNotFoundError(-1128613112, "Decoder not found")

    monkeypatch.setattr(video_io, "_decode", no_decoder)
    with pytest.raises(VideoInputError, match=r"in\.mp4: unsupported video codec h264$"):
        VideoReader(clips["mp4"])


def test_a_corrupt_frame_is_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clip = make_corrupt_frame_clip(tmp_path / "damaged.avi", frames=12, bad_index=5)
    with VideoReader(clip) as reader:
        frames = [item for item in reader.items()]
        assert reader.skipped_frames == 1
    assert len(frames) == 11
    assert any(r.levelno == logging.WARNING and "corrupt frame" in r.message for r in caplog.records)
    # The frames around it decode normally and keep their time slots.
    assert [f.pts for f in frames] == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
    intact = make_clip(
        tmp_path / "intact.avi",
        frames=12,
        size=(96, 64),
        codec="mjpeg",
        pix_fmt="yuvj420p",
        audio=False,
        crf=None,
    )
    reference = decode_frames(intact)
    np.testing.assert_array_equal(frames[5].image, reference[6])


def test_a_truncated_tail_keeps_what_came_before(clips: dict[str, Path], tmp_path: Path) -> None:
    # Our MP4s have the index first (faststart), so a cut file still opens.
    whole = tmp_path / "whole.mp4"
    transcode(clips["mkv"], whole, EncoderSettings(quality=50))
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with VideoReader(cut) as reader:
        frames = [item for item in reader.items(with_audio=False)]
        assert reader.truncated
    assert 0 < len(frames) < 24


@pytest.mark.parametrize(
    "region", [(3, 5, 40, 75), (0, 0, 64, 70), (250, 200, 320, 240), (100, 101, 101, 102)]
)
def test_changed_regions_only_are_converted_back(tmp_path, region):
    clip = make_clip(tmp_path / "in.mp4", frames=4, size=(320, 240), audio=False)
    output = tmp_path / "out.mp4"
    x0, y0, x1, y1 = region
    with VideoReader(clip) as reader:
        frames = [item for item in reader.items(with_audio=False)]
        with VideoWriter(
            output, reader, EncoderSettings(quality=100, hardware="off"), container_format="mp4"
        ) as w:
            for frame in frames:
                image = frame.image.copy()
                image[y0:y1, x0:x1] = (0, 0, 255)
                w.write_frame(frame, image, [region])
    decoded = decode_frames(output)
    for frame, out in zip(frames, decoded, strict=True):
        outside = np.ones(out.shape[:2], bool)
        outside[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = False  # 4:2:0 blocks around the edge
        assert np.array_equal(out[outside], frame.image[outside])
        if x1 - x0 > 4 and y1 - y0 > 4:
            inner = out[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2].astype(int)
            assert np.abs(inner - [0, 0, 255]).max() <= 6


def test_encoder_thread_count_is_applied(tmp_path):
    clip = make_clip(tmp_path / "in.mp4", frames=3, size=(160, 120), audio=False)
    with VideoReader(clip) as reader:
        settings = EncoderSettings(quality=80, hardware="off", threads=1)
        with VideoWriter(tmp_path / "out.mp4", reader, settings, container_format="mp4") as writer:
            assert writer._sink._video.codec_context.thread_count == 1
            for frame in reader.items(with_audio=False):
                writer.write_frame(frame, None)
    assert len(decode_frames(tmp_path / "out.mp4")) == 3
