"""SIGTERM and SIGHUP stop a headless command the way Ctrl-C does.

``timeout``, ``docker stop``, systemd and a closed terminal end a process with SIGTERM or
SIGHUP, whose default action kills it on the spot: a video's temporary output would stay
behind. :func:`stopping_on_signals` makes both raise :class:`StopSignal` in the main thread
instead, exactly where SIGINT raises KeyboardInterrupt; StopSignal is a KeyboardInterrupt,
so every path that already cleans up after Ctrl-C (the video pipeline stops its threads
and removes its temporary file, a download keeps its resumable ``.part``) does the same for
these signals, with no code of its own.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# SIGHUP does not exist on Windows.
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class StopSignal(KeyboardInterrupt):
    """The process was asked to stop by ``signum`` (SIGTERM or SIGHUP)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"stopped by {self.signal_name}")


def signal_number(interrupt: KeyboardInterrupt) -> int:
    """The signal behind ``interrupt``: its own for a StopSignal, SIGINT (Ctrl-C) otherwise."""
    return interrupt.signum if isinstance(interrupt, StopSignal) else int(signal.SIGINT)


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise StopSignal in the main thread.

    Only the first signal raises: a second one while the first one's clean-up runs (a
    supervisor repeating itself) must not cut that clean-up short. A signal the process
    was started with ignored (``nohup`` ignores SIGHUP) stays ignored. The previous
    handlers come back after the block. Outside the main thread nothing changes (Python
    delivers signals to the main thread only, and only it may install handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) == 1:
            raise StopSignal(signum)

    previous = {}
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
