"""LiveLoop: frames reach the sinks swapped, the newest frame wins, failures are counted
and live goes on, only the source (or stop()) ends it, and nothing is left running."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest

from facedeck.core.jobs.stream import FrameStream
from facedeck.core.live.file_source import FileSource
from facedeck.core.live.loop import LiveLoop
from facedeck.core.live.types import CapturedFrame, LiveError
from facedeck.core.models.library import ModelLibrary
from facedeck.core.runtime.providers import select_provider
from facedeck.core.tracking.tracker import TrackerSettings
from tests.core.live.helpers import (
    CYAN,
    WAIT,
    YELLOW,
    CollectingSink,
    DiesAfter,
    Lockstep,
    Synthetic,
    Wrapped,
    face_centre,
    face_clip,
    painted,
    session_of,
)
from tests.support.models.model_set import build_model_set


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return build_model_set(
        tmp_path_factory.mktemp("models"), swapper_mode="latent_color", with_restorer=False
    )


@pytest.fixture(scope="module")
def library(models):
    return ModelLibrary(models.directory, select_provider("cpu"))


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return face_clip(tmp_path_factory.mktemp("clips") / "face.mp4", frames=12, fps=30)


@pytest.fixture
def no_threads_left():
    """Fails the test when a thread it started is still alive at the end."""
    before = set(threading.enumerate())
    yield
    left = [thread.name for thread in threading.enumerate() if thread not in before]
    assert not left, left


def stream_of(library, color=YELLOW) -> FrameStream:
    return FrameStream(session_of(library, color), TrackerSettings(detect_every=1))


class SlowStream(FrameStream):
    """The real stream, 50 ms slower per frame: an engine that cannot keep up with the source."""

    delay = 0.05

    def push(self, frame_bgr, timestamp):
        time.sleep(self.delay)
        return super().push(frame_bgr, timestamp)


class BrokenStream(FrameStream):
    """A bug in processing (not a per-frame failure): push raises what FrameStream never catches."""

    def push(self, frame_bgr, timestamp):
        raise RuntimeError("stand-in bug")


class SomeFramesBroken(Wrapped):
    """Hands over a 2-D frame (the engine cannot take it: a real per-frame failure) at ``bad``."""

    def __init__(self, inner, bad):
        super().__init__(inner)
        self.bad = bad

    def read(self):
        frame = self.inner.read()
        if frame is not None and frame.index in self.bad:
            return CapturedFrame(
                np.ascontiguousarray(frame.image[..., 0]), frame.index, frame.captured_at, frame.time
            )
        return frame


def test_the_loop_delivers_swapped_frames_in_order_and_finishes_at_the_end(
    models, library, clip, no_threads_left
):
    sink = CollectingSink()
    reports = []
    source = Wrapped(FileSource(clip))
    loop = LiveLoop(source, stream_of(library), [sink], on_stats=reports.append)
    info = loop.start()
    assert (info.width, info.height) == (320, 240) and info.fps == pytest.approx(30)
    assert loop.wait(WAIT) and not loop.running and loop.ended_reason is None
    # the loop finished by itself: the sink stopped, the source closed, before wait() returned
    assert sink.calls == ["start", "stop"] and sink.info == info and source.closes >= 1
    assert sink.writer_threads == {"live-processing"}
    indices = [frame.captured.index for frame in sink.frames]
    assert indices == sorted(indices) and indices[-1] == 11  # the source's last frame always goes out
    want = painted(models, YELLOW)
    for frame in sink.frames:
        assert frame.error is None and frame.faces_swapped == 1 and frame.latency >= 0
        np.testing.assert_allclose(face_centre(frame.image), want, atol=6)
    stats = loop.stats()
    assert stats.processed == len(sink.frames) and stats.processed + stats.dropped == 12
    assert reports and reports[-1].processed == len(sink.frames)  # the final report
    loop.stop()  # harmless after the end


def test_a_slow_engine_drops_frames_instead_of_queueing_them(library, tmp_path, no_threads_left):
    # 90 frames at 60 fps (1.5 s) into an engine that needs 50 ms a frame (20 fps at best)
    clip = face_clip(tmp_path / "fast.mp4", frames=90, fps=60)
    sink = CollectingSink()
    stream = SlowStream(session_of(library, YELLOW), TrackerSettings(detect_every=1))
    loop = LiveLoop(FileSource(clip), stream, [sink])
    loop.start()
    assert loop.wait(WAIT) and loop.ended_reason is None
    stats = loop.stats()
    assert stats.dropped > 0 and stats.processed + stats.dropped == 90
    assert stats.processed == len(sink.frames) < 90
    # A one-slot mailbox bounds latency to about two engine steps (the frame waits at most one
    # step, then takes one). A queue would let it grow with the clip: by the end each frame
    # would have waited ~1 s. 0.5 s (10 steps) allows a slow, busy test machine its jitter
    # and still tells the two apart; a behaviour bound, not a speed test.
    latencies = [frame.latency for frame in sink.frames]
    assert np.percentile(latencies, 95) < 0.5, latencies


def test_a_failing_frame_is_counted_and_live_goes_on(models, library, clip, no_threads_left, caplog):
    caplog.set_level(logging.DEBUG, logger="facedeck.core.live.loop")
    sink = CollectingSink()
    source = Lockstep(SomeFramesBroken(FileSource(clip), bad={3, 4, 8}), sink)
    loop = LiveLoop(source, stream_of(library), [sink])
    loop.start()
    assert loop.wait(WAIT) and loop.ended_reason is None
    assert [frame.captured.index for frame in sink.frames] == list(range(12))
    failed = [frame.captured.index for frame in sink.frames if frame.error is not None]
    assert failed == [3, 4, 8]
    for index in failed:  # passed through unswapped: the very frame captured
        assert sink.frames[index].image is sink.frames[index].captured.image
    stats = loop.stats()
    assert stats.errors == 3 and stats.last_error and stats.processed == 12
    np.testing.assert_allclose(face_centre(sink.frames[-1].image), painted(models, YELLOW), atol=6)
    # each failure is in the debug log; a warning says it once, not once a frame
    records = [record for record in caplog.records if record.name == "facedeck.core.live.loop"]
    assert [record.levelno for record in records].count(logging.WARNING) == 1
    assert [record.levelno for record in records].count(logging.DEBUG) == 3


def test_use_switches_the_source_face_within_a_few_frames(models, library, clip, no_threads_left):
    sink = CollectingSink()
    loop = LiveLoop(FileSource(clip, loop=True), stream_of(library, YELLOW), [sink])
    loop.start()
    assert sink.wait_for(3)
    loop.use(session_of(library, CYAN))
    switched_at = len(sink.frames)
    assert sink.wait_for(switched_at + 3)
    loop.stop()
    yellow, cyan = painted(models, YELLOW), painted(models, CYAN)
    np.testing.assert_allclose(face_centre(sink.frames[0].image), yellow, atol=6)
    # the frame being swapped when use() came may still be yellow; the one after is cyan
    np.testing.assert_allclose(face_centre(sink.frames[switched_at + 1].image), cyan, atol=6)
    np.testing.assert_allclose(face_centre(sink.frames[-1].image), cyan, atol=6)


def test_a_source_that_dies_ends_the_loop_with_its_reason(library, clip, no_threads_left):
    sink = CollectingSink()
    source = DiesAfter(FileSource(clip), 5, "camera 0 stopped delivering frames")
    loop = LiveLoop(Lockstep(source, sink), stream_of(library), [sink])
    loop.start()
    assert loop.wait(WAIT)
    assert loop.ended_reason == "camera 0 stopped delivering frames" and not loop.running
    assert len(sink.frames) == 5 and sink.calls == ["start", "stop"] and source.closes >= 1


def test_stop_joins_both_threads_and_closes_the_source(library, clip, no_threads_left):
    sink = CollectingSink()
    source = Wrapped(FileSource(clip, loop=True))
    loop = LiveLoop(source, stream_of(library), [sink])
    loop.start()
    assert sink.wait_for(2) and loop.running
    loop.stop()
    assert loop.wait(0) and not loop.running and loop.ended_reason is None
    assert source.closes >= 1 and sink.calls == ["start", "stop"]
    loop.stop()  # twice is fine


def test_stop_does_not_hang_on_a_source_blocked_in_read(library, no_threads_left):
    source = Synthetic(block_after=3)
    sink = CollectingSink()
    loop = LiveLoop(source, stream_of(library), [sink])
    loop.start()
    assert source.reading.wait(WAIT)
    loop.stop()  # the capture thread is stuck in read() until the source is closed under it
    assert loop.wait(0) and source.closes >= 1 and loop.ended_reason is None


def test_a_raising_sink_is_dropped_and_the_others_keep_their_frames(library, clip, no_threads_left):
    first, second = CollectingSink("first"), CollectingSink("second")
    broken = CollectingSink("recording", fail_at=3, fail_with=LiveError("the disk is full"))
    buggy = CollectingSink("buggy", fail_at=5, fail_with=RuntimeError("stand-in bug"))
    loop = LiveLoop(Lockstep(FileSource(clip), second), stream_of(library), [first, broken, buggy, second])
    loop.start()
    assert loop.wait(WAIT) and loop.ended_reason is None
    assert len(first.frames) == len(second.frames) == 12
    assert len(broken.frames) == 2 and broken.calls == ["start", "abort"]
    assert len(buggy.frames) == 4 and buggy.calls == ["start", "abort"]
    errors = loop.stats().sink_errors
    assert errors["recording"] == "the disk is full" and "stand-in bug" in errors["buggy"]


def test_a_bug_in_processing_ends_the_loop_with_a_reason(library, clip, no_threads_left):
    sink = CollectingSink()
    source = Wrapped(FileSource(clip, loop=True))
    loop = LiveLoop(source, BrokenStream(session_of(library, YELLOW)), [sink])
    loop.start()
    assert loop.wait(WAIT)
    assert loop.ended_reason == "live processing failed: stand-in bug"
    assert not sink.frames and sink.calls == ["start", "stop"] and source.closes >= 1


def test_max_frames_ends_the_loop_normally(library, clip, no_threads_left):
    sink = CollectingSink()
    source = Lockstep(FileSource(clip, loop=True), sink)
    loop = LiveLoop(source, stream_of(library), [sink], max_frames=4)
    loop.start()
    assert loop.wait(WAIT) and loop.ended_reason is None
    assert len(sink.frames) == 4 and source.closes >= 1 and sink.calls == ["start", "stop"]


def test_sinks_come_and_go_while_live(library, clip, no_threads_left):
    always, later = CollectingSink("always"), CollectingSink("later")
    loop = LiveLoop(FileSource(clip, loop=True), stream_of(library), [always])
    info = loop.start()
    assert always.wait_for(2)
    loop.add_sink(later)
    assert later.info == info and later.wait_for(2)
    loop.remove_sink(later)
    assert later.calls == ["start", "stop"]
    kept = len(later.frames)
    seen = len(always.frames)
    assert always.wait_for(seen + 3)
    loop.stop()
    assert len(later.frames) == kept and always.calls == ["start", "stop"]
    with pytest.raises(LiveError):
        loop.add_sink(CollectingSink("too late"))


def test_a_sink_that_cannot_start_leaves_nothing_open(library, clip, no_threads_left):
    class WontStart(CollectingSink):
        def start(self, info):
            raise LiveError("no virtual camera device")

    good = CollectingSink()
    source = Wrapped(FileSource(clip))
    loop = LiveLoop(source, stream_of(library), [good, WontStart("virtual camera")])
    with pytest.raises(LiveError, match="no virtual camera"):
        loop.start()
    assert good.calls == ["start", "abort"] and source.closes == 1 and not loop.running


def test_stats_come_regularly_from_the_processing_thread(library, tmp_path, no_threads_left):
    clip = face_clip(tmp_path / "half.mp4", frames=15, fps=30)
    reports, threads = [], set()

    def on_stats(stats):
        threads.add(threading.current_thread().name)
        reports.append(stats)

    loop = LiveLoop(
        FileSource(clip), stream_of(library), [CollectingSink()], on_stats=on_stats, stats_every=0.05
    )
    loop.start()
    assert loop.wait(WAIT)
    assert len(reports) >= 3 and threads == {"live-processing"}
    last = reports[-1]
    assert last.processed + last.dropped == 15 and last.errors == 0 and last.fps > 0 and last.source_fps > 0
    assert 0 <= last.latency_median <= last.latency_p95
