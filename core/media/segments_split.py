"""Splitting a video into its planned parts by stream copy: video packets only, no re-encoding.

Each part holds the video packets of one :class:`Segment` (no audio, no subtitles: the
join takes the audio from the source), timed so that the segment's first frame is at 0.

Where the parts go: MP4 for every codec the MP4 muxer takes (H.264, HEVC, AV1, VP9,
MPEG-4, ...), whatever the source's container, else QuickTime (ProRes, VP8, DNxHD, ...),
else Matroska. MP4 and QuickTime are chosen for their edit lists: a part whose first frame
is not a clean keyframe (the start of a trimmed range) carries the packets from the
keyframe before it, timed before 0, and a part that ends where B-frames still need a
picture shown later (the end of a trimmed range) carries that picture too; the edit list
hides both, so a reader sees exactly the segment's frames (see :mod:`.segments_edit`). A
Matroska part can only be cut at clean keyframes.

Decode times before 0 (with B-frames the first packets are decoded before the first frame
is shown) are kept by MP4 and QuickTime with an edit list; Matroska stores no decode times.

A worker's reader sees the hidden frames in the part's frame count but never decodes them
(the reader logs that it decoded fewer frames than the header announces).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np

from ..errors import InputError, OutputError, UsageError
from .encoding import close_quietly, muxer_codecs
from .messages import av_message
from .segments_edit import end_presentation
from .segments_plan import Segment, VideoScan, scan_video

logger = logging.getLogger(__name__)

# (muxer, extension) in order of preference: the first that takes the codec holds the parts.
_PART_CONTAINERS = (("mp4", ".mp4"), ("mov", ".mov"), ("matroska", ".mkv"))
_EDIT_LISTS = frozenset({"mp4", "mov"})


@dataclass(frozen=True)
class _Cut:
    """Which packets (decode order) one part gets, and how they are timed."""

    segment: Segment
    first: int  # the first packet written: a clean keyframe
    last: int  # the last packet written
    shift: int  # ticks taken off every timestamp: the presentation time of the segment's first frame
    lead_in: bool  # packets shown before the segment's first frame are written (hidden by the edit list)
    keep_until: float  # seconds (in the part) of the last frame shown
    drop_from: float | None  # seconds (in the part) of the first trailing picture to hide, if any


def split_video(path: Path, segments: Sequence[Segment], folder: Path) -> list[Path]:
    """Write each segment's video packets into ``folder/part-{index:03d}{ext}`` by stream copy.

    Timestamps are shifted so each part starts at 0; together the parts show every frame
    of the source within the segments, once. Raises :class:`InputError` for an unreadable
    source or a codec no container here can hold, :class:`OutputError` when ``folder``
    cannot be written, :class:`UsageError` for segments with no frames.
    """
    path = Path(path)
    if not segments:
        raise UsageError("no segments to split into")
    scan = scan_video(path)
    fmt, extension = _part_container(scan)
    cuts = [_cut(scan, segment) for segment in segments]
    for cut in cuts:
        if fmt not in _EDIT_LISTS and (cut.lead_in or cut.drop_from is not None):
            raise InputError(
                f"{path}: its {scan.codec} video cannot be cut at {cut.segment.start:g} s"
                f"{'' if cut.segment.end is None else f' to {cut.segment.end:g} s'} without re-encoding",
                path=os.fspath(path),
            )
    for before, after in itertools.pairwise(cuts):
        if after.first <= before.last:
            raise UsageError(f"segments {before.segment.index} and {after.segment.index} overlap")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{folder}: cannot write there ({error.strerror or error})") from None
    paths = [folder / f"part-{cut.segment.index:03d}{extension}" for cut in cuts]
    try:
        _write_parts(scan, cuts, paths, fmt)
        for cut, part in zip(cuts, paths, strict=True):
            if cut.drop_from is not None:
                end_presentation(part, cut.keep_until, cut.drop_from)
    except BaseException:
        for part in paths:
            part.unlink(missing_ok=True)
        raise
    logger.debug("%s: split into %d %s part(s) in %s", path, len(paths), fmt, folder)
    return paths


def _part_container(scan: VideoScan) -> tuple[str, str]:
    for fmt, extension in _PART_CONTAINERS:
        if scan.codec in muxer_codecs(fmt):
            return fmt, extension
    raise InputError(
        f"{scan.path}: its {scan.codec} video cannot be split without re-encoding", path=os.fspath(scan.path)
    )


def _cut(scan: VideoScan, segment: Segment) -> _Cut:
    inside = scan.inside(segment.start, segment.end)
    indices = np.flatnonzero(inside)
    if indices.size == 0:
        raise UsageError(f"segment {segment.index} ({segment.start:g} s on) has no frames")
    first_shown = int(scan.pts[indices].min())
    last = int(indices.max())
    keyframes = np.flatnonzero(scan.clean[: int(indices.min()) + 1])
    if keyframes.size == 0:
        raise InputError(
            f"{scan.path}: no keyframe before {segment.start:g} s to cut at", path=os.fspath(scan.path)
        )
    first = int(keyframes[-1])
    written = scan.pts[first : last + 1]
    outside = ~inside[first : last + 1]
    trailing = written[outside & (written > first_shown)]
    seconds = float(scan.time_base)
    return _Cut(
        segment=segment,
        first=first,
        last=last,
        shift=first_shown,
        lead_in=bool((outside & (written < first_shown)).any()),
        keep_until=(int(scan.pts[indices].max()) - first_shown) * seconds,
        drop_from=(int(trailing.min()) - first_shown) * seconds if trailing.size else None,
    )


def _write_parts(scan: VideoScan, cuts: list[_Cut], paths: list[Path], fmt: str) -> None:
    """One pass over the source's packets, each copied into the part whose range holds it."""
    try:
        source = av.open(os.fspath(scan.path), "r", metadata_errors="replace")
    except av.error.FFmpegError as error:
        raise InputError(f"{scan.path}: cannot read the video ({av_message(error)})") from None
    writer = _PartWriter(scan, cuts, paths, fmt)
    try:
        stream = source.streams[scan.stream_index]
        for number, packet in enumerate(_packets(source, stream, scan.path)):
            writer.take(number, packet, stream)
        writer.finish()
    finally:
        writer.abort()
        source.close()


def _packets(source: Any, stream: Any, path: Path) -> Iterator[Any]:
    """The stream's packets with data, in decode order (numbered as the scan numbered them)."""
    try:
        for packet in source.demux(stream):
            if packet.size:
                yield packet
    except av.error.FFmpegError as error:
        raise InputError(
            f"{path}: the video is damaged ({av_message(error)})", path=os.fspath(path)
        ) from None


class _PartWriter:
    """Writes the parts one after the other as the packets go by."""

    def __init__(self, scan: VideoScan, cuts: list[_Cut], paths: list[Path], fmt: str) -> None:
        self.scan = scan
        self.cuts = cuts
        self.paths = paths
        self.fmt = fmt
        self.current = 0  # the cut being written
        self.container: Any = None  # its output, while open
        self.video: Any = None

    def take(self, number: int, packet: Any, stream: Any) -> None:
        if self.current >= len(self.cuts):
            return
        cut, path = self.cuts[self.current], self.paths[self.current]
        if number < cut.first:
            return
        if number == cut.first:
            self._open(path, stream)
        if self.scan.container == "avi":  # the reader's times for AVI: a frame's place in the file
            packet.pts = packet.dts = int(self.scan.pts[number])
        packet.pts -= cut.shift
        packet.dts = None if packet.dts is None else packet.dts - cut.shift
        packet.stream = self.video
        try:
            self.container.mux(packet)
            if number == cut.last:
                container, self.container = self.container, None
                container.close()
        except (av.error.FFmpegError, OSError) as error:
            raise OutputError(f"{path}: cannot write the part ({av_message(error)})") from None
        if number == cut.last:
            self.current += 1

    def finish(self) -> None:
        if self.current < len(self.cuts):
            raise InputError(f"{self.scan.path}: the video changed while it was being split")

    def abort(self) -> None:
        if self.container is not None:
            close_quietly(self.container)
            self.container = None

    def _open(self, path: Path, template: Any) -> None:
        try:
            container = av.open(os.fspath(path), "w", format=self.fmt)
        except (av.error.FFmpegError, OSError) as error:
            raise OutputError(f"{path}: cannot write the part ({av_message(error)})") from None
        try:
            video = container.add_stream_from_template(template)
            if self.fmt not in self.scan.container.split(","):
                # Another container family's codec tag (AVI's "H264") is not this one's: the muxer picks.
                video.codec_context.codec_tag = "\0\0\0\0"
        except (av.error.FFmpegError, ValueError) as error:
            close_quietly(container)
            raise OutputError(f"{path}: cannot write the part ({av_message(error)})") from None
        self.container, self.video = container, video
