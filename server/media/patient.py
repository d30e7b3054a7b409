"""Media that wait out an outage: a call that fails with ``MediaUnavailable`` is tried again, with backoff.

The workers' stages store through this: a recording read or a picture written while S3 is away (a
restart, a partition) waits for it, and the job goes on from there instead of failing for an outage
of seconds. Only "not now" is waited out; a missing key, a full bucket or refused credentials fail
at once, as before. Requests (Submit, Fetch) use the media directly, so their clients hear
UNAVAILABLE at once and retry themselves rather than hang.

Every failed try is reported to ``on_unavailable`` (the health monitor): the replica turns
NOT_SERVING, and its log says why, for as long as its storage cannot be reached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

from voxprint.common.backoff import Backoff, call_with_retries
from voxprint.server.media.interface import Media, MediaUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

# A stage waits this long for its storage in all; an outage longer than that fails the stage, with
# the storage's own message, as any other storage error would.
PATIENCE_SECONDS = 300.0
# The first wait is short (a dropped connection is usually back at once), the longest one 5 s: a
# returning S3 is used within 5 s, and a long outage costs a try every 5 s per waiting stage.
PATIENCE = Backoff(attempts=None, initial_delay=0.5, max_delay=5.0, jitter=0.5, give_up_after=PATIENCE_SECONDS)


class PatientMedia:
    def __init__(self, media: Media, on_unavailable: Callable[[], None], backoff: Backoff = PATIENCE) -> None:
        self.media = media
        self.url = media.url
        self.on_unavailable = on_unavailable
        self.backoff = backoff

    def put(self, key: str, data: bytes) -> None:
        self._patiently(lambda: self.media.put(key, data), f"storing media {key}")

    def get(self, key: str) -> bytes:
        return self._patiently(lambda: self.media.get(key), f"reading media {key}")

    def delete(self, key: str) -> None:
        self._patiently(lambda: self.media.delete(key), f"deleting media {key}")

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """Only making the copy is tried again; an error inside the block is the caller's own."""
        with ExitStack() as copies:
            yield self._patiently(lambda: copies.enter_context(self.media.local_copy(key)), f"reading media {key}")

    def _patiently(self, call: Callable[[], T], describe: str) -> T:
        return call_with_retries(call, backoff=self.backoff, is_transient=self._not_now, describe=describe, logger=log)

    def _not_now(self, error: Exception) -> bool:
        """Whether ``error`` is worth waiting out; each one is also reported to ``on_unavailable``."""
        if not isinstance(error, MediaUnavailable):
            return False
        self.on_unavailable()
        return True
