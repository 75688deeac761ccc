"""Face tracking for video and live frames: detect every N frames, track in between.

Detection is the expensive stage, so :class:`FaceTracker` runs the detector only every
``detect_every`` frames and moves each face with sparse optical flow on a small grey
patch around it (DESIGN.md section 5). Keypoints and boxes go through a One-Euro filter
per track so a pasted face neither jitters when still nor lags when moving; the filter
state is carried along by the tracked motion, so it smooths only what the motion does
not explain (detector noise) and adds no lag to the motion itself. Every track carries
an identity: new tracks are compared with the people seen so far, so a person who leaves
the frame and comes back keeps the same ``extra["identity"]`` and reference selection /
source mappings stay consistent. When optical flow loses a face (a cut, an occlusion)
the tracker detects at once and checks the face is still the same person.

Frames must come in order from one thread; the tracker is not thread-safe.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..faces.align import ARCFACE_TEMPLATE_112
from ..faces.face import Face
from ..faces.recognizer import l2_normalize

log = logging.getLogger(__name__)

DetectFn = Callable[[np.ndarray], list[Face]]
EmbedFn = Callable[[np.ndarray, list[Face]], object]

# Optical flow parameters. The patch is at most ``flow_face_size`` px across the face, so
# a 15 px window on 3 pyramid levels follows motion of about a quarter face per frame.
_LK_PARAMS = {
    "winSize": (15, 15),
    "maxLevel": 3,
    "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
}
_MAX_FLOW_POINTS = 40
_REFRESH_FLOW_POINTS = 20  # tracked points are reused until fewer than this are left
_MIN_FLOW_POINTS = 6
_FB_MAX_ERROR = 0.7  # forward-backward error (patch px) above which a flow point is dropped
_RANSAC_THRESHOLD = 1.0  # patch px
_REGION_MARGIN = 0.5  # flow patch = face box grown by this fraction of its size on each side
_REUSE_MARGIN = 0.4  # the current patch serves the next frame while the box keeps this margin
_BOX_INSET = 0.1  # flow points come from the box shrunk by this fraction (skip the background)
_FALLBACK_DT = 1.0 / 30.0  # frame interval assumed when timestamps do not advance


@dataclass
class TrackerSettings:
    """How often to detect, how to associate, how much to smooth, when two tracks are one person."""

    detect_every: int = 3  # 1 = detect on every frame
    max_missed_detections: int = 2  # a track not confirmed by this many consecutive detection frames ends
    iou_match: float = 0.3  # detection <-> track association threshold (IoU)
    smoothing: bool = True
    min_cutoff: float = 1.0  # One-Euro filter: minimum cutoff frequency, Hz
    beta: float = 0.05  # One-Euro filter: cutoff increase per px/s of speed
    identity_threshold: float = 0.6  # cosine distance under which a new track is an earlier person
    center_match: float = 1.0  # fallback association: centre distance in face sizes (fast motion)
    flow_face_size: int = 128  # faces are tracked on a grey patch at most this many px across
    redetect_on_loss: bool = True  # a face that optical flow loses (cut, occlusion) triggers a detection
    embedding_refresh: int = 0  # re-embed a track every K of its detections (0 = only when new)

    def __post_init__(self) -> None:
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be at least 1, got {self.detect_every}")
        if self.max_missed_detections < 1:
            raise ValueError(f"max_missed_detections must be at least 1, got {self.max_missed_detections}")
        if self.flow_face_size < 16:
            raise ValueError(f"flow_face_size must be at least 16, got {self.flow_face_size}")


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
            dt = _FALLBACK_DT
        self._time = float(timestamp)
        velocity = (points - self._value) / dt
        self._speed = self._speed + self._alpha(dt, self.d_cutoff) * (velocity - self._speed)
        speed = np.linalg.norm(self._speed, axis=-1, keepdims=True)
        alpha = self._alpha(dt, self.min_cutoff + self.beta * speed)
        self._value = self._value + alpha * (points - self._value)
        return self._value.copy()


@dataclass
class _Identity:
    identity_id: int
    total: np.ndarray  # sum of the unit embeddings seen for this person
    mean: np.ndarray  # their normalised mean, what faces of this person carry

    def add(self, embedding: np.ndarray) -> None:
        self.total = self.total + embedding
        self.mean = l2_normalize(self.total)


@dataclass
class _Patch:
    """A grey, possibly downscaled copy of one frame region, for optical flow on the next frame."""

    image: np.ndarray
    region: tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels, sides multiples of factor
    factor: int  # frame px per patch px (integer: INTER_AREA then is a cheap box filter)
    face_size: float  # the face's size when the region was chosen
    frame_index: int

    # Patch pixel j averages frame pixels [k*j, k*j + k): centres map with a half-pixel shift.
    def to_patch(self, points: np.ndarray) -> np.ndarray:
        return (points - np.asarray(self.region[:2], dtype=np.float64) + 0.5) / self.factor - 0.5

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64) + 0.5) * self.factor - 0.5 + self.region[:2]


@dataclass
class _Track:
    track_id: int
    identity: int
    bbox: np.ndarray  # raw (unsmoothed) state, float64 [x1, y1, x2, y2]
    kps: np.ndarray  # raw state, float64 (5, 2)
    score: float
    time: float
    smoother: OneEuroFilter | None
    misses: int = 0
    detected: bool = True
    lost: bool = False  # optical flow failed on this frame
    detections_since_embed: int = 0
    patch: _Patch | None = None
    points: np.ndarray | None = field(default=None, repr=False)  # flow points (frame px) on the patch
    # Positions actually seen (detected or followed by flow), not guessed: (time, bbox, kps).
    # Velocity comes from the last two, so one bad guess never feeds the next.
    seen: list[tuple[float, np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.seen = [(self.time, self.bbox.copy(), self.kps.copy())]

    def observe(self, bbox: np.ndarray, kps: np.ndarray, timestamp: float) -> None:
        """A position seen at ``timestamp``; a detection after flow on the same frame replaces it."""
        self.bbox = np.asarray(bbox, dtype=np.float64).copy()
        self.kps = np.asarray(kps, dtype=np.float64).reshape(5, 2).copy()
        self.time = timestamp
        if self.seen and self.seen[-1][0] == timestamp:
            self.seen.pop()
        self.seen = [*self.seen[-1:], (timestamp, self.bbox.copy(), self.kps.copy())]

    def coast(self, bbox: np.ndarray, kps: np.ndarray, timestamp: float) -> None:
        """A guessed position: used for this frame, never for the velocity."""
        self.bbox = np.asarray(bbox, dtype=np.float64).copy()
        self.kps = np.asarray(kps, dtype=np.float64).reshape(5, 2).copy()
        self.time = timestamp

    def predict(self, timestamp: float) -> tuple[np.ndarray, np.ndarray]:
        """Box and keypoints at ``timestamp`` by constant velocity from the last two seen positions."""
        last_time, last_bbox, last_kps = self.seen[-1]
        if len(self.seen) < 2 or last_time <= self.seen[0][0]:
            return last_bbox.copy(), last_kps.copy()
        first_time, first_bbox, first_kps = self.seen[0]
        ratio = (timestamp - last_time) / (last_time - first_time)
        return last_bbox + ratio * (last_bbox - first_bbox), last_kps + ratio * (last_kps - first_kps)


def _box_size(bbox: np.ndarray) -> float:
    return float(math.sqrt(max(bbox[2] - bbox[0], 1.0) * max(bbox[3] - bbox[1], 1.0)))


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` (n, 4) with every box of ``b`` (m, 4)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def associate(
    track_boxes: np.ndarray, det_boxes: np.ndarray, iou_min: float, center_max: float
) -> list[tuple[int, int]]:
    """Greedy best-first matching of predicted track boxes to detection boxes.

    First by IoU (at least ``iou_min``); the rest by centre distance in face sizes (at most
    ``center_max``, sizes within a factor of two), which catches fast motion where the
    boxes no longer overlap. Returns ``(track index, detection index)`` pairs.
    """
    if len(track_boxes) == 0 or len(det_boxes) == 0:
        return []
    pairs: list[tuple[int, int]] = []
    used_t: set[int] = set()
    used_d: set[int] = set()
    iou = _iou_matrix(track_boxes, det_boxes)
    for flat in np.argsort(-iou, axis=None):
        t, d = divmod(int(flat), iou.shape[1])
        if iou[t, d] < iou_min:
            break
        if t not in used_t and d not in used_d:
            pairs.append((t, d))
            used_t.add(t)
            used_d.add(d)
    candidates = []
    for t, tbox in enumerate(track_boxes):
        if t in used_t:
            continue
        t_size = _box_size(tbox)
        t_center = (tbox[:2] + tbox[2:]) / 2.0
        for d, dbox in enumerate(det_boxes):
            if d in used_d:
                continue
            d_size = _box_size(dbox)
            if not 0.5 <= d_size / t_size <= 2.0:
                continue
            distance = float(np.linalg.norm((dbox[:2] + dbox[2:]) / 2.0 - t_center)) / math.sqrt(
                t_size * d_size
            )
            if distance <= center_max:
                candidates.append((distance, t, d))
    for _, t, d in sorted(candidates):
        if t not in used_t and d not in used_d:
            pairs.append((t, d))
            used_t.add(t)
            used_d.add(d)
    return pairs


def _move_box(bbox: np.ndarray, linear: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """An axis-aligned box moved by a similarity: centre transformed, sides scaled."""
    scale = math.sqrt(abs(float(np.linalg.det(linear))))
    center = linear @ ((bbox[:2] + bbox[2:]) / 2.0) + offset
    half = (bbox[2:] - bbox[:2]) * scale / 2.0
    return np.concatenate([center - half, center + half])


def _state(bbox: np.ndarray, kps: np.ndarray) -> np.ndarray:
    """Keypoints and box corners as one (7, 2) array, what the smoother filters."""
    return np.concatenate([np.asarray(kps, dtype=np.float64).reshape(5, 2), np.reshape(bbox, (2, 2))])


def _kps_from_box(bbox: np.ndarray) -> np.ndarray:
    """Five keypoints guessed from a box, for detectors that give none."""
    size = np.array([bbox[2] - bbox[0], bbox[3] - bbox[1]], dtype=np.float64)
    return np.asarray(bbox[:2], dtype=np.float64) + ARCFACE_TEMPLATE_112.astype(np.float64) / 112.0 * size


class FaceTracker:
    """Faces for each frame of a video or live stream, with stable track and identity ids.

    ``detect(frame_bgr)`` returns faces with keypoints; ``embed(frame_bgr, faces)`` fills
    ``face.embedding`` in place (``None``: no identity matching, each track is its own
    identity). :meth:`update` returns new :class:`Face` objects whose ``extra`` holds
    ``track_id``, ``identity`` and ``detected`` (whether a detection backs it this frame);
    ``embedding`` is the normalised mean embedding of the person, the same for every
    track of that person.

    Latency: with nothing to track the detector runs on every frame, so a face is found
    on the frame it appears; while faces are tracked, a newcomer is found at the next
    scheduled detection (at most ``detect_every - 1`` frames late). A face without
    texture (nothing for optical flow) moves by constant velocity between detections.
    """

    def __init__(
        self,
        detect: DetectFn,
        embed: EmbedFn | None = None,
        settings: TrackerSettings | None = None,
    ) -> None:
        self._detect = detect
        self._embed = embed
        self.settings = settings or TrackerSettings()
        self.reset()

    # ----- public -----------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every track and every identity (a new video)."""
        self._tracks: list[_Track] = []
        self._identities: dict[int, _Identity] = {}
        self._next_track_id = 1
        self._next_identity_id = 1
        self._frame_index = -1
        self._since_detection = 0
        self._frame_shape: tuple[int, ...] | None = None
        self._last_time: float | None = None
        self._frame_dt = _FALLBACK_DT

    def update(self, frame_bgr: np.ndarray, timestamp: float) -> list[Face]:
        """Faces of ``frame_bgr`` (BGR uint8) at ``timestamp`` seconds; frames must come in order."""
        timestamp = float(timestamp)
        self._frame_index += 1
        if self._frame_shape is not None and frame_bgr.shape != self._frame_shape:
            log.info("frame size changed from %s to %s: tracks restart", self._frame_shape, frame_bgr.shape)
            self._tracks = []
        if self._last_time is not None and timestamp < self._last_time:
            # A seek: old positions mean nothing, but the people seen so far stay known.
            log.debug("timestamp went back from %.3f to %.3f: tracks restart", self._last_time, timestamp)
            self._tracks = []
        if self._last_time is not None and timestamp > self._last_time:
            self._frame_dt = timestamp - self._last_time
        self._frame_shape = frame_bgr.shape
        self._last_time = timestamp

        confirmed = [track for track in self._tracks if track.misses == 0]
        # Flow runs on detection frames too: it carries the smoother along (no lag) and
        # tells a cut from a move, so a new person at the same spot is not taken for the old.
        lost = [track for track in confirmed if not self._track_flow(track, frame_bgr, timestamp)]
        detect_now = not confirmed or self._since_detection + 1 >= self.settings.detect_every
        if lost and self.settings.redetect_on_loss and not detect_now:
            log.debug("flow lost tracks %s: detecting now", [track.track_id for track in lost])
            detect_now = True
        if detect_now:
            self._detection_frame(frame_bgr, timestamp)
            self._since_detection = 0
        else:
            self._since_detection += 1
            for track in self._tracks:
                track.detected = False

        faces = []
        for track in self._tracks:
            if track.misses == 0:
                face = self._output(track, frame_bgr.shape, timestamp)
                if face is not None:
                    faces.append(face)
                # The next frame is tracked from a grey patch of this one around the face.
                self._keep_patch(track, frame_bgr)
        return faces

    # ----- detection frames -------------------------------------------------------------
    def _detection_frame(self, frame_bgr: np.ndarray, timestamp: float) -> None:
        detections = self._detect(frame_bgr)
        for det in detections:
            if det.kps is None:
                det.kps = _kps_from_box(det.bbox).astype(np.float32)
        tracks = self._tracks
        # Confirmed tracks were moved to this frame by flow; lost ones by constant velocity.
        predicted = np.array([track.predict(timestamp)[0] for track in tracks], dtype=np.float64)
        det_boxes = np.array([det.bbox for det in detections], dtype=np.float64)
        pairs = associate(
            predicted.reshape(-1, 4),
            det_boxes.reshape(-1, 4),
            self.settings.iou_match,
            self.settings.center_match,
        )

        matched_tracks = {t for t, _ in pairs}
        matched_dets = {d for _, d in pairs}
        to_verify: list[tuple[_Track, Face]] = []
        refresh = self.settings.embedding_refresh
        for t, d in pairs:
            track, det = tracks[t], detections[d]
            if track.misses > 0 and track.smoother is not None:
                track.smoother.reset()  # unseen for a while: nothing to be continuous with
            track.observe(det.bbox, det.kps, timestamp)
            track.score = float(det.score)
            track.misses = 0
            track.detected = True
            track.detections_since_embed += 1
            if self._embed is not None and (
                track.lost or (refresh > 0 and track.detections_since_embed >= refresh)
            ):
                # After a cut the face at this spot may be someone else: check who it is.
                to_verify.append((track, det))
            track.lost = False

        ended: list[_Track] = []
        for index, track in enumerate(tracks):
            if index in matched_tracks:
                continue
            track.misses += 1
            track.detected = False
            track.lost = False
            track.patch = None
            track.points = None
            if track.misses >= self.settings.max_missed_detections:
                ended.append(track)

        new_dets = [det for index, det in enumerate(detections) if index not in matched_dets]
        if self._embed is not None and (new_dets or to_verify):
            # One batched call for the new faces (and the few to verify), never per frame.
            self._embed(frame_bgr, [det for _, det in to_verify] + new_dets)

        for track, det in to_verify:
            track.detections_since_embed = 0
            embedding = self._unit(det.embedding)
            identity = self._identities.get(track.identity)
            if embedding is None or identity is None:
                continue
            distance = float(1.0 - np.dot(identity.mean, embedding))
            if distance <= self.settings.identity_threshold:
                identity.add(embedding)
            else:
                log.debug("track %d now shows someone else (distance %.2f): split", track.track_id, distance)
                ended.append(track)
                new_dets.append(det)

        self._tracks = [track for track in tracks if track not in ended]
        for track in ended:
            log.debug("track %d (identity %d) ended", track.track_id, track.identity)
        for det in new_dets:
            self._start_track(det, timestamp)

    def _start_track(self, det: Face, timestamp: float) -> None:
        identity = self._assign_identity(self._unit(det.embedding))
        settings = self.settings
        smoother = OneEuroFilter(settings.min_cutoff, settings.beta) if settings.smoothing else None
        track = _Track(
            track_id=self._next_track_id,
            identity=identity,
            bbox=np.asarray(det.bbox, dtype=np.float64).copy(),
            kps=np.asarray(det.kps, dtype=np.float64).reshape(5, 2).copy(),
            score=float(det.score),
            time=timestamp,
            smoother=smoother,
        )
        self._next_track_id += 1
        self._tracks.append(track)
        log.debug("track %d started (identity %d)", track.track_id, identity)

    # ----- identities -------------------------------------------------------------------
    @staticmethod
    def _unit(embedding: np.ndarray | None) -> np.ndarray | None:
        if embedding is None:
            return None
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 1e-6 else None

    def _assign_identity(self, embedding: np.ndarray | None) -> int:
        """The person this embedding belongs to: an earlier one within the threshold, else new."""
        if embedding is not None and self._identities:
            # A person is in one place at a time: identities shown by confirmed tracks are taken.
            taken = {track.identity for track in self._tracks if track.misses == 0}
            known = list(self._identities.values())
            distances = 1.0 - np.stack([identity.mean for identity in known]) @ embedding
            for index in np.argsort(distances):
                if distances[index] > self.settings.identity_threshold:
                    break
                identity = known[int(index)]
                if identity.identity_id in taken:
                    continue
                # An unconfirmed track of this person is stale: they are here now.
                self._tracks = [track for track in self._tracks if track.identity != identity.identity_id]
                identity.add(embedding)
                return identity.identity_id
        identity_id = self._next_identity_id
        self._next_identity_id += 1
        if embedding is not None:
            self._identities[identity_id] = _Identity(identity_id, embedding.copy(), embedding.copy())
        return identity_id

    # ----- tracking ---------------------------------------------------------------------
    def _track_flow(self, track: _Track, frame_bgr: np.ndarray, timestamp: float) -> bool:
        """Move a track to this frame by optical flow, else by constant velocity.

        Returns False when the face was lost: its texture did not follow (a cut, an
        occlusion). A patch too plain to track is not a loss, it just falls back.
        """
        status, moved = self._flow_similarity(track, frame_bgr)
        smoother = track.smoother
        if moved is not None:
            linear, offset = moved[:, :2], moved[:, 2]
            bbox = _move_box(track.bbox, linear, offset)
            kps = track.kps @ linear.T + offset
            if smoother is not None and smoother.value is not None:
                # Carry the filter along: it then smooths only what the motion does not explain.
                value = smoother.value
                smoother.shift(
                    _state(_move_box(value[5:].reshape(4), linear, offset), value[:5] @ linear.T + offset)
                    - value
                )
            track.observe(bbox, kps, timestamp)
        else:
            bbox, kps = track.predict(timestamp)
            if smoother is not None:
                smoother.shift(_state(bbox, kps) - _state(track.bbox, track.kps))
            track.points = None
            track.coast(bbox, kps, timestamp)
        track.lost = status == "lost"
        return not track.lost

    def _flow_similarity(self, track: _Track, frame_bgr: np.ndarray) -> tuple[str, np.ndarray | None]:
        """("moved", 2x3 similarity in frame px), ("lost", None) or ("untrackable", None).

        Leaves this frame's patch and the surviving points on the track for the next frame.
        """
        previous = track.patch
        if previous is None or previous.frame_index != self._frame_index - 1:
            return "untrackable", None
        # Points from inside the face box only: the background does not move with the face.
        inset = _BOX_INSET * (track.bbox[2:] - track.bbox[:2])
        low, high = track.bbox[:2] + inset, track.bbox[2:] - inset
        points = track.points
        if points is not None:
            points = points[np.all((points >= low) & (points <= high), axis=1)]
        if points is None or len(points) < _REFRESH_FLOW_POINTS:
            mask = np.zeros(previous.image.shape, dtype=np.uint8)
            mx0, my0 = np.maximum(previous.to_patch(low).round().astype(int), 0)
            mx1, my1 = np.maximum(previous.to_patch(high).round().astype(int), 0)
            mask[my0:my1, mx0:mx1] = 255
            found = cv2.goodFeaturesToTrack(
                previous.image, _MAX_FLOW_POINTS, qualityLevel=0.01, minDistance=3, mask=mask, blockSize=5
            )
            if found is None or len(found) < _MIN_FLOW_POINTS:
                track.patch, track.points = None, None
                return "untrackable", None
            start = found.reshape(-1, 1, 2).astype(np.float32)
        else:
            start = previous.to_patch(points).astype(np.float32).reshape(-1, 1, 2)

        current = self._patch_at(frame_bgr, previous.region, previous.factor, previous.face_size)
        track.patch = current  # reused as the next frame's patch while the face stays inside it
        forward, status, _ = cv2.calcOpticalFlowPyrLK(
            previous.image, current.image, start, None, **_LK_PARAMS
        )
        backward, status_back, _ = cv2.calcOpticalFlowPyrLK(
            current.image, previous.image, forward, None, **_LK_PARAMS
        )
        error = np.linalg.norm((backward - start).reshape(-1, 2), axis=1)
        good = (status.reshape(-1) == 1) & (status_back.reshape(-1) == 1) & (error < _FB_MAX_ERROR)
        count = int(good.sum())
        track.points = None
        # Most points must survive: after a cut or a full occlusion only chance matches do.
        if count < max(_MIN_FLOW_POINTS, len(start) // 2):
            return "lost", None
        before = previous.to_frame(start.reshape(-1, 2)[good])
        after = previous.to_frame(forward.reshape(-1, 2)[good])
        matrix, inliers = cv2.estimateAffinePartial2D(
            before, after, method=cv2.RANSAC, ransacReprojThreshold=_RANSAC_THRESHOLD * previous.factor
        )
        if matrix is None or inliers is None or int(inliers.sum()) < max(_MIN_FLOW_POINTS, count // 2):
            return "lost", None
        scale = math.sqrt(abs(float(np.linalg.det(matrix[:, :2]))))
        if not 0.8 <= scale <= 1.25:
            return "lost", None
        track.points = after[inliers.reshape(-1) == 1]
        return "moved", matrix

    def _keep_patch(self, track: _Track, frame_bgr: np.ndarray) -> None:
        """Grey patch of this frame around the track, reusing the one flow just made if it fits."""
        patch = track.patch
        size = _box_size(track.bbox)
        if patch is not None and patch.frame_index == self._frame_index:
            x0, y0, x1, y1 = patch.region
            # Room for the next frame's motion too, or the face slides off the patch's edge.
            step = float(np.abs(track.predict(track.time + self._frame_dt)[0] - track.bbox).max())
            margin = _REUSE_MARGIN * size + step
            inside = (
                track.bbox[0] - margin >= x0
                and track.bbox[1] - margin >= y0
                and track.bbox[2] + margin <= x1
                and track.bbox[3] + margin <= y1
            )
            if inside and 0.8 <= size / patch.face_size <= 1.25:
                return
        track.patch = self._make_patch(frame_bgr, track.bbox, size)

    def _make_patch(self, frame_bgr: np.ndarray, bbox: np.ndarray, size: float) -> _Patch | None:
        height, width = frame_bgr.shape[:2]
        factor = max(1, math.ceil(size / self.settings.flow_face_size))
        margin = _REGION_MARGIN * size
        x0 = max(0, int(math.floor(bbox[0] - margin)))
        y0 = max(0, int(math.floor(bbox[1] - margin)))
        x1 = min(width, int(math.ceil(bbox[2] + margin)))
        y1 = min(height, int(math.ceil(bbox[3] + margin)))
        x1 -= (x1 - x0) % factor
        y1 -= (y1 - y0) % factor
        if x1 - x0 < 16 or y1 - y0 < 16:
            return None  # (almost) out of the frame
        return self._patch_at(frame_bgr, (x0, y0, x1, y1), factor, size)

    def _patch_at(
        self, frame_bgr: np.ndarray, region: tuple[int, int, int, int], factor: int, face_size: float
    ) -> _Patch:
        """Grey copy of ``region``, shrunk by the integer ``factor``."""
        x0, y0, x1, y1 = region
        roi = frame_bgr[y0:y1, x0:x1]
        gray = cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY) if roi.ndim == 3 else roi
        if factor > 1:
            size = ((x1 - x0) // factor, (y1 - y0) // factor)
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        return _Patch(np.ascontiguousarray(gray), region, factor, face_size, self._frame_index)

    # ----- output -----------------------------------------------------------------------
    def _output(self, track: _Track, shape: tuple[int, ...], timestamp: float) -> Face | None:
        height, width = shape[:2]
        bbox = track.bbox
        if bbox[2] <= 0 or bbox[3] <= 0 or bbox[0] >= width or bbox[1] >= height:
            return None  # carried out of the frame by its velocity
        points = _state(bbox, track.kps)
        if track.smoother is not None:
            points = track.smoother(points, timestamp)
        identity = self._identities.get(track.identity)
        return Face(
            bbox=points[5:].reshape(4).astype(np.float32),
            score=track.score,
            kps=points[:5].astype(np.float32),
            embedding=None if identity is None else identity.mean.copy(),
            extra={"track_id": track.track_id, "identity": track.identity, "detected": track.detected},
        )
