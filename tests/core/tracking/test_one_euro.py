"""OneEuroFilter: still when still, quick when moving."""

from __future__ import annotations

import numpy as np

from facedeck.core.tracking.one_euro import OneEuroFilter

FPS = 30.0


def test_one_euro_filter_is_still_when_still_and_quick_when_moving():
    rng = np.random.default_rng(0)
    still = OneEuroFilter(min_cutoff=1.0, beta=0.05)
    noisy = [still(np.array([[50.0, 50.0]]) + rng.uniform(-2, 2, (1, 2)), i / FPS) for i in range(90)]
    assert np.std(np.concatenate(noisy[30:])) < 0.7  # raw std is ~1.15, filtered ~0.59
    moving = OneEuroFilter(min_cutoff=1.0, beta=0.05)
    outputs = [moving(np.array([[20.0 * i, 0.0]]), i / FPS) for i in range(60)]
    assert 20.0 * 59 - outputs[-1][0, 0] < 5.0  # 600 px/s: lag well under a frame's motion
