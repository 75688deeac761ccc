"""Faces over time: detect every N frames, follow faces with optical flow in between,
smooth them, keep identities."""
