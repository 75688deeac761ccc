"""The window's tests: offscreen Qt, stand-in models, real files and real threads.

``make_window`` builds the real main window on a models folder and, after the test,
closes it and checks that none of the threads it started is still running (a leaked
QThread aborts the process later, far from its cause).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is first imported

import gc  # noqa: E402 - after the platform is chosen
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tests.support.media_fixtures import make_clip  # noqa: E402
from tests.support.models.drawing import KEY_COLORS, draw_square_face  # noqa: E402
from tests.support.models.model_set import build_model_set  # noqa: E402

pytest.importorskip("PySide6")

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
TARGET_FACES = [(RED, 40, 60, 160), (GREEN, 300, 100, 120)]  # face 1 (largest), face 2


def write_face_image(path: Path, faces, size=(480, 360)) -> str:
    frame = np.full((size[1], size[0], 3), 128, np.uint8)
    for color, x0, y0, side in faces:
        draw_square_face(frame, color, x0, y0, side)
    assert cv2.imwrite(str(path), frame)
    return str(path)


def moving_face(index: int, image: np.ndarray) -> None:
    image[...] = 128
    draw_square_face(image, RED, 10 + 2 * index, 30, 60)


@pytest.fixture(scope="session")
def gui_workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("gui")
    models = build_model_set(root / "models", swapper_mode="latent_color", with_restorer=False)
    return {
        "root": root,
        "models": models.directory,
        "source": write_face_image(root / "source.png", [(YELLOW, 140, 80, 200)]),
        "source2": write_face_image(root / "source2.png", [(MAGENTA, 100, 60, 180)]),
        "blank": write_face_image(root / "blank.png", []),
        "target": write_face_image(root / "target.png", TARGET_FACES),
        "clip": str(make_clip(root / "clip.mp4", frames=30, size=(320, 240), fps=30, draw=moving_face)),
        "long_clip": str(
            make_clip(root / "long.mp4", frames=240, size=(320, 240), fps=30, audio=False, draw=moving_face)
        ),
    }


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item):
    """After every teardown (pytest-qt's closing of the widgets included), collect the
    garbage here, on the GUI thread.

    Otherwise a test's windows and widgets go at some later collection, which may run on any
    thread, a worker's of the next test included, and destroying their pixmaps or QObjects
    there crashes the process (seen: a segfault in a models-dialog worker, "Garbage-collecting").
    (Running the deferred deletes here as well made PySide6 abort at exit: not done.)
    """
    result = yield
    gc.collect()
    return result


def window_threads(window) -> list:
    threads = [window.preview.worker, window.preview.faces_worker, window.preview.output_worker]
    if window.jobs.worker is not None:
        threads.append(window.jobs.worker)
    threads += window.live.threads()  # live mode's start/watch, session and camera-list workers
    return threads


@pytest.fixture
def make_window(qtbot):
    from facedeck.desktop.gui.app import create_window

    made = []
    before = set(threading.enumerate())

    def make(models_dir) -> object:
        window = create_window(models_dir, "cpu")
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        threads = window_threads(window)
        window.confirm_stop = lambda: True
        window.close()
        assert not any(thread.isRunning() for thread in threads)
    # QThreads running Python code show up as _DummyThread entries, which never end: the
    # QThreads are checked above; this catches Python threads (a video job's stages)
    leaked = [
        thread
        for thread in threading.enumerate()
        if thread not in before and thread.is_alive() and not isinstance(thread, threading._DummyThread)
    ]
    assert not leaked, leaked
