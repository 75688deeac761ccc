"""Packets from a container the way every FaceDeck video reader takes them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import av.error


def packets_until_damaged(
    container: Any, streams: list[Any], on_damage: Callable[[av.error.FFmpegError], None]
) -> Iterator[Any]:
    """The demuxed packets of ``streams``; at a damaged tail, ``on_damage`` and then one None.

    A file that breaks off keeps what came before, as players do: the None asks the caller's
    decoder to flush the frames it still holds, and the iteration ends there. A clean end
    needs no None (PyAV ends each stream with its own empty flush packet).
    """
    packets = container.demux(*streams)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.error.FFmpegError as error:
            on_damage(error)
            yield None
            return
        yield packet
