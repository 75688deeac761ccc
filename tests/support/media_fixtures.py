"""Small real video and animation files, written with PyAV and Pillow at test time.

Shared by the video I/O tests, the video pipeline tests and the benchmark. Everything
here is independent of ``facedeck.core.media`` (frames are decoded with PyAV or Pillow
directly) so the tests can check the module against it.

Conventions:
- ``size`` is the STORED (coded) picture size, as in real files: a phone clip stored as
  320x240 with ``rotation=90`` is shown 240x320.
- ``rotation`` is the clockwise angle a player applies to the stored picture (what
  ``VideoInfo.rotation`` reports).
- ``draw(index, image)`` paints into the UPRIGHT (displayed) BGR image of each frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageSequence

DrawFn = Callable[[int, np.ndarray], None]

_FORMATS = {
    ".mp4": "mp4",
    ".m4a": "mp4",
    ".mov": "mov",
    ".mkv": "matroska",
    ".avi": "avi",
    ".webm": "webm",
}
_AUDIO_RATE = 48_000
_TONE_HZ = 440.0
# Irregular gaps between frames, in quarter frame periods: a variable-frame-rate clip.
_VFR_TICKS = (4, 8, 4, 12, 2, 6, 4, 3, 5, 4)


def synthetic_frame(index: int, width: int, height: int) -> np.ndarray:
    """Upright BGR content for frame ``index``: a gradient plus a rectangle that moves."""
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = (xs * 255 // max(1, width - 1)).astype(np.uint8)
    image[..., 1] = (ys * 255 // max(1, height - 1)).astype(np.uint8)
    image[..., 2] = np.uint8((index * 7) % 256)
    box = max(4, min(width, height) // 5)
    x0 = (index * 5) % max(1, width - box)
    y0 = (index * 3) % max(1, height - box)
    image[y0 : y0 + box, x0 : x0 + box] = (40, 200, 255)
    return image


def make_clip(
    path: str | Path,
    *,
    frames: int = 48,
    size: tuple[int, int] = (320, 240),
    fps: int = 24,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    audio: bool = True,
    audio_codec: str = "aac",
    audio_tracks: int = 1,
    vfr: bool = False,
    rotation: int = 0,
    crf: int | None = 0,
    draw: DrawFn | None = None,
    gop: int | None = None,
) -> Path:
    """Write a short clip with moving content, an optional 440 Hz tone and rotation metadata.

    The container comes from the extension (.mp4 .mov .mkv .avi .webm). ``crf=0`` is
    lossless for libx264/libx265/libvpx-vp9, so tests can compare pixels; ``None`` uses
    the encoder's default quality. A .webm given the default codecs gets VP9 + Opus.
    ``vfr=True`` spaces the frames irregularly (time base 1/(4*fps)). ``audio_tracks``
    adds that many audio streams (the second one an octave up, 880 Hz). ``gop`` puts a
    keyframe every ``gop`` frames and nowhere else (x264/x265 scene-cut detection off);
    None leaves the encoder's own choice.
    """
    path = Path(path)
    fmt = _FORMATS[path.suffix.lower()]
    if fmt == "webm":
        codec = "libvpx-vp9" if codec == "libx264" else codec
        audio_codec = "libopus" if audio_codec == "aac" else audio_codec
    if rotation % 90:
        raise ValueError("rotation must be a multiple of 90")
    width, height = size
    with av.open(str(path), "w", format=fmt) as container:
        options = _video_options(codec, crf)
        if gop is not None:
            options = _without_scene_cuts(codec, options)
        video = container.add_stream(codec, rate=fps, options=options)
        if gop is not None:
            video.codec_context.gop_size = gop
        video.width, video.height = width, height
        video.pix_fmt = pix_fmt
        if codec in ("mpeg4", "mjpeg"):
            video.bit_rate = 8_000_000
        if fmt == "avi":
            # AVI stores no presentation times: reordered B-frames would shift them.
            video.codec_context.max_b_frames = 0
        time_base = Fraction(1, fps * 4) if vfr else Fraction(1, fps)
        video.time_base = time_base
        video.codec_context.time_base = time_base
        if rotation % 360:
            # PyAV takes counter-clockwise degrees; rotation here is clockwise.
            video.set_display_rotation(-rotation)

        sounds = []
        for _ in range(audio_tracks if audio else 0):
            sound = container.add_stream(audio_codec, rate=_AUDIO_RATE)
            sound.layout = "stereo"
            sounds.append(sound)
        audio_done = 0  # samples written so far (every track)

        pts = 0
        for index in range(frames):
            upright = synthetic_frame(index, *(size if rotation % 180 == 0 else (height, width)))
            if draw is not None:
                draw(index, upright)
            stored = np.ascontiguousarray(np.rot90(upright, k=(rotation // 90) % 4))
            frame = av.VideoFrame.from_ndarray(stored, format="bgr24")
            frame.pts = pts
            frame.time_base = time_base
            container.mux(video.encode(frame))
            pts += _VFR_TICKS[index % len(_VFR_TICKS)] if vfr else 1
            # Keep the audio up to the end of this frame: the file stays interleaved.
            until = round(float(pts * time_base) * _AUDIO_RATE)
            for track, sound in enumerate(sounds):
                _write_tone(container, sound, audio_done, until, _TONE_HZ * (track + 1))
            audio_done = until
        container.mux(video.encode())
        for sound in sounds:
            container.mux(sound.encode())
    return path


def _video_options(codec: str, crf: int | None) -> dict[str, str]:
    if crf is None:
        return {}
    if codec == "libx264":
        return {"crf": str(crf), "preset": "ultrafast" if crf == 0 else "veryfast"}
    if codec == "libx265":
        params = "lossless=1:log-level=error" if crf == 0 else "log-level=error"
        return {"crf": str(crf), "preset": "ultrafast", "x265-params": params}
    if codec == "libvpx-vp9":
        base = {"deadline": "realtime", "cpu-used": "8", "b": "0"}
        return {**base, "lossless": "1"} if crf == 0 else {**base, "crf": str(crf)}
    return {}


def _without_scene_cuts(codec: str, options: dict[str, str]) -> dict[str, str]:
    """``options`` plus what keeps x264/x265 from adding keyframes of their own at scene cuts."""
    key = {"libx264": "x264-params", "libx265": "x265-params"}.get(codec)
    if key is None:
        return options
    params = [item for item in options.get(key, "").split(":") if item]
    return {**options, key: ":".join(["scenecut=0", *params])}


def _write_tone(
    container: av.container.OutputContainer,
    stream: av.AudioStream,
    start: int,
    end: int,
    frequency: float = _TONE_HZ,
) -> int:
    chunk = 1024
    while start < end:
        count = min(chunk, end - start)
        t = (np.arange(start, start + count) / _AUDIO_RATE).astype(np.float64)
        tone = (0.3 * np.sin(2 * math.pi * frequency * t)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
        frame.sample_rate = _AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, _AUDIO_RATE)
        container.mux(stream.encode(frame))
        start += count
    return start


def make_audio_only(path: str | Path, *, seconds: float = 1.0, codec: str = "aac") -> Path:
    """An audio-only MP4 (what an .m4a is), whatever ``path``'s extension says."""
    path = Path(path)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=_AUDIO_RATE)
        stream.layout = "stereo"
        _write_tone(container, stream, 0, round(seconds * _AUDIO_RATE))
        container.mux(stream.encode())
    return path


def make_animated(
    path: str | Path,
    *,
    frames: int = 10,
    size: tuple[int, int] = (120, 90),
    durations_ms: Sequence[int] | None = None,
    draw: DrawFn | None = None,
    loop: int | None = 0,
) -> Path:
    """An animated GIF or WebP (by extension) with per-frame durations (default 100 ms)."""
    path = Path(path)
    durations = list(durations_ms) if durations_ms is not None else [100] * frames
    if len(durations) != frames:
        raise ValueError("durations_ms needs one value per frame")
    images = []
    for index in range(frames):
        image = synthetic_frame(index, *size)
        if draw is not None:
            draw(index, image)
        images.append(Image.fromarray(np.ascontiguousarray(image[..., ::-1])))
    options: dict[str, object] = {"save_all": True, "append_images": images[1:], "duration": durations}
    if loop is not None:
        options["loop"] = loop
    if path.suffix.lower() == ".webp":
        options.update(lossless=True, quality=100)
        images[0].save(path, format="WEBP", **options)
    elif path.suffix.lower() == ".gif":
        images[0].save(path, format="GIF", optimize=False, **options)
    else:
        raise ValueError(f"make_animated writes .gif or .webp, not {path.suffix}")
    return path


def make_corrupt_frame_clip(path: str | Path, *, frames: int = 12, bad_index: int = 5) -> Path:
    """An intra-only MJPEG AVI whose frame ``bad_index`` has its JPEG data overwritten.

    Only that frame fails to decode (FFmpeg reports invalid data); the others are fine.
    """
    path = Path(path)
    make_clip(path, frames=frames, size=(96, 64), codec="mjpeg", pix_fmt="yuvj420p", audio=False, crf=None)
    with av.open(str(path)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    position, size = packets[bad_index]
    data = bytearray(path.read_bytes())
    data[position : position + size] = bytes((i * 37 + 11) & 0xFF for i in range(size))
    path.write_bytes(bytes(data))
    return path


def write_bad_videos(directory: str | Path) -> dict[str, Path]:
    """One file per kind of unusable video input, named for what is wrong with it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    files["empty"] = directory / "empty.mp4"
    files["empty"].write_bytes(b"")

    files["text"] = directory / "notes.mp4"
    files["text"].write_text("these are my holiday notes, not a video\n" * 20)

    # The MP4 muxer writes the index (moov) at the end: the first half has none.
    whole = make_clip(directory / "whole.mp4", frames=24, size=(160, 120))
    data = whole.read_bytes()
    files["truncated"] = directory / "truncated.mp4"
    files["truncated"].write_bytes(data[: len(data) // 2])
    whole.unlink()

    files["no_video"] = make_audio_only(directory / "audio_only.mp4")

    # A real AVI whose stream says AVS2: FFmpeg knows the codec but this build cannot decode it.
    mpeg4 = make_clip(directory / "mpeg4.avi", frames=6, size=(64, 48), codec="mpeg4", audio=False, crf=None)
    data = mpeg4.read_bytes()
    assert data.count(b"FMP4") >= 1, "the AVI muxer no longer tags MPEG-4 Part 2 as FMP4"
    files["unsupported_codec"] = directory / "avs2.avi"
    files["unsupported_codec"].write_bytes(data.replace(b"FMP4", b"AVS2"))
    mpeg4.unlink()
    return files


# --------------------------------------------------------------------------- reading back


def _is_animation(path: Path) -> bool:
    return path.suffix.lower() in (".gif", ".webp")


def _upright(image: np.ndarray, frame: av.VideoFrame) -> np.ndarray:
    clockwise = (-frame.rotation) % 360
    return np.ascontiguousarray(np.rot90(image, k=-(clockwise // 90)))


def decode_frames(path: str | Path) -> list[np.ndarray]:
    """Every frame as an upright BGR uint8 array (PyAV for videos, Pillow for animations)."""
    path = Path(path)
    if _is_animation(path):
        with Image.open(path) as image:
            return [
                np.ascontiguousarray(np.asarray(frame.convert("RGB"))[..., ::-1])
                for frame in ImageSequence.Iterator(image)
            ]
    with av.open(str(path)) as container:
        return [_upright(frame.to_ndarray(format="bgr24"), frame) for frame in container.decode(video=0)]


def frame_times(path: str | Path) -> list[float]:
    """Each frame's presentation time in seconds (animations: the sum of earlier durations)."""
    path = Path(path)
    if _is_animation(path):
        times, now = [], 0
        with Image.open(path) as image:
            for frame in ImageSequence.Iterator(image):
                times.append(now / 1000)
                now += _loaded(frame).info.get("duration", 0)
        return times
    with av.open(str(path)) as container:
        return [float(frame.time) for frame in container.decode(video=0)]


def frame_durations_ms(path: str | Path) -> list[int]:
    """Per-frame durations of an animated GIF/WebP, in milliseconds."""
    with Image.open(path) as image:
        return [int(_loaded(frame).info.get("duration", 0)) for frame in ImageSequence.Iterator(image)]


def _loaded(frame: Image.Image) -> Image.Image:
    # The WebP plugin fills info["duration"] when a frame is loaded, not when it is sought.
    frame.load()
    return frame


def audio_info(path: str | Path) -> list[tuple[str, float]]:
    """(codec name, decoded duration in seconds) for each audio stream."""
    with av.open(str(path)) as container:
        count = len(container.streams.audio)
    result = []
    for index in range(count):
        with av.open(str(path)) as container:
            stream = container.streams.audio[index]
            samples = sum(frame.samples for frame in container.decode(stream))
            result.append((stream.codec_context.name, samples / stream.codec_context.sample_rate))
    return result


def audio_packets(path: str | Path, stream_index: int = 0) -> list[bytes]:
    """The raw payloads of one audio stream's packets (to check a copy was not re-encoded)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[stream_index]
        return [bytes(packet) for packet in container.demux(stream) if packet.size]
