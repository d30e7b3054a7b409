"""A token bucket per source endpoint: no single sender gets more than its share of the gateway.

Every datagram costs one token; a source's bucket refills at `rate` tokens a second up to `burst`.
Buckets are kept for the most recently heard `max_sources` endpoints only, so spoofed source
addresses cannot grow the table: a forgotten source simply starts again with a full bucket, which
is exactly what an idle source would have.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from voxprint.clients.gateway.assembler import Address


@dataclass(frozen=True)
class RateLimit:
    # Datagrams a second, sustained. A 48 kHz 16-bit stereo device in real time sends ~135;
    # simulators playing faster than real time need more.
    rate: float = 1000.0
    burst: float = 2000.0
    max_sources: int = 4096


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, limit: RateLimit = RateLimit()) -> None:
        self._limit = limit
        self._buckets: OrderedDict[Address, _Bucket] = OrderedDict()

    def allow(self, source: Address, now: float) -> bool:
        """Take one token from `source`'s bucket; False if it is empty."""
        limit = self._limit
        bucket = self._buckets.pop(source, None) or _Bucket(limit.burst, now)
        bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.updated) * limit.rate)
        bucket.updated = now
        self._buckets[source] = bucket
        if len(self._buckets) > limit.max_sources:
            self._buckets.popitem(last=False)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True
