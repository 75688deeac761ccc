"""A swap session end to end on stand-in models: paste-back quality, latents, selection, masks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedeck.core.errors import ModelMissingError, NoFaceError
from facedeck.core.faces.align import arcface_template, invert_affine
from facedeck.core.faces.identities import Photo, face_embedding, identity_from_photos
from facedeck.core.faces.recognizer import l2_normalize
from facedeck.core.faces.selection import Mapping, SelectionMode, SourceIdentity
from facedeck.core.faces.session import SwapOptions, SwapSession
from facedeck.core.models.library import ModelLibrary
from facedeck.core.runtime.providers import select_provider
from tests.support.models.color_key_detector import key_color_kps
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import build_model_set

CPU = select_provider("cpu")
BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
GRAY = 128
PSNR_ROUNDING_DB = 0.01


def person(library: ModelLibrary, options: SwapOptions, *photos) -> SourceIdentity:
    """One identity from (name, image) photos, their largest faces averaged."""
    return identity_from_photos(library, [(Photo(name, image), 0) for name, image in photos], options)


def largest_face_embedding(library: ModelLibrary, options: SwapOptions, image, name: str):
    return face_embedding(library, Photo(name, image), options)


def session_for(models, *colors, **options) -> SwapSession:
    """A session putting the person in ``colors`` photos (averaged) onto targets."""
    library = ModelLibrary(models.directory, CPU)
    chosen = SwapOptions(**options)
    photos = [(f"photo{index}.png", photo_of(color)) for index, color in enumerate(colors)]
    return SwapSession(library, chosen, [person(library, chosen, *photos)])


def photo_of(color, side=200, size=(320, 320)):
    """A source photo: one key-colour face on grey."""
    frame = np.full((size[1], size[0], 3), GRAY, np.uint8)
    draw_square_face(frame, color, (size[0] - side) // 2, (size[1] - side) // 2, side)
    return frame


def expected_bgr(models, *colors) -> np.ndarray:
    """The colour the latent_color swapper paints for a source made of ``colors`` photos."""
    embeddings = [l2_normalize(models.recognizer.embedding_for_color(c)) for c in colors]
    identity = l2_normalize(np.mean(embeddings, axis=0))
    rgb = models.swapper.latent_color(models.swapper.latent_for_embedding(identity))
    return np.round(rgb[::-1] * 255.0)


def texture(height, width, seed=0):
    """Smooth random texture: something with detail for the paste-back to preserve."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (height // 8 + 1, width // 8 + 1, 3)).astype(np.float32)
    smooth = cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(smooth, 0, 255).astype(np.uint8)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.mark.parametrize(("frame_size", "side"), [((640, 480), 48), ((1920, 1080), 520)])
def test_identity_swap_pastes_back_at_least_as_well_as_plain_warp(tmp_path, frame_size, side, capsys):
    width, height = frame_size
    x0, y0 = width // 3, height // 5
    kps = key_color_kps(x0, y0, side)
    box = np.array([x0, y0, x0 + side, y0 + side], np.float32)
    models = build_model_set(
        tmp_path, detector_faces=[(box, kps, 0.9)], det_size=(width, height), swapper_mode="identity"
    )
    # the constant detector answers for a canvas of exactly the frame's size
    library = ModelLibrary(models.directory, CPU)
    source = SourceIdentity("src", l2_normalize(np.ones(512, np.float32)))
    session = SwapSession(library, SwapOptions(detector_size=(width, height)), [source])
    frame = texture(height, width, seed=side)
    output = session.process(frame.copy()).frame

    # Baseline computed here: bilinear warp into the 128 crop and straight back.
    matrix = cv2.estimateAffinePartial2D(kps, arcface_template(128))[0]
    crop = cv2.warpAffine(frame, matrix, (128, 128), flags=cv2.INTER_LINEAR)
    back = cv2.warpAffine(crop, invert_affine(matrix), (width, height), flags=cv2.INTER_LINEAR)
    inner = (slice(y0 + side // 4, y0 + 3 * side // 4), slice(x0 + side // 4, x0 + 3 * side // 4))
    ours, plain = psnr(output[inner], frame[inner]), psnr(back[inner], frame[inner])
    with capsys.disabled():
        print(
            f"\n  face {side}px in {width}x{height}: ROI paste PSNR {ours:.2f} dB, plain warp {plain:.2f} dB"
        )
    # Protects: the ROI paste is no worse than warping the crop back over the whole frame.
    # 0.01 dB absorbs warpAffine's fixed-point rounding, which differs between OpenCV
    # releases (5.1 moved this figure by 3e-5 dB); a wrong matrix, mask or interpolation
    # in the paste costs whole decibels.
    assert ours >= plain - PSNR_ROUNDING_DB

    # Outside the crop's footprint in the frame, every pixel is bit-identical.
    corners = np.array([[0, 0], [128, 0], [0, 128], [128, 128]], np.float64)
    inverse = invert_affine(matrix)
    mapped = corners @ inverse[:, :2].T + inverse[:, 2]
    outside = np.ones((height, width), bool)
    left, top = np.floor(mapped.min(axis=0)).astype(int) - 1
    right, bottom = np.ceil(mapped.max(axis=0)).astype(int) + 1
    outside[max(top, 0) : bottom, max(left, 0) : right] = False
    assert np.array_equal(output[outside], frame[outside])
    assert (output != frame).any(axis=2).sum() > 0 or ours == float("inf")


@pytest.fixture
def color_models(tmp_path):
    return build_model_set(tmp_path / "models", swapper_mode="latent_color")


def three_faces():
    """Red (largest), green and blue faces on grey, far apart."""
    frame = np.full((480, 720, 3), GRAY, np.uint8)
    draw_square_face(frame, RED, 20, 40, 200)
    draw_square_face(frame, GREEN, 300, 60, 150)
    draw_square_face(frame, BLUE, 520, 200, 120)
    return frame


CENTERS = {"red": (140, 120), "green": (135, 375), "blue": (260, 580)}  # (row, col) of each face's centre


def colour_at(frame, name):
    row, col = CENTERS[name]
    return frame[row, col].astype(float)


def test_source_latent_is_normalised_embedding_times_emap_normalised(color_models):
    session = session_for(color_models, YELLOW)
    out = session.process(three_faces()).frame
    want = expected_bgr(color_models, YELLOW)
    np.testing.assert_allclose(colour_at(out, "red"), want, atol=2)
    # FaceFusion's variant (no second normalisation) paints a visibly different colour.
    raw = color_models.swapper.latent_for_embedding(
        l2_normalize(color_models.recognizer.embedding_for_color(YELLOW)), normalise_output=False
    )
    other = np.round(color_models.swapper.latent_color(raw)[::-1] * 255)
    assert np.abs(other - want).max() > 10


def test_one_mode_swaps_only_the_largest_face(color_models):
    session = session_for(color_models, YELLOW, selection=SelectionMode.ONE)
    frame = three_faces()
    result = session.process(frame.copy())
    assert (result.faces_found, result.faces_swapped) == (3, 1)
    np.testing.assert_allclose(colour_at(result.frame, "red"), expected_bgr(color_models, YELLOW), atol=2)
    assert np.array_equal(colour_at(result.frame, "green"), colour_at(frame, "green"))
    assert np.array_equal(colour_at(result.frame, "blue"), colour_at(frame, "blue"))


def test_many_mode_swaps_every_face(color_models):
    session = session_for(color_models, YELLOW, selection=SelectionMode.MANY)
    result = session.process(three_faces())
    assert result.faces_swapped == 3
    for name in CENTERS:
        np.testing.assert_allclose(colour_at(result.frame, name), expected_bgr(color_models, YELLOW), atol=2)


def test_reference_mode_swaps_only_the_referenced_person(color_models):
    library = ModelLibrary(color_models.directory, CPU)
    options = SwapOptions(selection=SelectionMode.REFERENCE)
    source = person(library, options, ("s", photo_of(YELLOW)))
    reference = largest_face_embedding(library, options, photo_of(GREEN, side=90), "ref")
    session = SwapSession(library, options, [source], reference=reference)
    frame = three_faces()
    result = session.process(frame.copy())
    assert result.faces_swapped == 1
    np.testing.assert_allclose(colour_at(result.frame, "green"), expected_bgr(color_models, YELLOW), atol=2)
    assert np.array_equal(colour_at(result.frame, "red"), colour_at(frame, "red"))
    assert np.array_equal(colour_at(result.frame, "blue"), colour_at(frame, "blue"))


def test_mappings_put_each_source_on_its_own_target(color_models):
    library = ModelLibrary(color_models.directory, CPU)
    options = SwapOptions()
    mappings = [
        Mapping(
            person(library, options, ("a", photo_of(YELLOW))),
            largest_face_embedding(library, options, photo_of(RED), "x"),
        ),
        Mapping(
            person(library, options, ("b", photo_of(CYAN))),
            largest_face_embedding(library, options, photo_of(BLUE), "y"),
        ),
    ]
    session = SwapSession(library, options, mappings=mappings)
    frame = three_faces()
    result = session.process(frame.copy())
    assert result.faces_swapped == 2
    np.testing.assert_allclose(colour_at(result.frame, "red"), expected_bgr(color_models, YELLOW), atol=2)
    np.testing.assert_allclose(colour_at(result.frame, "blue"), expected_bgr(color_models, CYAN), atol=2)
    assert np.array_equal(colour_at(result.frame, "green"), colour_at(frame, "green"))


def test_several_photos_of_one_person_average_into_one_identity(color_models):
    session = session_for(color_models, YELLOW, MAGENTA)
    out = session.process(three_faces()).frame
    averaged = expected_bgr(color_models, YELLOW, MAGENTA)
    np.testing.assert_allclose(colour_at(out, "red"), averaged, atol=2)
    assert np.abs(averaged - expected_bgr(color_models, YELLOW)).max() > 10


def test_mouth_mask_keeps_the_target_mouth(color_models):
    frame = three_faces()
    # mouth of the 2d106 stand-in: centred 0.3375 * side below the box centre
    mouth = (140 + int(0.3375 * 200), 120)
    plain = session_for(color_models, YELLOW)
    masked = session_for(color_models, YELLOW, mouth_mask=True)
    without = plain.process(frame.copy()).frame
    with_mask = masked.process(frame.copy()).frame
    assert not np.array_equal(without[mouth], frame[mouth])
    assert np.array_equal(with_mask[mouth], frame[mouth])
    np.testing.assert_allclose(colour_at(with_mask, "red"), expected_bgr(color_models, YELLOW), atol=2)


@pytest.mark.parametrize("strength", [0, 50, 100])
def test_enhancement_blends_by_strength(tmp_path, strength):
    white = (1.0, 1.0, 1.0)
    models = build_model_set(
        tmp_path, swapper_mode="identity", restorer_mode="constant", restorer_value=white
    )
    session = session_for(models, YELLOW, enhance=True, enhance_strength=strength)
    frame = three_faces()
    out = session.process(frame.copy()).frame
    before = colour_at(frame, "red")
    want = before + (255.0 - before) * strength / 100.0
    np.testing.assert_allclose(colour_at(out, "red"), want, atol=3)


def test_fp16_swapper_file_loads_and_swaps(tmp_path):
    models = build_model_set(tmp_path, swapper_mode="latent_color", fp16=True)
    assert models.swapper.path.name == "inswapper_128_fp16.onnx"
    session = session_for(models, YELLOW)
    out = session.process(three_faces()).frame
    np.testing.assert_allclose(colour_at(out, "red"), expected_bgr(models, YELLOW), atol=3)


def test_detector_without_keypoints_still_swaps(tmp_path):
    models = build_model_set(tmp_path, swapper_mode="latent_color", detector_form=6)
    session = session_for(models, YELLOW)
    result = session.process(three_faces())
    assert result.faces_swapped == 1
    np.testing.assert_allclose(colour_at(result.frame, "red"), expected_bgr(models, YELLOW), atol=2)


def test_source_without_face_names_the_photo(color_models):
    library = ModelLibrary(color_models.directory, CPU)
    with pytest.raises(NoFaceError, match="empty.png"):
        person(library, SwapOptions(), ("empty.png", np.full((200, 200, 3), GRAY, np.uint8)))


def test_missing_models_are_listed_together(tmp_path):
    models = build_model_set(tmp_path, with_restorer=False, with_landmarks=False)
    models.swapper.path.unlink()
    library = ModelLibrary(models.directory, CPU)
    settings = SwapOptions(enhance=True)
    with pytest.raises(ModelMissingError) as caught:
        library.require(settings.required_roles())
    message = str(caught.value)
    assert "inswapper_128.onnx" in message and "GFPGANv1.4.onnx" in message
    assert str(models.directory) in message
    assert "det_10g.onnx" not in message
