"""Replacing only the swapped rectangles of a decoded YUV 4:2:0 frame.

Converting a whole swapped frame back to YUV costs time and changes every pixel a little;
patching only the face rectangles keeps the rest of the decoded picture exactly as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import av
import numpy as np


def patch_yuv420(
    native: Any,
    image: np.ndarray,
    regions: Sequence[tuple[int, int, int, int]],
    colorspace: Any,
    color_range: Any,
) -> Any:
    """``native`` (a yuv420p av.VideoFrame) with ``regions`` (x0, y0, x1, y1) taken from
    ``image`` (BGR, the same size), converted with the output's colour space and range."""
    width, height = native.width, native.height
    planes = native.to_ndarray()  # (H * 3 / 2, W): Y, then U and V at half resolution
    luma, chroma_u, chroma_v = _i420_planes(planes, width, height)
    for x0, y0, x1, y1 in regions:
        # 4:2:0 chroma covers 2x2 blocks: widen to even edges
        x0, y0 = max(0, x0 - x0 % 2), max(0, y0 - y0 % 2)
        x1, y1 = min(width, x1 + x1 % 2), min(height, y1 + y1 % 2)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        bgr_patch = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[y0:y1, x0:x1]), format="bgr24")
        patch = bgr_patch.reformat(
            format="yuv420p", dst_colorspace=colorspace, dst_color_range=color_range
        ).to_ndarray()
        patch_y, patch_u, patch_v = _i420_planes(patch, x1 - x0, y1 - y0)
        luma[y0:y1, x0:x1] = patch_y
        chroma_u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = patch_u
        chroma_v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = patch_v
    patched = av.VideoFrame.from_ndarray(planes, format="yuv420p")
    if colorspace:
        patched.colorspace = colorspace
    if color_range:
        patched.color_range = color_range
    return patched


def _i420_planes(packed: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of a packed yuv420p array (even width and height).

    The chroma planes are not whole rows of the packed array when height / 2 is odd, so
    split the flat buffer by plane sizes instead of by rows.
    """
    flat = packed.reshape(-1)
    luma_size = width * height
    chroma_size = (width // 2) * (height // 2)
    luma = flat[:luma_size].reshape(height, width)
    chroma_u = flat[luma_size : luma_size + chroma_size].reshape(height // 2, width // 2)
    chroma_v = flat[luma_size + chroma_size : luma_size + 2 * chroma_size].reshape(height // 2, width // 2)
    return luma, chroma_u, chroma_v
