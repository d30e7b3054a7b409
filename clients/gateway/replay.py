"""Replay protection for tagged datagrams: what a device with a key sends is taken once.

A tag proves who sent a datagram, not when: an eavesdropper could send a captured one again and
again, and a recorded phrase would print a hundred times. So a tagged datagram carries a counter
inside the signed bytes, higher in each datagram its sender sends (`SendCounter`), and the receiver
keeps, per device, the highest counter taken and which of the WINDOW counters below it have come
(as IPsec and WireGuard do): a datagram overtaken on the way is still taken, a copy or one older
than the window is not. That is two integers a device, and only devices of the keys file get them.

The gateway writes each device's highest counter to its state directory whenever it takes one of
the device's recordings, so a restarted gateway refuses every datagram of a recording it took.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Counters accepted below the highest one taken: reordering on the way rarely spans more.
WINDOW = 64
_ALL_SEEN = (1 << WINDOW) - 1
STATE_FILE = "replay-counters"


class SendCounter:
    """The counters a sender stamps: one more than the last, and never behind the wall clock in
    microseconds, so they keep growing across restarts with nothing stored (unless the clock is
    set back, or a sender sends more than a million datagrams a second)."""

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self._clock_ns = clock_ns
        self._last = 0

    def next(self) -> int:
        self._last = max(self._last + 1, self._clock_ns() // 1000)
        return self._last


@dataclass
class _Window:
    highest: int
    # Bit i set: counter `highest - i` has been taken.
    seen: int

    def take(self, counter: int) -> bool:
        if counter > self.highest:
            shift = counter - self.highest
            # A jump past the whole window forgets it without building a number `shift` bits long.
            self.seen = ((self.seen << shift) | 1) & _ALL_SEEN if shift < WINDOW else 1
            self.highest = counter
            return True
        age = self.highest - counter
        if age >= WINDOW or self.seen >> age & 1:
            return False
        self.seen |= 1 << age
        return True


class ReplayStateError(ValueError):
    """The state directory's replay counters file is not one this gateway wrote."""


class ReplayGuard:
    """Per-device replay windows, their highest counters kept in `state_dir` (None: not kept)."""

    def __init__(self, state_dir: Path | None) -> None:
        self._path = state_dir / STATE_FILE if state_dir is not None else None
        self._windows = {device: _Window(floor, _ALL_SEEN) for device, floor in self._read().items()}

    def take(self, device_id: int, counter: int) -> bool:
        """Whether `counter` is new for `device_id` (it is then remembered as taken)."""
        window = self._windows.get(device_id)
        if window is None:
            self._windows[device_id] = _Window(counter, 1)
            return True
        return window.take(counter)

    def keep(self) -> None:
        """Write every device's highest counter, so a restarted gateway takes nothing up to them."""
        if self._path is None:
            return
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lines = "".join(f"{device:016x} {window.highest}\n" for device, window in sorted(self._windows.items()))
        temporary = self._path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(lines)
            out.flush()
            # Once a recording is taken, a power cut must not bring back counters below it.
            os.fsync(out.fileno())
        os.replace(temporary, self._path)

    def _read(self) -> dict[int, int]:
        if self._path is None or not self._path.exists():
            return {}
        floors = {}
        for number, line in enumerate(self._path.read_text().splitlines(), start=1):
            try:
                device, highest = line.split()
                floors[int(device, 16)] = int(highest)
            except ValueError:
                raise ReplayStateError(f"{self._path} line {number}: not 'DEVICE_ID COUNTER'") from None
        return floors
