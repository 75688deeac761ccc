"""A guard against a PySide6 reference-count bug that aborts long window sessions.

PySide6 6.12.0 on Python 3.11 releases references it never took: every ``Signal.emit()``
one of ``True`` (the bool it returns), every ``QTimer.start()`` and ``processEvents()`` one
of ``None``. Below Python 3.12 those objects are not immortal, so once the count reaches
zero the interpreter aborts ("bool_dealloc: deallocating True or False"). A small script
holds about 570 references to True: live mode emits a few signals per frame, so it would
end the process within a minute; a long job's progress or the log panel a little later.

:func:`pin_singletons` checks whether this PySide6 does it (an emit on a probe, counted),
and if so gives None, True and False a reference count so large that no session can use
it up, which is what Python 3.12 does for them anyway (immortal objects). Nothing is done
on Python 3.12 and later, on other interpreters, or on a PySide6 without the bug.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

PINNED_REFERENCES = 1 << 40  # a trillion emits: about 1000 years at 30 emits a second
_PROBE_EMITS = 16
_pinned = False


class _Probe(QObject):
    fired = Signal()


def emit_over_releases_true() -> bool:
    """Whether ``Signal.emit()`` takes a reference to True it does not own, here."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBE_EMITS):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    # the probe's own emits are given back: the count is exactly what it was before
    for _ in range(max(0, lost)):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= _PROBE_EMITS


def pin_singletons() -> bool:
    """Make None, True and False outlive the PySide6 bug, if it is here; True if done (now or before)."""
    global _pinned
    if _pinned:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False  # immortal there: a count PySide6 gets wrong harms nothing
    if not emit_over_releases_true():
        return False
    for singleton in (None, True, False):
        # ob_refcnt is a PyObject's first field in every release build of CPython 3.x; the
        # GIL is held, and another thread's increment slipping between the read and the
        # write would only leave the count one higher
        count = ctypes.c_ssize_t.from_address(id(singleton))
        count.value += PINNED_REFERENCES
    _pinned = True
    log.debug("PySide6 over-releases True on emit: None, True and False pinned")
    return True
