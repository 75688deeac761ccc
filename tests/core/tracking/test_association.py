"""associate: greedy matching of predicted track boxes to detections."""

from __future__ import annotations

import numpy as np

from facedeck.core.tracking.association import associate


def test_association_falls_back_to_centre_distance_for_fast_motion():
    tracks = np.array([[0, 0, 100, 100], [300, 0, 400, 100]], dtype=np.float64)
    moved = np.array([[310, 10, 410, 110], [90, 20, 190, 120]], dtype=np.float64)  # no overlap for track 0
    assert sorted(associate(tracks, moved, iou_min=0.3, center_max=1.0)) == [(0, 1), (1, 0)]
    far = np.array([[250, 250, 350, 350]], dtype=np.float64)
    assert associate(tracks[:1], far, iou_min=0.3, center_max=1.0) == []
