"""What every media module shares: Pillow's decode-error family."""

from __future__ import annotations

import struct

from PIL import Image

# What Pillow's plugins raise for malformed data (Image.open catches the same family).
PIL_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    TypeError,
    struct.error,
    Image.DecompressionBombError,
)
