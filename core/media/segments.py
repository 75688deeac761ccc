"""Fan-out media work: a long video split at keyframes into parts, and the swapped parts joined.

The desktop splits a video into N parts by stream copy (no re-encoding), each part is
swapped by its own worker (which decodes and re-encodes it), and the swapped parts are
joined back into one file by stream copy with the source's own audio and timing:

- :func:`plan_segments` picks the cut points (:mod:`.segments_plan`);
- :func:`split_video` writes the parts, video only (:mod:`.segments_split`);
- :func:`join_segments` joins the swapped parts into the output (:mod:`.segments_join`).

Parts are written as MP4 when the MP4 muxer takes the codec, else QuickTime, else
Matroska (see :mod:`.segments_split` for why). Joins write MP4, QuickTime, Matroska or WebM.
"""

from __future__ import annotations

from .segments_join import JoinReport, join_segments
from .segments_plan import Segment, plan_segments
from .segments_split import split_video

__all__ = ["JoinReport", "Segment", "join_segments", "plan_segments", "split_video"]
