"""The short memory that makes one utterance one printout: entries expire, the oldest go first when
it is full, and each remembered phrase answers one request."""

from __future__ import annotations

from voxprint.clients.gateway.wyoming_recent import Recent


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_forgotten_after_its_time() -> None:
    clock = Clock()
    recent: Recent[str, int] = Recent(10.0, 100, clock)
    recent.add("a dragon", 1)
    clock.now = 9.9
    assert recent.get("a dragon") == 1
    clock.now = 10.0
    assert recent.get("a dragon") is None and len(recent) == 0


def test_take_answers_each_entry_once_oldest_first() -> None:
    recent: Recent[str, int] = Recent(10.0, 100, Clock())
    recent.add("a dragon", 1)
    recent.add("a dragon", 2)
    assert [recent.take("a dragon"), recent.take("a dragon"), recent.take("a dragon")] == [1, 2, None]


def test_get_answers_the_newest_and_keeps_it() -> None:
    recent: Recent[str, int] = Recent(10.0, 100, Clock())
    recent.add("a dragon", 1)
    recent.add("a dragon", 2)
    assert recent.get("a dragon") == recent.get("a dragon") == 2


def test_when_full_the_oldest_entries_make_room() -> None:
    recent: Recent[int, int] = Recent(10.0, 3, Clock())
    for key in range(5):
        recent.add(key, key)
    assert len(recent) == 3
    assert [recent.get(key) for key in range(5)] == [None, None, 2, 3, 4]
