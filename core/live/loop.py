"""The live loop: capture thread -> newest-frame slot -> processing thread -> sinks.

CONTRACT (stub: to be implemented). Consumers (the CLI's ``live`` command, the window's
live controller, the benchmark) rely on exactly this API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..faces.session import SwapSession
from ..jobs.stream import FrameStream
from .types import FrameSink, FrameSource, LiveStats, SourceInfo

StatsCallback = Callable[[LiveStats], None]


class LiveLoop:
    """Runs ``source`` through ``stream`` into ``sinks`` on two threads until stopped.

    - Capture thread: ``source.read()`` in a loop; each frame replaces the one waiting in a
      one-slot mailbox (the replaced one counts as dropped). Never a growing queue.
    - Processing thread: takes the newest frame, ``stream.push(image, frame.time)``, builds a
      LiveFrame (latency = now - captured_at) and calls every sink's ``write`` in order.
      A frame whose push returns an error passes through unswapped and is counted; a sink
      that raises LiveError is logged, aborted and removed (its reason in stats.sink_errors);
      the loop goes on.
    - Only the source ends the loop: ``read()`` returning None (a file that ended: a normal
      end, ``ended_reason`` None) or raising LiveError (``ended_reason`` is its message).
    - ``on_stats`` is called from the processing thread about every ``stats_every`` seconds
      (and once at the end) with the figures of the last window.
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
        raise NotImplementedError

    def start(self) -> SourceInfo:
        """Open the source and start the sinks, then the threads; raises LiveError (nothing left open)."""
        raise NotImplementedError

    def use(self, session: SwapSession) -> None:
        """Swap with ``session`` from the next frame on (another source face, other options)."""
        raise NotImplementedError

    def add_sink(self, sink: FrameSink) -> None:
        """Start ``sink`` (with the source's info) and feed it from the next frame; raises LiveError."""
        raise NotImplementedError

    def remove_sink(self, sink: FrameSink) -> None:
        """Stop feeding ``sink`` and ``stop()`` it (a recording is finished and renamed)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop capture and processing, join both threads, stop every sink, close the source.

        Safe to call more than once, from any thread but the loop's own, and after the
        source ended by itself."""
        raise NotImplementedError

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the loop ended (source ended or died, max_frames, or stop()); True if it has."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        raise NotImplementedError

    @property
    def ended_reason(self) -> str | None:
        """Why the loop ended by itself (the source's LiveError message); None otherwise."""
        raise NotImplementedError

    def stats(self) -> LiveStats:
        """The latest figures (thread-safe)."""
        raise NotImplementedError
