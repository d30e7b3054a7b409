"""The cloud backends' retry policy, read from the server's settings.

The policy itself is :mod:`voxprint.common.backoff`, shared with the clients and the gateway. Both cloud
backends use it: voxprint's own loop (:func:`call_with_retries`, for AssemblyAI, whose SDK never
retries) and the Gemini SDK's ``HttpRetryOptions``, which computes its waits the same way, so one
setting means the same thing everywhere.
"""

from __future__ import annotations

import functools
import logging

from voxprint.common import backoff
from voxprint.server.config import Settings

# Retries of the server's calls are logged as the server's, beside the job they delay.
call_with_retries = functools.partial(backoff.call_with_retries, logger=logging.getLogger(__name__))


class Backoff(backoff.Backoff):
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
