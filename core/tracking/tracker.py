"""Face tracking for video and live frames: detect every N frames, track in between."""

# Detection is the expensive stage, so :class:`FaceTracker` runs the detector only every
# ``detect_every`` frames and moves each face with sparse optical flow on a small grey
# patch around it (DESIGN.md section 5). Keypoints and boxes go through a One-Euro filter
# per track so a pasted face neither jitters when still nor lags when moving; the filter
# state is carried along by the tracked motion, so it smooths only what the motion does
# not explain (detector noise) and adds no lag to the motion itself. Every track carries
# an identity: new tracks are compared with the people seen so far, so a person who leaves
# the frame and comes back keeps the same ``extra["identity"]`` and reference selection /
# source mappings stay consistent. When optical flow loses a face (a cut, an occlusion)
# the tracker detects at once and checks the face is still the same person.
#
# Frames must come in order from one thread; the tracker is not thread-safe.

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError
from ..faces.align import ARCFACE_TEMPLATE_112
from ..faces.face import Face
from ..faces.recognizer import l2_normalize
from .association import associate, box_size
from .flow import Patch, flow_similarity, make_patch, move_box
from .one_euro import FALLBACK_DT, OneEuroFilter

log = logging.getLogger(__name__)

DetectFn = Callable[[np.ndarray], list[Face]]
EmbedFn = Callable[[np.ndarray, list[Face]], object]

_REUSE_MARGIN = 0.4  # the current patch serves the next frame while the box keeps this margin


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
            raise UsageError(
                field="tracker.detect_every",
                message=f"detect_every must be at least 1, got {self.detect_every}",
            )
        if self.max_missed_detections < 1:
            raise UsageError(
                field="tracker.max_missed_detections",
                message=f"max_missed_detections must be at least 1, got {self.max_missed_detections}",
            )
        if self.flow_face_size < 16:
            raise UsageError(
                field="tracker.flow_face_size",
                message=f"flow_face_size must be at least 16, got {self.flow_face_size}",
            )


@dataclass
class _Identity:
    identity_id: int
    total: np.ndarray  # sum of the unit embeddings seen for this person
    mean: np.ndarray  # their normalised mean, what faces of this person carry

    def add(self, embedding: np.ndarray) -> None:
        self.total = self.total + embedding
        self.mean = l2_normalize(self.total)


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
    patch: Patch | None = None
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
        self._frame_dt = FALLBACK_DT

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
            assert det.kps is not None  # filled in above for every detection
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
        # Leaves this frame's patch and the surviving points on the track for the next frame.
        status, moved, track.patch, track.points = flow_similarity(
            track.patch, track.points, track.bbox, frame_bgr, self._frame_index
        )
        smoother = track.smoother
        if moved is not None:
            linear, offset = moved[:, :2], moved[:, 2]
            bbox = move_box(track.bbox, linear, offset)
            kps = track.kps @ linear.T + offset
            if smoother is not None and smoother.value is not None:
                # Carry the filter along: it then smooths only what the motion does not explain.
                value = smoother.value
                smoother.shift(
                    _state(move_box(value[5:].reshape(4), linear, offset), value[:5] @ linear.T + offset)
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

    def _keep_patch(self, track: _Track, frame_bgr: np.ndarray) -> None:
        """Grey patch of this frame around the track, reusing the one flow just made if it fits."""
        patch = track.patch
        size = box_size(track.bbox)
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
        track.patch = make_patch(frame_bgr, track.bbox, size, self.settings.flow_face_size, self._frame_index)

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
