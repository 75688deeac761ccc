"""The live loop: capture thread -> newest-frame slot -> processing thread -> sinks.

Consumers (the CLI's ``live`` command, the window's live controller, the benchmark) rely on
exactly this API. Choices made here, for everyone who drives the loop:

- Latency is measured from the frame's ``captured_at`` to the moment just BEFORE the sinks
  are called: it is the capture-and-swap delay, the same for every sink, and a slow sink
  shows up as a lower fps rather than as latency.
- A bug (an exception that is neither a per-frame failure nor a LiveError) in processing
  ends the loop with ``ended_reason`` "live processing failed: ..." and is logged with its
  traceback: a loop that carries on around a broken engine would show a frozen preview.
  A bug in one sink only drops that sink (logged with its traceback, reason in
  ``sink_errors``): the preview must not die because the recording broke, or the reverse.
  A bug in the source ends the loop like a LiveError from it.
- When the loop ends by itself (the source ended or died, ``max_frames``, a processing bug)
  it finishes on its own thread: the source is closed and every sink stopped (a recording
  is renamed into place) before ``wait()`` returns True. ``stop()`` afterwards is harmless.
- ``stop()`` cannot interrupt a frame being swapped; it waits for it. A source whose
  ``read()`` blocks is given ``_CAPTURE_GRACE`` seconds, then ``close()``d from the stopping
  thread to unblock it (the sources in ``sources.py`` allow that).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from ..faces.session import SwapSession
from ..jobs.stream import FrameStream
from ..media.messages import one_line
from .stats import RollingStats
from .types import CapturedFrame, FrameSink, FrameSource, LiveError, LiveFrame, LiveStats, SourceInfo

log = logging.getLogger(__name__)

StatsCallback = Callable[[LiveStats], None]

_CAPTURE_GRACE = 1.0  # seconds a stopping capture thread gets before its source is closed under it
_JOIN_TIMEOUT = 10.0  # seconds stop() waits for a thread (a frame being swapped on a slow CPU)
_WARN_EVERY = 10.0  # seconds between warnings about failing frames (each one is logged at debug)


def sink_name(sink: FrameSink) -> str:
    """How stats and logs name a sink: its ``name`` attribute, else its class."""
    name = getattr(sink, "name", None)
    return name if isinstance(name, str) and name else type(sink).__name__


class _FrameErrorLog:
    """Warns about the first failing frame, then at most once per ``_WARN_EVERY`` seconds."""

    def __init__(self) -> None:
        self._last_warning: float | None = None
        self._quiet = 0  # failures since the last warning

    def failed(self, now: float, index: int, reason: str) -> None:
        log.debug("live frame %d failed: %s", index, reason)
        if self._last_warning is not None and now - self._last_warning < _WARN_EVERY:
            self._quiet += 1
            return
        more = f" ({self._quiet} more frames failed since the last warning)" if self._quiet else ""
        log.warning("a live frame failed and was shown unswapped: %s%s", reason, more)
        self._last_warning, self._quiet = now, 0


class LiveLoop:
    """Runs ``source`` through ``stream`` into ``sinks`` on two threads until stopped.

    - Capture thread: ``source.read()`` in a loop; each frame replaces the one waiting in a
      one-slot mailbox (the replaced one counts as dropped). Never a growing queue.
    - Processing thread: takes the newest frame, ``stream.push(image, frame.time)``, builds a
      LiveFrame (latency = now - captured_at, just before the sinks) and calls every sink's
      ``write`` in order. A frame whose push returns an error passes through unswapped and
      is counted; a sink that raises LiveError is logged, aborted and removed (its reason in
      stats.sink_errors); the loop goes on.
    - Only the source ends the loop: ``read()`` returning None (a file that ended: a normal
      end, ``ended_reason`` None) or raising LiveError (``ended_reason`` is its message);
      besides ``max_frames``, ``stop()`` and a bug in processing (see the module notes).
    - ``on_stats`` is called from the processing thread about every ``stats_every`` seconds
      (and once at the end) with the figures of the last window (``max(1 s, stats_every)``).
    """

    def __init__(
        self,
        source: FrameSource,
        stream: FrameStream,
        sinks: Sequence[FrameSink] = (),
        *,
        on_stats: StatsCallback | None = None,
        stats_every: float = 1.0,
        max_frames: int | None = None,  # stop after delivering this many frames
    ) -> None:
        self._source = source
        self._stream = stream
        self._sinks: list[FrameSink] = list(sinks)
        self._on_stats = on_stats
        self._stats_every = stats_every
        self._max_frames = max_frames
        self._info: SourceInfo | None = None
        # the mailbox: one frame at most, guarded by a condition the processing thread waits on
        self._slot = threading.Condition()
        self._pending: CapturedFrame | None = None
        self._source_done = False
        self._stopping = threading.Event()
        self._ended = threading.Event()
        self._ended_reason: str | None = None
        # held while the sinks are written, so remove_sink never stops a sink mid-write
        self._sink_lock = threading.RLock()
        self._stats_lock = threading.Lock()
        self._stats = RollingStats(window=max(1.0, stats_every))
        self._frame_errors = _FrameErrorLog()
        self._finish_lock = threading.Lock()
        self._finished = False
        self._capture: threading.Thread | None = None
        self._processing: threading.Thread | None = None

    # -- control

    def start(self) -> SourceInfo:
        """Open the source and start the sinks, then the threads; raises LiveError (nothing left open)."""
        if self._info is not None:
            raise RuntimeError("a LiveLoop starts once")
        info = self._source.open()
        started: list[FrameSink] = []
        try:
            for sink in self._sinks:
                sink.start(info)
                started.append(sink)
        except LiveError:
            for sink in started:
                _abort_quietly(sink)
            self._source.close()
            raise
        self._info = info
        with self._stats_lock:
            self._stats.start(time.monotonic())
        self._capture = threading.Thread(target=self._capture_run, name="live-capture", daemon=True)
        self._processing = threading.Thread(target=self._processing_run, name="live-processing", daemon=True)
        self._capture.start()
        self._processing.start()
        return info

    def use(self, session: SwapSession) -> None:
        """Swap with ``session`` from the next frame on (another source face, other options)."""
        self._stream.use(session)

    def add_sink(self, sink: FrameSink) -> None:
        """Start ``sink`` (with the source's info) and feed it from the next frame; raises LiveError."""
        if self._info is None:
            self._sinks.append(sink)  # start() starts it with the others
            return
        ended = LiveError("the live view has ended: start it again to add an output")
        if self._ended.is_set() or self._stopping.is_set():
            raise ended
        sink.start(self._info)
        with self._sink_lock:
            # checked under the lock _finish takes its list of sinks to stop with
            if not self._finished:
                self._sinks.append(sink)
                return
        _abort_quietly(sink)
        raise ended

    def remove_sink(self, sink: FrameSink) -> None:
        """Stop feeding ``sink`` and ``stop()`` it (a recording is finished and renamed)."""
        with self._sink_lock:
            if sink not in self._sinks:
                return
            self._sinks.remove(sink)
        if self._info is not None:
            sink.stop()

    def stop(self) -> None:
        """Stop capture and processing, join both threads, stop every sink, close the source.

        Safe to call more than once, from any thread but the loop's own, and after the
        source ended by itself."""
        if self._info is None:
            self._stopping.set()
            return
        self._request_stop()
        if threading.current_thread() is self._processing:
            return  # from a sink or on_stats: the processing thread finishes when it returns
        processing = self._processing
        if processing is not None:
            processing.join(_JOIN_TIMEOUT)
            if processing.is_alive():
                log.warning(
                    "live processing did not stop within %.0f s; it ends after this frame", _JOIN_TIMEOUT
                )

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the loop ended (source ended or died, max_frames, or stop()); True if it has.

        When True, the sinks are stopped, the source is closed and the threads are gone."""
        if not self._ended.wait(timeout):
            return False
        processing = self._processing
        if processing is not None and processing is not threading.current_thread():
            processing.join()  # it has set _ended as its last step: this is immediate
        return True

    @property
    def running(self) -> bool:
        return self._info is not None and not self._ended.is_set()

    @property
    def ended_reason(self) -> str | None:
        """Why the loop ended by itself (the source's LiveError message); None otherwise."""
        return self._ended_reason

    def stats(self) -> LiveStats:
        """The latest figures (thread-safe)."""
        with self._stats_lock:
            return self._stats.snapshot(time.monotonic())

    # -- the capture thread

    def _capture_run(self) -> None:
        while not self._stopping.is_set():
            try:
                frame = self._source.read()
            except LiveError as error:
                self._source_ended(None if self._stopping.is_set() else error.message)
                return
            except Exception as error:  # noqa: BLE001 - the capture thread's boundary: logged, ends the loop
                if self._stopping.is_set():  # a source closed under a blocked read may fail any way
                    self._source_ended(None)
                    return
                log.exception("the live source failed unexpectedly")
                self._source_ended(f"the source failed: {one_line(error) or type(error).__name__}")
                return
            if frame is None:
                self._source_ended(None)
                return
            with self._slot:
                if self._pending is not None:
                    with self._stats_lock:
                        self._stats.dropped += 1
                self._pending = frame
                self._slot.notify()
            with self._stats_lock:
                self._stats.captured(frame.captured_at)

    def _source_ended(self, reason: str | None) -> None:
        with self._slot:
            if reason is not None and self._ended_reason is None:
                self._ended_reason = reason
            self._source_done = True
            self._slot.notify()

    # -- the processing thread

    def _processing_run(self) -> None:
        next_stats = time.monotonic() + self._stats_every
        try:
            while True:
                frame = self._next_frame(next_stats)
                if frame is not None:
                    self._process(frame)
                    if self._max_frames is not None and self._stats.processed >= self._max_frames:
                        break
                elif self._stopping.is_set() or (self._source_done and self._pending is None):
                    break
                if time.monotonic() >= next_stats:
                    next_stats = time.monotonic() + self._stats_every
                    self._report()
        except Exception as error:  # noqa: BLE001 - the processing thread's boundary: logged, ends the loop
            log.exception("live processing failed")
            self._ended_reason = f"live processing failed: {one_line(error) or type(error).__name__}"
        finally:
            self._finish()

    def _next_frame(self, next_stats: float) -> CapturedFrame | None:
        """The newest frame; None when stopping, when the source is done, or when stats are due."""
        with self._slot:
            while self._pending is None and not self._source_done and not self._stopping.is_set():
                remaining = next_stats - time.monotonic()
                if remaining <= 0:
                    return None
                self._slot.wait(remaining)
            if self._stopping.is_set():
                return None
            frame, self._pending = self._pending, None  # the source's last frame still goes out
            return frame

    def _process(self, frame: CapturedFrame) -> None:
        result = self._stream.push(frame.image, frame.time)
        error = None
        if result.error is not None:
            error = one_line(result.error) or type(result.error).__name__
        now = time.monotonic()
        latency = now - frame.captured_at
        live = LiveFrame(
            captured=frame,
            image=result.frame,
            faces_found=result.faces_found,
            faces_swapped=result.faces_swapped,
            latency=latency,
            error=error,
        )
        with self._stats_lock:
            if error is not None:
                self._stats.failed(error)
            self._stats.delivered(now, latency)
        if error is not None:
            self._frame_errors.failed(now, frame.index, error)
        with self._sink_lock:
            for sink in list(self._sinks):
                self._write(sink, live)

    def _write(self, sink: FrameSink, frame: LiveFrame) -> None:
        name = sink_name(sink)
        try:
            sink.write(frame)
            return
        except LiveError as error:
            reason = error.message
            log.warning("live output %s stopped: %s", name, reason)
        except Exception as error:  # noqa: BLE001 - one sink's bug must not end the others' frames
            reason = f"unexpected error: {one_line(error) or type(error).__name__}"
            log.exception("live output %s failed", name)
        if sink in self._sinks:  # (a sink may have removed itself before raising)
            self._sinks.remove(sink)
        with self._stats_lock:
            self._stats.sink_errors[name] = reason
        _abort_quietly(sink)

    def _report(self) -> None:
        if self._on_stats is None:
            return
        stats = self.stats()
        try:
            self._on_stats(stats)
        except Exception:  # noqa: BLE001 - a broken stats display must not end the live view
            log.exception("the live stats callback failed")

    # -- ending

    def _request_stop(self) -> None:
        self._stopping.set()
        with self._slot:
            self._slot.notify_all()

    def _finish(self) -> None:
        """Join capture, close the source, stop the sinks, report; runs once, on the processing thread."""
        with self._finish_lock:
            if self._finished:
                return
            self._finished = True
        self._request_stop()
        capture = self._capture
        if capture is not None and capture is not threading.current_thread():
            capture.join(_CAPTURE_GRACE)
            if capture.is_alive():
                # a read() that blocks (a stalled camera or stream): closing unblocks it
                _close_quietly(self._source)
                capture.join(_JOIN_TIMEOUT)
                if capture.is_alive():
                    log.warning("the live source did not stop reading; its thread is left to end by itself")
        _close_quietly(self._source)
        with self._sink_lock:
            sinks, self._sinks = list(self._sinks), []
        for sink in sinks:
            try:
                sink.stop()
            except LiveError as error:
                log.warning("live output %s could not finish: %s", sink_name(sink), error.message)
                with self._stats_lock:
                    self._stats.sink_errors[sink_name(sink)] = error.message
                _abort_quietly(sink)
        self._report()
        self._ended.set()


def _abort_quietly(sink: FrameSink) -> None:
    try:
        sink.abort()
    except Exception:  # noqa: BLE001 - cleanup after a failure: the first failure is the one to report
        log.exception("live output %s failed while aborting", sink_name(sink))


def _close_quietly(source: FrameSource) -> None:
    try:
        source.close()
    except Exception:  # noqa: BLE001 - cleanup: the loop's end must not be lost to a failing close
        log.exception("the live source failed while closing")
