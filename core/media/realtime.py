"""Undo SVT-AV1's real-time thread priorities.

SVT-AV1 (PyAV's only software AV1 encoder, ``libsvtav1``), running as root on Linux,
switches the thread that opens it and every thread it starts to SCHED_FIFO at priority
99 (measured here: the calling thread and 39 encoder threads after the first frame, and
the calling thread stays so after the encoder is closed). A real-time thread that
busy-waits is never preempted by ordinary ones: on two cores, a FaceDeck process that had
once encoded AV1 starved its own worker threads for minutes (a window's GUI thread
polling for a signal; onnxruntime's pool). Root is the normal case in containers (the
worker image), so the writer hands those threads back to the ordinary scheduler.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

_TASKS = Path("/proc/self/task")
_REALTIME = {getattr(os, "SCHED_FIFO", -1), getattr(os, "SCHED_RR", -1)}


def realtime_threads() -> set[int]:
    """Thread ids of this process that run under a real-time policy (empty off Linux)."""
    if not hasattr(os, "sched_getscheduler") or not _TASKS.is_dir():
        return set()
    found = set()
    for entry in _TASKS.iterdir():
        try:
            if os.sched_getscheduler(int(entry.name)) in _REALTIME:
                found.add(int(entry.name))
        except (OSError, ValueError):  # a thread that ended meanwhile
            continue
    return found


def demote_realtime_threads(keep: set[int]) -> int:
    """Put every real-time thread not in ``keep`` back on SCHED_OTHER; how many were moved."""
    moved = 0
    for tid in realtime_threads() - keep:
        try:
            os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
            moved += 1
        except OSError as error:  # ended meanwhile, or not ours to change
            log.debug("thread %d keeps its real-time priority: %s", tid, error)
    if moved:
        log.debug("%d encoder thread(s) moved from real-time to normal priority", moved)
    return moved
