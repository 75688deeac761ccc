"""packets_until_damaged: what every video reader does when a file breaks off."""

from __future__ import annotations

import av.error

from facedeck.core.media.demux import packets_until_damaged


class Container:
    def __init__(self, packets: list[object], fail_after: int | None = None) -> None:
        self.packets, self.fail_after = packets, fail_after

    def demux(self, *streams: object):  # noqa: ANN201 - a generator like PyAV's
        for index, packet in enumerate(self.packets):
            if index == self.fail_after:
                raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
            yield packet


def test_a_damaged_tail_keeps_what_came_before_then_flushes_once():
    damage: list[str] = []
    got = list(
        packets_until_damaged(
            Container(["a", "b", "c", "d"], fail_after=2), [], lambda e: damage.append(str(e))
        )
    )
    assert got == ["a", "b", None]
    assert len(damage) == 1 and "Invalid data" in damage[0]


def test_a_clean_end_adds_no_flush_of_its_own():
    damage: list[object] = []
    assert list(packets_until_damaged(Container(["a", "b"]), [], damage.append)) == ["a", "b"]
    assert damage == []
