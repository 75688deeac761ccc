"""stopping_on_signals: what it installs, and when it leaves a signal alone. The whole path
(a real process stopped mid-video) is in tests/desktop/test_cli_faults.py."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from facedeck.desktop.headless.signals import StopSignal, signal_number, stopping_on_signals

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGHUP and os.kill to oneself are POSIX")


def test_sigterm_raises_stop_signal_once_and_the_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(StopSignal) as caught, stopping_on_signals():
        os.kill(os.getpid(), signal.SIGTERM)
    assert isinstance(caught.value, KeyboardInterrupt)  # every Ctrl-C clean-up applies
    assert str(caught.value) == "stopped by SIGTERM" and signal_number(caught.value) == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_second_signal_does_not_cut_the_clean_up_short():
    cleaned = False
    with pytest.raises(StopSignal) as caught, stopping_on_signals():
        try:
            os.kill(os.getpid(), signal.SIGHUP)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # a supervisor repeating itself mid-clean-up
            cleaned = True
    assert cleaned and caught.value.signal_name == "SIGHUP"


def test_a_signal_ignored_at_start_stays_ignored():
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what nohup does
    try:
        with stopping_on_signals():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)  # nothing happens
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_ctrl_c_keeps_its_own_number_and_other_threads_change_nothing():
    assert signal_number(KeyboardInterrupt()) == signal.SIGINT
    seen = []

    def elsewhere() -> None:
        with stopping_on_signals():
            seen.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert seen == [before]
