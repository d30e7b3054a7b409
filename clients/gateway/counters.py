"""Named event counters the gateway keeps and logs periodically.

Names are dotted: `datagrams.received`, `datagrams.dropped.bad_magic`, `recordings.assembled`,
`submits.retried`, `deliveries.udp.acknowledged`, ... A counter that never fired is simply absent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter


class Counters:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def incr(self, name: str, amount: int = 1) -> None:
        self._counts[name] += amount

    def __getitem__(self, name: str) -> int:
        return self._counts[name]

    def total(self, prefix: str) -> int:
        """Sum of every counter named `prefix` or starting with `prefix.`."""
        return sum(n for name, n in self._counts.items() if name == prefix or name.startswith(prefix + "."))

    def snapshot(self) -> dict[str, int]:
        return dict(sorted(self._counts.items()))

    def format(self) -> str:
        return " ".join(f"{name}={n}" for name, n in self.snapshot().items()) or "(none yet)"


async def log_periodically(counters: Counters, interval: float, logger: logging.Logger) -> None:
    """Log one line with every counter each `interval` seconds, until cancelled."""
    while True:
        await asyncio.sleep(interval)
        logger.info("counters: %s", counters.format())
