"""FrameStream and the shared library: per-frame failures are results, sessions switch,
threads share one library."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from facedeck.core.faces.identities import Photo, faces_in_photo, identity_from_photos
from facedeck.core.faces.recognizer import l2_normalize
from facedeck.core.faces.session import SwapOptions, SwapSession
from facedeck.core.jobs.stream import FrameStream
from facedeck.core.models.files import Role
from facedeck.core.models.library import ModelLibrary
from facedeck.core.runtime.providers import select_provider
from facedeck.core.tracking.tracker import TrackerSettings
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import build_model_set

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return build_model_set(
        tmp_path_factory.mktemp("models"), swapper_mode="latent_color", with_restorer=False
    )


@pytest.fixture
def library(models):
    return ModelLibrary(models.directory, select_provider("cpu"))


def photo_of(color, side=120):
    image = np.full((200, 200, 3), 128, np.uint8)
    draw_square_face(image, color, 40, 40, side)
    return Photo(f"{color}.png", image)


def session_of(library, color, **options) -> SwapSession:
    chosen = SwapOptions(**options)
    return SwapSession(library, chosen, [identity_from_photos(library, [(photo_of(color), 0)], chosen)])


def painted(models, color) -> np.ndarray:
    identity = l2_normalize(models.recognizer.embedding_for_color(color))
    rgb = models.swapper.latent_color(models.swapper.latent_for_embedding(identity))
    return np.round(rgb[::-1] * 255.0)


def frame_with_red(x: int = 40) -> np.ndarray:
    frame = np.full((240, 320, 3), 128, np.uint8)
    draw_square_face(frame, RED, x, 60, 90)
    return frame


def centre(frame, x=40):
    return frame[60 + 45, x + 45].astype(float)


def test_a_frame_that_raises_is_a_result_and_the_stream_goes_on(models, library):
    stream = FrameStream(session_of(library, YELLOW), TrackerSettings(detect_every=1))
    good = stream.push(frame_with_red(), 0.0)
    assert good.error is None and good.faces_swapped == 1
    bad_frame = np.zeros((240, 320), np.float64)  # a grey float frame: the detector cannot take it
    bad = stream.push(bad_frame, 0.04)
    assert bad.error is not None and bad.frame is bad_frame and bad.faces_swapped == 0
    assert stream.errors == 1
    after = stream.push(frame_with_red(44), 0.08)
    assert after.error is None and after.faces_swapped == 1
    np.testing.assert_allclose(centre(after.frame, 44), painted(models, YELLOW), atol=3)


def test_push_never_modifies_the_input_frame(library):
    stream = FrameStream(session_of(library, YELLOW))
    frame = frame_with_red()
    before = frame.copy()
    result = stream.push(frame, 0.0)
    assert result.faces_swapped == 1 and np.array_equal(frame, before)


def test_use_switches_the_source_on_the_next_frame(models, library):
    stream = FrameStream(session_of(library, YELLOW), TrackerSettings(detect_every=3))
    first = stream.push(frame_with_red(), 0.0)
    np.testing.assert_allclose(centre(first.frame), painted(models, YELLOW), atol=3)
    stream.use(session_of(library, CYAN))
    second = stream.push(frame_with_red(), 0.04)  # a tracked frame: no new detection needed
    np.testing.assert_allclose(centre(second.frame), painted(models, CYAN), atol=3)
    stream.reset()
    third = stream.push(frame_with_red(), 0.08)
    np.testing.assert_allclose(centre(third.frame), painted(models, CYAN), atol=3)


def test_two_threads_with_different_sessions_share_one_library(library):
    frames = [frame_with_red(20 + 3 * index) for index in range(12)]
    # different detector canvases too: per-thread buffers must not mix
    sessions = {"yellow": session_of(library, YELLOW), "cyan": session_of(library, CYAN, detector_size=320)}
    alone = {name: [s.process(f.copy()).frame for f in frames] for name, s in sessions.items()}
    together: dict[str, list[np.ndarray]] = {}
    start = threading.Barrier(2)

    def work(name: str) -> None:
        start.wait()
        together[name] = [sessions[name].process(frame.copy()).frame for frame in frames for _ in range(3)][
            ::3
        ]

    threads = [threading.Thread(target=work, args=(name,)) for name in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in sessions:
        for ours, theirs in zip(together[name], alone[name], strict=True):
            assert np.array_equal(ours, theirs)


def test_changing_an_option_reuses_the_identity(library):
    session = session_of(library, YELLOW)
    misses = library.identities.misses
    cheaper = session.with_options(SwapOptions(mask_blur=0.3))
    assert cheaper.options.mask_blur == 0.3 and cheaper.sources == session.sources
    rebuilt = session_of(library, YELLOW)  # the same photo again: from the cache, no new embedding
    assert library.identities.misses == misses and library.identities.hits >= 1
    assert np.array_equal(rebuilt.sources[0].embedding, session.sources[0].embedding)


def test_preload_loads_every_role_up_front_and_close_drops_them(library):
    library.preload([Role.DETECTOR, Role.RECOGNIZER, Role.SWAPPER, Role.LANDMARKS])
    assert library.loaded() == ["2d106det.onnx", "det_10g.onnx", "inswapper_128.onnx", "w600k_r50.onnx"]
    library.close()
    assert library.loaded() == []


def test_faces_in_a_photo_for_a_face_picker(library):
    image = np.full((300, 400, 3), 128, np.uint8)
    draw_square_face(image, GREEN, 20, 40, 80)
    draw_square_face(image, BLUE, 200, 60, 150)
    faces = faces_in_photo(library, Photo("two.png", image), SwapOptions())
    assert [face.index for face in faces] == [0, 1]
    assert faces[0].bbox[0] > 150  # the larger (blue) face comes first
    assert faces[0].crop.shape == (160, 160, 3)
    middle = faces[0].crop[80, 80].astype(int)
    assert np.abs(middle - np.array(BLUE)).max() < 10  # the crop is centred on that face
