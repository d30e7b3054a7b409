"""Bounded exponential backoff with jitter for calls to cloud services.

One :class:`Backoff` describes the policy for both cloud backends: voxprint's own loop
(:func:`call_with_retries`, used for AssemblyAI, whose SDK never retries) and the Gemini SDK's
``HttpRetryOptions``, which computes its waits the same way (tenacity's
``wait_exponential_jitter``), so one setting means the same thing everywhere.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from server.config import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    # Tries in all, the first one included; 1 means never retry.
    attempts: int = 4
    initial_delay: float = 1.0
    max_delay: float = 10.0
    multiplier: float = 2.0
    # Up to this many seconds are added at random to each wait, so that workers that failed
    # together do not all come back at the same instant.
    jitter: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a backoff needs at least one attempt")
        if min(self.initial_delay, self.max_delay, self.jitter) < 0 or self.multiplier < 1:
            raise ValueError("backoff delays must be non-negative and must not shrink")

    @classmethod
    def for_cloud(cls, settings: Settings) -> Backoff:
        """The policy both cloud backends use: jitter and ceiling scale with the first wait, so
        a tiny first wait (tests, demos) keeps every wait tiny."""
        initial = settings.cloud_retry_initial_delay
        return cls(
            attempts=settings.cloud_retry_attempts,
            initial_delay=initial,
            max_delay=10 * initial,
            jitter=initial,
        )

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        grown = self.initial_delay * self.multiplier ** (retry - 1)
        return min(grown + random.uniform(0, self.jitter), self.max_delay)


def call_with_retries(
    operation: Callable[[], T],
    *,
    backoff: Backoff,
    is_transient: Callable[[Exception], bool],
    deadline: float | None = None,
    describe: str = "call",
) -> T:
    """Run ``operation``, retrying it after a transient failure until it succeeds, the attempts
    run out, or the next wait would end past ``deadline`` (a ``time.monotonic()`` value).

    The last error is re-raised unchanged, so callers map vendor errors in one place whether or
    not retries happened.
    """
    attempt = 1
    while True:
        try:
            return operation()
        except Exception as error:
            if attempt == backoff.attempts or not is_transient(error):
                raise
            wait = backoff.delay(attempt)
            if deadline is not None and time.monotonic() + wait >= deadline:
                raise
            # The error's type only: vendor messages are not ours to vouch for in logs.
            log.info(
                "%s failed (%s), retry %d of %d in %.2f s",
                describe,
                type(error).__name__,
                attempt,
                backoff.attempts - 1,
                wait,
            )
            time.sleep(wait)
        attempt += 1
