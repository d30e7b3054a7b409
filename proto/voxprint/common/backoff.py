"""The one retry policy: exponential waits with jitter, and what makes the trying stop.

Every retry loop in voxprint uses it: the server's calls to cloud services, the clients' resumed
Watch streams and the gateway's submits.

A wait is ``min(initial_delay·multiplier^(n−1) + uniform(0, jitter), max_delay)`` before retry n,
which is tenacity's ``wait_exponential_jitter`` and so also what the Gemini SDK's own retries do
when given the same numbers. Trying stops at the first of: ``attempts`` failures in a row (a
success starts the count again), or a next try that would start past the deadline.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import grpc

log = logging.getLogger(__name__)

T = TypeVar("T")

#: gRPC failures that say "not now" rather than "not this request": the server is down, restarting,
#: overloaded, or a stream broke under the call. Retrying them is safe because every call worth
#: retrying is idempotent (Submit carries a request id, Watch resumes by version).
RETRYABLE_CODES: frozenset[grpc.StatusCode] = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
    }
)


@dataclass(frozen=True)
class Backoff:
    """How long to wait between tries, and when to stop (see the module's description)."""

    # Tries in a row that may fail, the first one included (1 = never retry); None = no limit.
    attempts: int | None = 4
    initial_delay: float = 1.0
    max_delay: float = 10.0
    multiplier: float = 2.0
    # Up to this many seconds are added at random to each wait, so that callers that failed
    # together do not all come back at the same instant.
    jitter: float = 1.0
    # No new try starts this many seconds after the first one; None = no limit.
    give_up_after: float | None = None

    def __post_init__(self) -> None:
        if self.attempts is not None and self.attempts < 1:
            raise ValueError("a backoff needs at least one attempt")
        if min(self.initial_delay, self.max_delay, self.jitter) < 0 or self.multiplier < 1:
            raise ValueError("backoff delays must be non-negative and must not shrink")
        if self.give_up_after is not None and self.give_up_after < 0:
            raise ValueError("a backoff cannot give up before it starts")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        grown = self.initial_delay * self.multiplier ** (retry - 1)
        return min(grown + random.uniform(0, self.jitter), self.max_delay)

    def start(self, deadline: float | None = None) -> Retries:
        """Begin one run of tries; ``deadline`` (a ``time.monotonic()`` value) may end it sooner."""
        return Retries(self, deadline)


class Retries:
    """One run of tries under a :class:`Backoff`: the failures in a row and the deadline."""

    def __init__(self, backoff: Backoff, deadline: float | None = None) -> None:
        self.backoff = backoff
        self.failures = 0
        limits = [limit for limit in (deadline, _deadline_after(backoff.give_up_after)) if limit is not None]
        self.deadline: float | None = min(limits) if limits else None

    def remaining(self) -> float | None:
        """Seconds until the deadline (0 once past it); None = no deadline."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    def out_of_time(self) -> bool:
        return self.remaining() == 0.0

    def exhausted(self) -> bool:
        """True once ``attempts`` tries in a row have failed."""
        return self.backoff.attempts is not None and self.failures >= self.backoff.attempts

    def succeeded(self) -> None:
        """Progress was made: failures before it no longer count against ``attempts``."""
        self.failures = 0

    def next_delay(self) -> float | None:
        """Count a failure; return the seconds to wait before trying again, or None to stop."""
        self.failures += 1
        if self.exhausted():
            return None
        wait = self.backoff.delay(self.failures)
        remaining = self.remaining()
        if remaining is not None and wait >= remaining:
            return None
        return wait

    def wait_after(
        self, error: Exception, is_transient: Callable[[Exception], bool], describe: str, logger: logging.Logger
    ) -> float | None:
        """The wait before retrying a call that raised ``error`` (logged), or None to re-raise it."""
        wait = self.next_delay() if is_transient(error) else None
        if wait is not None:
            # The error's type only: a vendor's message is not ours to vouch for in logs.
            logger.info("%s failed (%s), retry %d in %.2f s", describe, type(error).__name__, self.failures, wait)
        return wait


def _deadline_after(seconds: float | None) -> float | None:
    return None if seconds is None else time.monotonic() + seconds


def call_with_retries(
    operation: Callable[[], T],
    *,
    backoff: Backoff,
    is_transient: Callable[[Exception], bool],
    deadline: float | None = None,
    describe: str = "call",
    logger: logging.Logger = log,
) -> T:
    """Run ``operation``, retrying it after a transient failure until it succeeds or ``backoff``
    says stop; each retry is logged on ``logger``. The last error is re-raised unchanged, so callers map errors in one place whether
    or not retries happened."""
    retries = backoff.start(deadline)
    while True:
        try:
            return operation()
        except Exception as error:
            wait = retries.wait_after(error, is_transient, describe, logger)
            if wait is None:
                raise
            time.sleep(wait)


async def call_with_retries_async(
    operation: Callable[[], Awaitable[T]],
    *,
    backoff: Backoff,
    is_transient: Callable[[Exception], bool],
    deadline: float | None = None,
    describe: str = "call",
    on_retry: Callable[[], None] | None = None,
    logger: logging.Logger = log,
) -> T:
    """:func:`call_with_retries` for coroutines; ``on_retry`` is told of every retry (counters)."""
    retries = backoff.start(deadline)
    while True:
        try:
            return await operation()
        except Exception as error:
            wait = retries.wait_after(error, is_transient, describe, logger)
            if wait is None:
                raise
            if on_retry is not None:
                on_retry()
            await asyncio.sleep(wait)
