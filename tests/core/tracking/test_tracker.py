"""FaceTracker on real synthetic frames with the colour-key detector and the mean-colour recogniser."""

from __future__ import annotations

import numpy as np
import pytest

from facedeck.core.faces.face import Face
from facedeck.core.tracking.tracker import FaceTracker, TrackerSettings
from tests.support.models.color_key_detector import key_color_box, key_color_kps
from tests.support.tracking_scenes import (
    BLUE,
    FPS,
    RED,
    SIDE,
    Recorder,
    assert_detected_flags,
    compose,
    textured_face,
)


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
