"""A short memory of recent phrases: how one spoken phrase is printed once, not once per program.

Home Assistant's pipeline may use voxprint twice for one utterance: as its speech-to-text (`asr`,
which already makes a job of the recording) and then as its conversation agent (`handle`, sent the
very transcript `asr` returned). The `asr` program remembers each transcript it returned for a few
seconds; `handle` takes that memory instead of drawing the phrase again. A phrase `handle` was
just asked to draw in the same conversation is also remembered, so a client that sends it again
(a retry) gets the same job.

Bounded in time and in size: entries expire, and the oldest go first when it is full.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """Values under keys for `seconds` each, at most `capacity` in all; one key may hold several."""

    def __init__(self, seconds: float, capacity: int, clock: Callable[[], float]) -> None:
        self._seconds = seconds
        self._capacity = capacity
        self._clock = clock
        self._order = itertools.count()
        # In insertion order, which is also expiry order (every entry lives as long).
        self._entries: OrderedDict[int, tuple[K, V, float]] = OrderedDict()
        self._by_key: dict[K, list[int]] = {}

    def __len__(self) -> int:
        self._forget_old()
        return len(self._entries)

    def add(self, key: K, value: V) -> None:
        entry = next(self._order)
        self._entries[entry] = (key, value, self._clock() + self._seconds)
        self._by_key.setdefault(key, []).append(entry)
        self._forget_old()

    def take(self, key: K) -> V | None:
        """The oldest value under `key`, forgotten: each remembered phrase answers one request."""
        self._forget_old()
        entries = self._by_key.get(key)
        if not entries:
            return None
        return self._remove(entries[0])

    def get(self, key: K) -> V | None:
        """The newest value under `key`, kept."""
        self._forget_old()
        entries = self._by_key.get(key)
        return self._entries[entries[-1]][1] if entries else None

    def _forget_old(self) -> None:
        now = self._clock()
        while self._entries:
            entry, (_, _, expires) = next(iter(self._entries.items()))
            if expires > now and len(self._entries) <= self._capacity:
                return
            self._remove(entry)

    def _remove(self, entry: int) -> V:
        key, value, _ = self._entries.pop(entry)
        entries = self._by_key[key]
        entries.remove(entry)
        if not entries:
            del self._by_key[key]
        return value
