"""FaceTracker on real synthetic frames with the colour-key detector and the mean-colour recogniser.

Faces are key-colour squares with a mild texture inside (kept within the detector's colour
tolerance, so detection stays exact) on a textured background, so optical flow has
something to follow. Ground truth comes from the drawing: key_color_box / key_color_kps.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedeck.core.faces.engine import FaceSwapEngine, ModelLibrary, SwapSettings
from facedeck.core.faces.face import Face
from facedeck.core.runtime.onnx import select_provider
from facedeck.core.tracking.tracker import FaceTracker, OneEuroFilter, TrackerSettings, associate
from tests.support.model_factory import KEY_COLORS, build_model_set, key_color_box, key_color_kps

BLUE, RED = KEY_COLORS[0], KEY_COLORS[2]
HEIGHT, WIDTH = 480, 640  # fits the 640 detector canvas unscaled: detections are exact
SIDE = 100
FPS = 30.0


def smooth_texture(rng: np.random.Generator, height: int, width: int, cell: int) -> np.ndarray:
    """Blob texture in [0, 1]: random values on a coarse grid, upsampled with cubic interpolation."""
    rows, cols = height // cell + 2, width // cell + 2
    big = cv2.resize(rng.random((rows, cols)).astype(np.float32), (cols * cell, rows * cell), cv2.INTER_CUBIC)
    big = big[:height, :width]
    return (big - big.min()) / (big.max() - big.min())


def textured_face(color: tuple[int, int, int], seed: int, side: int = SIDE) -> np.ndarray:
    """A key-colour square whose channels move up to 14 levels inward (the detector allows ~15).

    Only channels that shift the grey value the same way as green are textured, so the
    grey image the tracker sees has as much contrast as the tolerance allows.
    """
    pattern = np.round(smooth_texture(np.random.default_rng(seed), side, side, 6) * 14.0)
    key = np.asarray(color, dtype=np.float32)
    green_up = key[1] == 0
    face = np.empty((side, side, 3), dtype=np.float32)
    for channel in range(3):
        up = key[channel] == 0
        textured = up == green_up
        face[..., channel] = (key[channel] + (pattern if up else -pattern)) if textured else key[channel]
    return face.astype(np.uint8)


# Grey-ish texture in 60..200: never within the tolerance of a key colour (0 or 255 per channel).
BACKGROUND = np.stack(
    [60 + 140 * smooth_texture(np.random.default_rng(100 + c), HEIGHT, WIDTH, 12) for c in range(3)], axis=2
).astype(np.uint8)


def compose(faces: list[tuple[np.ndarray, int, int]]) -> np.ndarray:
    """The background with each (face image, x0, y0) pasted on, later ones on top."""
    frame = BACKGROUND.copy()
    for image, x0, y0 in faces:
        side = image.shape[0]
        frame[y0 : y0 + side, x0 : x0 + side] = image
    return frame


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> FaceSwapEngine:
    models = build_model_set(tmp_path_factory.mktemp("models"), swapper_mode="identity")
    return FaceSwapEngine(ModelLibrary(models.directory, select_provider("cpu")), SwapSettings())


class Recorder:
    """detect/embed wrappers that count calls (and optionally perturb detections)."""

    def __init__(self, engine: FaceSwapEngine, perturb: Callable[[Face], None] | None = None) -> None:
        self.engine = engine
        self.perturb = perturb
        self.detect_frames: list[int] = []
        self.embed_calls: list[int] = []  # faces per call
        self.frame = -1
        self.raw_kps: list[np.ndarray] = []

    def detect(self, frame: np.ndarray) -> list[Face]:
        self.detect_frames.append(self.frame)
        faces = self.engine.detect(frame)
        for face in faces:
            if self.perturb is not None:
                self.perturb(face)
            self.raw_kps.append(face.kps.copy())
        return faces

    def embed(self, frame: np.ndarray, faces: list[Face]) -> None:
        self.embed_calls.append(len(faces))
        self.engine.models.recognizer.embed(frame, faces)

    def tracker(self, **settings: object) -> FaceTracker:
        return FaceTracker(self.detect, self.embed, TrackerSettings(**settings))

    def run(self, tracker: FaceTracker, frames: list[np.ndarray]) -> list[list[Face]]:
        results = []
        for index, frame in enumerate(frames):
            self.frame = index
            results.append(tracker.update(frame, index / FPS))
        return results


def assert_detected_flags(results: list[list[Face]], recorder: Recorder) -> None:
    detected_frames = set(recorder.detect_frames)
    for index, faces in enumerate(results):
        for face in faces:
            assert face.extra["detected"] is (index in detected_frames), index


@pytest.mark.parametrize("smoothing", [False, True])
def test_constant_velocity_face_is_tracked_between_detections(engine, smoothing):
    blue = textured_face(BLUE, seed=1)
    positions = [(40 + 12 * i, 60 + 5 * i) for i in range(30)]
    recorder = Recorder(engine)
    tracker = recorder.tracker(detect_every=3, smoothing=smoothing)
    results = recorder.run(tracker, [compose([(blue, x, y)]) for x, y in positions])

    assert recorder.detect_frames == list(range(0, 30, 3))
    assert recorder.embed_calls == [1]  # one new track, embedded once, not per frame
    assert_detected_flags(results, recorder)
    errors = []
    for index, ((x, y), faces) in enumerate(zip(positions, results, strict=True)):
        assert len(faces) == 1, index
        face = faces[0]
        assert face.extra["track_id"] == results[0][0].extra["track_id"]
        assert face.extra["identity"] == results[0][0].extra["identity"]
        errors.append(np.abs(face.bbox - key_color_box(x, y, SIDE)).max())
        errors.append(np.abs(face.kps - key_color_kps(x, y, SIDE)).max())
    # Holding the last detection would be 12-24 px off on tracked frames.
    assert max(errors) < 1.0, max(errors)


def test_tracking_follows_the_image_not_an_extrapolation(engine):
    # Changing speed and direction: constant velocity from the last two positions misses
    # by several px here, only following the texture gets it right.
    blue = textured_face(BLUE, seed=2)
    positions = [(int(260 + 100 * np.sin(i / 5.0)), int(150 + 80 * np.cos(i / 4.0))) for i in range(24)]
    recorder = Recorder(engine)
    tracker = recorder.tracker(detect_every=6)
    results = recorder.run(tracker, [compose([(blue, x, y)]) for x, y in positions])

    assert recorder.detect_frames == list(range(0, 24, 6))
    extrapolation_miss = []
    for index, ((x, y), faces) in enumerate(zip(positions, results, strict=True)):
        assert len(faces) == 1
        assert np.abs(faces[0].kps - key_color_kps(x, y, SIDE)).max() < 1.0, index
        if index >= 2:
            (x1, y1), (x2, y2) = positions[index - 2], positions[index - 1]
            extrapolation_miss.append(np.hypot(2 * x2 - x1 - x, 2 * y2 - y1 - y))
    assert max(extrapolation_miss) > 5.0  # the path really is not linear


def test_a_plain_face_falls_back_to_constant_velocity_without_lag(engine):
    # A flat square gives optical flow nothing to hold on to: that is no reason to
    # re-detect (it is not lost), the track moves by its velocity and the smoother with it.
    plain = np.full((SIDE, SIDE, 3), BLUE, dtype=np.uint8)
    positions = [(40 + 8 * i, 100 + 3 * i) for i in range(27)]
    recorder = Recorder(engine)
    results = recorder.run(recorder.tracker(detect_every=3), [compose([(plain, x, y)]) for x, y in positions])

    assert recorder.detect_frames == list(range(0, 27, 3))
    for index in range(6, 27):  # once two positions give a velocity and the smoother settles
        x, y = positions[index]
        assert np.abs(results[index][0].kps - key_color_kps(x, y, SIDE)).max() < 1.0, index


def test_rotation_and_zoom_move_the_keypoints(engine):
    # Tracking is a similarity, not just a shift: turn 1.5 degrees and grow 1 % per frame,
    # with no detection after the first frame.
    x0, y0 = 270, 190
    layer = np.zeros_like(BACKGROUND)
    layer[y0 : y0 + SIDE, x0 : x0 + SIDE] = textured_face(BLUE, seed=20)
    mask = np.zeros(BACKGROUND.shape[:2], np.float32)
    mask[y0 : y0 + SIDE, x0 : x0 + SIDE] = 1.0
    center = (x0 + SIDE / 2 - 0.5, y0 + SIDE / 2 - 0.5)
    frames, matrices = [], []
    for i in range(16):
        matrix = cv2.getRotationMatrix2D(center, 1.5 * i, 1.01**i)
        matrix[:, 2] += (3 * i, 2 * i)
        face = cv2.warpAffine(layer, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
        alpha = cv2.warpAffine(mask, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)[..., None]
        frames.append((BACKGROUND * (1 - alpha) + face * alpha).round().astype(np.uint8))
        matrices.append(matrix)
    recorder = Recorder(engine)
    results = recorder.run(recorder.tracker(detect_every=100, smoothing=False), frames)

    assert recorder.detect_frames == [0]
    start = key_color_kps(x0, y0, SIDE).astype(np.float64)
    for faces, matrix in zip(results, matrices, strict=True):
        truth = start @ matrix[:, :2].T + matrix[:, 2]
        assert np.abs(faces[0].kps - truth).max() < 1.0  # 22 degrees and x1.16 by the end
        size = SIDE * np.sqrt(abs(np.linalg.det(matrix[:, :2])))
        assert faces[0].bbox[2] - faces[0].bbox[0] == pytest.approx(size, abs=1.0)


@pytest.mark.parametrize(("detect_every", "ratio"), [(1, 0.45), (3, 0.65)])
def test_smoothing_removes_detector_jitter_on_a_still_face(engine, detect_every, ratio):
    blue = textured_face(BLUE, seed=3)
    frames = [compose([(blue, 270, 190)])] * 60
    truth = key_color_kps(270, 190, SIDE)

    def run(smoothing: bool) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(7)  # the same noise for both runs

        def perturb(face: Face) -> None:
            face.kps = face.kps + rng.uniform(-2.0, 2.0, size=face.kps.shape).astype(np.float32)

        recorder = Recorder(engine, perturb)
        results = recorder.run(recorder.tracker(detect_every=detect_every, smoothing=smoothing), frames)
        assert all(len(faces) == 1 for faces in results)
        tracked = np.stack([faces[0].kps for faces in results])
        return tracked, np.stack(recorder.raw_kps)

    raw_out, raw_detections = run(smoothing=False)
    smoothed, _ = run(smoothing=True)
    raw_std = raw_out[10:].std(axis=0).mean()
    smooth_std = smoothed[10:].std(axis=0).mean()
    # Unsmoothed output is the raw detections (flow holds a still face where it was detected).
    assert raw_std == pytest.approx(raw_detections[2:].std(axis=0).mean(), rel=0.1)
    assert raw_std > 1.0
    # Measured with the default filter (1 Hz, beta 0.05): 0.36 and 0.57 of the raw std.
    assert smooth_std < ratio * raw_std, (raw_std, smooth_std)
    # No bias: on average the smoothed points sit where the raw ones do, near the truth.
    assert np.abs(smoothed[10:].mean(axis=0) - raw_out[10:].mean(axis=0)).max() < 0.3
    assert np.abs(smoothed[10:].mean(axis=0) - truth).max() < 1.0


def test_a_face_that_leaves_and_comes_back_keeps_its_identity(engine):
    blue, red = textured_face(BLUE, seed=4), textured_face(RED, seed=5)
    frames = (
        [compose([(blue, 100 + 3 * i, 120)]) for i in range(10)]
        + [compose([])] * 10
        + [compose([(blue, 380, 200)])] * 5
        + [compose([(blue, 380, 200), (red, 80, 300)])] * 8
    )
    recorder = Recorder(engine)
    results = recorder.run(recorder.tracker(detect_every=3), frames)

    assert all(len(faces) == 1 for faces in results[:10])
    assert all(faces == [] for faces in results[10:20])  # gone at once, not a frame later
    # Red enters on frame 25, a tracking frame: the next detection (26) finds it.
    assert all(len(faces) == 1 for faces in results[20:26])
    assert all(len(faces) == 2 for faces in results[26:])
    first, back = results[0][0], results[20][0]
    assert back.extra["identity"] == first.extra["identity"]
    assert back.extra["track_id"] != first.extra["track_id"]
    red_face = min(results[26], key=lambda face: face.bbox[0])
    assert red_face.extra["identity"] != first.extra["identity"]
    assert red_face.extra["track_id"] not in (first.extra["track_id"], back.extra["track_id"])
    # The same person carries the same embedding on both tracks: reference selection agrees.
    np.testing.assert_allclose(back.embedding, first.embedding, atol=1e-3)
    assert float(np.dot(red_face.embedding, first.embedding)) < 0.4
    assert sum(recorder.embed_calls) == 3  # one embedding per track
    assert_detected_flags(results, recorder)


def test_two_faces_crossing_paths_keep_their_identities(engine):
    # Diagonal paths that cross: the faces swap sides both left-right and top-bottom (so
    # the detector reports them in the other order), and red hides part of blue as they pass.
    blue, red = textured_face(BLUE, seed=6), textured_face(RED, seed=7)
    blue_path = [(150 + 5 * i, 40 + 10 * i) for i in range(30)]
    red_path = [(360 - 5 * i, 340 - 10 * i) for i in range(30)]
    frames = [compose([(blue, *b), (red, *r)]) for b, r in zip(blue_path, red_path, strict=True)]
    recorder = Recorder(engine)
    results = recorder.run(recorder.tracker(detect_every=3), frames)

    ids: dict[str, set[tuple[int, int]]] = {"blue": set(), "red": set()}
    for index, faces in enumerate(results):
        assert len(faces) == 2, index
        for name, (x, y) in (("blue", blue_path[index]), ("red", red_path[index])):
            center = np.array([x + SIDE / 2, y + SIDE / 2])
            face = min(faces, key=lambda f: np.linalg.norm(np.asarray(f.center) - center))
            ids[name].add((face.extra["track_id"], face.extra["identity"]))
    assert len(ids["blue"]) == 1 and len(ids["red"]) == 1, ids
    assert ids["blue"] != ids["red"]
    assert_detected_flags(results, recorder)


def test_frames_without_faces_give_nothing_and_a_new_face_is_found_at_once(engine):
    recorder = Recorder(engine)
    tracker = recorder.tracker(detect_every=5)
    blue = textured_face(BLUE, seed=8)
    frames = [compose([])] * 7 + [compose([(blue, 200, 100)])] * 3
    results = recorder.run(tracker, frames)

    assert results[:7] == [[]] * 7
    assert recorder.embed_calls == [1]
    # Nothing to track means nothing to save: the detector looks at every empty frame,
    # so a face is picked up on the frame it appears, not up to detect_every later.
    assert len(results[7]) == 1 and results[7][0].extra["detected"] is True
    assert recorder.detect_frames == list(range(8))


def test_a_cut_to_someone_else_at_the_same_spot_is_a_new_person(engine):
    blue, red = textured_face(BLUE, seed=9), textured_face(RED, seed=10)
    blue_again = textured_face(BLUE, seed=11)  # same person, another shot: new texture
    frames = (
        [compose([(blue, 250, 180)])] * 4  # detections on 0 and 3
        + [compose([(red, 250, 180)])] * 4  # cut on frame 4, a tracking frame
        + [compose([(blue_again, 250, 180)])] * 4  # cut back on frame 8
    )
    recorder = Recorder(engine)
    results = recorder.run(recorder.tracker(detect_every=3), frames)

    assert all(len(faces) == 1 for faces in results)
    faces = [faces[0] for faces in results]
    assert 4 in recorder.detect_frames and 8 in recorder.detect_frames  # flow lost: detect at once
    assert faces[4].extra["detected"] is True
    assert faces[4].extra["identity"] != faces[3].extra["identity"]
    assert faces[4].extra["track_id"] != faces[3].extra["track_id"]
    assert faces[7].extra["track_id"] == faces[4].extra["track_id"]
    # Back to blue: the person seen before, known again by the embedding.
    assert faces[8].extra["identity"] == faces[0].extra["identity"]


def test_same_person_after_a_cut_keeps_the_track(engine):
    blue, blue_again = textured_face(BLUE, seed=12), textured_face(BLUE, seed=13)
    frames = [compose([(blue, 250, 180)])] * 4 + [compose([(blue_again, 252, 181)])] * 3
    recorder = Recorder(engine)
    results = recorder.run(recorder.tracker(detect_every=3), frames)

    assert 4 in recorder.detect_frames
    assert {faces[0].extra["track_id"] for faces in results} == {results[0][0].extra["track_id"]}
    assert recorder.embed_calls == [1, 1]  # the new face, then one check after the cut


def test_embedding_refresh_re_embeds_every_k_detections(engine):
    blue = textured_face(BLUE, seed=16)
    recorder = Recorder(engine)
    tracker = recorder.tracker(detect_every=3, embedding_refresh=2)
    results = recorder.run(tracker, [compose([(blue, 200, 150)])] * 13)  # detections 0, 3, 6, 9, 12

    assert recorder.embed_calls == [1, 1, 1]  # new on 0, refreshed on 6 and 12
    assert len({faces[0].extra["track_id"] for faces in results}) == 1


def test_without_embed_every_track_is_its_own_identity(engine):
    blue = textured_face(BLUE, seed=14)
    frames = [compose([(blue, 100, 100)])] * 3 + [compose([])] * 6 + [compose([(blue, 100, 100)])] * 3
    tracker = FaceTracker(engine.detect, None, TrackerSettings(detect_every=3))
    results = [tracker.update(frame, index / FPS) for index, frame in enumerate(frames)]

    first, back = results[0][0], results[-1][0]
    assert first.embedding is None
    assert back.extra["track_id"] != first.extra["track_id"]
    assert back.extra["identity"] != first.extra["identity"]


def test_reset_forgets_tracks_and_identities(engine):
    blue = textured_face(BLUE, seed=15)
    recorder = Recorder(engine)
    tracker = recorder.tracker(detect_every=3)
    frame = compose([(blue, 100, 100)])
    first = tracker.update(frame, 0.0)[0]
    tracker.update(frame, 1 / FPS)
    tracker.reset()
    again = tracker.update(frame, 0.0)[0]
    assert again.extra["detected"] is True
    assert (again.extra["track_id"], again.extra["identity"]) == (
        first.extra["track_id"],
        first.extra["identity"],
    )
    assert recorder.embed_calls == [1, 1]


def test_association_falls_back_to_centre_distance_for_fast_motion():
    tracks = np.array([[0, 0, 100, 100], [300, 0, 400, 100]], dtype=np.float64)
    moved = np.array([[310, 10, 410, 110], [90, 20, 190, 120]], dtype=np.float64)  # no overlap for track 0
    assert sorted(associate(tracks, moved, iou_min=0.3, center_max=1.0)) == [(0, 1), (1, 0)]
    far = np.array([[250, 250, 350, 350]], dtype=np.float64)
    assert associate(tracks[:1], far, iou_min=0.3, center_max=1.0) == []


def test_one_euro_filter_is_still_when_still_and_quick_when_moving():
    rng = np.random.default_rng(0)
    still = OneEuroFilter(min_cutoff=1.0, beta=0.05)
    noisy = [still(np.array([[50.0, 50.0]]) + rng.uniform(-2, 2, (1, 2)), i / FPS) for i in range(90)]
    assert np.std(np.concatenate(noisy[30:])) < 0.7  # raw std is ~1.15, filtered ~0.59
    moving = OneEuroFilter(min_cutoff=1.0, beta=0.05)
    outputs = [moving(np.array([[20.0 * i, 0.0]]), i / FPS) for i in range(60)]
    assert 20.0 * 59 - outputs[-1][0, 0] < 5.0  # 600 px/s: lag well under a frame's motion
