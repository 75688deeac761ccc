"""Planning a fan-out: where a video can be cut without re-encoding, and into how many parts.

A part must begin with a picture that needs nothing before it: a keyframe, and a *clean*
one, where decode order and presentation order agree on the cut (every packet before it
is shown earlier, every packet from it on at the same time or later). The IDR frames of
closed GOPs (what x264 writes by default) always are; the keyframes of open GOPs (HEVC
CRA pictures, x264 ``--open-gop``) are not, since the pictures after them in decode
order but shown before them refer across the cut: those are never chosen.

Times are the ones the video reader gives (:attr:`SourceFrame.time`: presentation time
from the stream's start), as a job's trim uses them, so a plan over ``[start, end)``
covers exactly the frames a local trimmed run keeps (``start <= time < end``).

Only packets are read, never decoded: planning an hour of video costs one read of the file.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from ..errors import InputError, UsageError
from ..regular_files import open_regular
from .messages import av_message
from .video_reader import main_video_stream

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Segment:
    """One part of a fanned-out video.

    ``start``: seconds in the source (reader times): a clean keyframe's presentation time,
    except for the first part, which starts at the first frame of the planned range (the
    first frame at or after a trim's start). ``end``: where the next part starts, the
    trim's end for the last part, or None (to the end). ``frames``: frames shown in
    ``[start, end)``.
    """

    index: int
    start: float
    end: float | None
    frames: int


@dataclass(frozen=True)
class VideoScan:
    """A video stream's packets in decode order, without their data: what planning and cutting read."""

    path: Path
    container: str  # the FFmpeg demuxer's name ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi")
    stream_index: int
    codec: str
    time_base: Fraction
    pts: np.ndarray  # int64 presentation ticks of each packet
    times: np.ndarray  # float64 seconds of each packet, as the reader times its frame
    clean: np.ndarray  # bool: a keyframe the video can be cut before
    end_time: float  # when the last frame stops being shown

    def inside(self, start: float, end: float | None) -> np.ndarray:
        """Which packets show a frame in ``[start, end)`` (``end`` None: to the end)."""
        mask = self.times >= start
        if end is not None:
            mask &= self.times < end
        return mask


def plan_segments(
    path: Path, count: int, *, start: float = 0.0, end: float | None = None, min_seconds: float = 2.0
) -> list[Segment]:
    """Cut points at the clean keyframes nearest to ``count`` equal shares of ``[start, end)``.

    Fewer segments than ``count`` when the video has too few clean keyframes in the range
    or parts would be shorter than ``min_seconds`` (never an empty part); one segment when
    ``count`` is 1. Raises :class:`InputError` (one sentence) for an unreadable file or one
    with no video stream, :class:`UsageError` for a range with no frames in it.
    """
    if count < 1:
        raise UsageError(f"a video is split into 1 part or more, not {count}")
    if not (math.isfinite(start) and start >= 0):
        raise UsageError(f"the start must be 0 s or later, not {start}")
    if end is not None and not end > start:
        raise UsageError(f"the end ({end:g} s) must come after the start ({start:g} s)")
    if not min_seconds >= 0:
        raise UsageError(f"the shortest part must be 0 s or longer, not {min_seconds}")
    scan = scan_video(Path(path))
    kept = scan.inside(start, end)
    if not kept.any():
        span = f"from {start:g} s" + (f" to {end:g} s" if end is not None else "")
        raise UsageError(f"{scan.path.name} has no frames {span}", path=os.fspath(scan.path))
    first = float(scan.times[kept].min())
    stop = end if end is not None else scan.end_time
    candidates = np.unique(scan.times[scan.clean & (scan.times > first) & (scan.times < stop)])
    bounds = [first, *_choose_cuts(candidates, first, stop, count, min_seconds)]
    segments = []
    for index, begin in enumerate(bounds):
        finish = bounds[index + 1] if index + 1 < len(bounds) else end
        frames = int(np.count_nonzero(scan.inside(begin, finish)))
        segments.append(Segment(index=index, start=begin, end=finish, frames=frames))
    logger.debug("%s: %d part(s) planned at %s", scan.path, len(segments), [s.start for s in segments])
    return segments


def _choose_cuts(
    candidates: np.ndarray, first: float, stop: float, count: int, min_seconds: float
) -> list[float]:
    """The cut times for as many parts as fit, up to ``count``; none for one part."""
    for parts in range(min(count, candidates.size + 1), 1, -1):
        cuts = _cuts_for(candidates, first, stop, parts, min_seconds)
        if cuts is not None:
            return cuts
    return []


def _cuts_for(
    candidates: np.ndarray, first: float, stop: float, parts: int, min_seconds: float
) -> list[float] | None:
    """``parts - 1`` cuts, each the candidate nearest its equal share that leaves room for the
    parts after it; None when some cut has no candidate."""
    share = (stop - first) / parts
    cuts: list[float] = []
    previous = first
    for number in range(1, parts):
        low = previous + min_seconds
        high = stop - min_seconds * (parts - number)
        allowed = candidates[(candidates > previous) & (candidates >= low) & (candidates <= high)]
        if allowed.size == 0:
            return None
        target = first + share * number
        previous = float(allowed[int(np.argmin(np.abs(allowed - target)))])
        cuts.append(previous)
    return cuts


# --------------------------------------------------------------------------- scanning


def scan_video(path: Path) -> VideoScan:
    """Read the video stream's packet timestamps and keyframe flags; InputError when it can't be."""
    with open_regular(path, "video"):
        pass  # a device or a pipe is refused here, unread
    try:
        container = av.open(os.fspath(path), "r", metadata_errors="replace")
    except av.error.FFmpegError as error:
        raise InputError(
            f"{path}: cannot read the video ({av_message(error)})", path=os.fspath(path)
        ) from None
    try:
        stream = main_video_stream(container)
        if stream is None:
            raise InputError(f"{path} has no video stream", path=os.fspath(path))
        codec = stream.codec_context.name if stream.codec_context is not None else "unknown"
        # AVI stores no presentation times (FFmpeg guesses them, badly): as for the reader,
        # one tick is one frame, and a frame's place in the file is its time.
        by_order = container.format.name == "avi"
        stamps, keys, durations = _read_packets(container, stream, path, by_order)
        if by_order:
            stamps = [(stream.start_time or 0) + number for number in range(len(stamps))]
        time_base = stream.time_base or Fraction(1, 90_000)
        origin = stream.start_time or 0
        demuxer = container.format.name
        index = stream.index
    finally:
        container.close()
    pts = np.asarray(stamps, dtype=np.int64)
    # (ticks x numerator) / denominator in float64 rounds exactly as Fraction -> float does
    times = (pts - origin).astype(np.float64) * time_base.numerator / time_base.denominator
    return VideoScan(
        path=path,
        container=demuxer,
        stream_index=index,
        codec=codec,
        time_base=time_base,
        pts=pts,
        times=times,
        clean=_clean_keyframes(pts, np.asarray(keys, dtype=bool)),
        end_time=_end_time(times, np.asarray(durations, dtype=np.float64) * float(time_base)),
    )


def _read_packets(
    container: av.container.InputContainer, stream: av.VideoStream, path: Path, by_order: bool
) -> tuple[list[int], list[bool], list[int]]:
    stamps: list[int] = []
    keys: list[bool] = []
    durations: list[int] = []
    try:
        for packet in container.demux(stream):
            if not packet.size:
                continue
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is None and not by_order:
                raise InputError(
                    f"{path}: its video carries no timestamps, so it cannot be cut without re-encoding",
                    path=os.fspath(path),
                )
            stamps.append(stamp or 0)
            keys.append(packet.is_keyframe)
            durations.append(packet.duration or 0)
    except av.error.FFmpegError as error:
        raise InputError(
            f"{path}: the video is damaged ({av_message(error)})", path=os.fspath(path)
        ) from None
    if not stamps:
        raise InputError(f"{path} has no video frames", path=os.fspath(path))
    return stamps, keys, durations


def _clean_keyframes(pts: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Keyframes where the packets before all show earlier and the packets from there on not earlier."""
    before = np.empty_like(pts)
    before[0] = np.iinfo(np.int64).min
    before[1:] = np.maximum.accumulate(pts)[:-1]
    from_here = np.minimum.accumulate(pts[::-1])[::-1]
    return keys & (before < pts) & (from_here >= pts)


def _end_time(times: np.ndarray, durations: np.ndarray) -> float:
    if durations.any():
        return float((times + durations).max())
    gaps = np.diff(np.unique(times))
    return float(times.max() + (float(np.median(gaps)) if gaps.size else 0.0))
