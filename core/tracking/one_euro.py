"""One-Euro filter over 2-D points: low jitter when still, low lag when moving."""

from __future__ import annotations

import math

import numpy as np

FALLBACK_DT = 1.0 / 30.0  # frame interval assumed when timestamps do not advance


class OneEuroFilter:
    """One-Euro filter (Casiez et al. 2012) over an array of 2-D points, driven by timestamps.

    The cutoff rises with the speed of each point: a still point is smoothed hard (low
    jitter), a moving one lightly (low lag). Speed is the norm of each point's filtered
    velocity in px/s, so the filter does not depend on the direction of motion.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0) -> None:
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._time = 0.0

    @staticmethod
    def _alpha(dt: float, cutoff: np.ndarray | float) -> np.ndarray | float:
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def reset(self) -> None:
        self._value = None
        self._speed = None

    @property
    def value(self) -> np.ndarray | None:
        """The current filtered points (``None`` before the first sample)."""
        return None if self._value is None else self._value.copy()

    def shift(self, delta: np.ndarray) -> None:
        """Move the filtered points by ``delta`` without filtering: motion the caller knows."""
        if self._value is not None:
            self._value = self._value + np.asarray(delta, dtype=np.float64)

    def __call__(self, points: np.ndarray, timestamp: float) -> np.ndarray:
        """Filtered copy of ``points`` (shape ``(n, 2)``) at ``timestamp`` seconds."""
        points = np.asarray(points, dtype=np.float64)
        if self._value is None or self._value.shape != points.shape:
            self._value = points.copy()
            self._speed = np.zeros_like(points)
            self._time = float(timestamp)
            return points.copy()
        dt = float(timestamp) - self._time
        if dt <= 0:
            dt = FALLBACK_DT
        self._time = float(timestamp)
        velocity = (points - self._value) / dt
        self._speed = self._speed + self._alpha(dt, self.d_cutoff) * (velocity - self._speed)
        speed = np.linalg.norm(self._speed, axis=-1, keepdims=True)
        alpha = self._alpha(dt, self.min_cutoff + self.beta * speed)
        self._value = self._value + alpha * (points - self._value)
        return self._value.copy()
