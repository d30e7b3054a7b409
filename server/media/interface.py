"""What every media backend offers, the errors it raises, and which keys it accepts.

Kept apart from ``server.media`` (which re-exports all of it) so the backends can import it while
the package itself imports the backends.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

# Relative names such as ``audio/<job-id>.wav``: safe as a file path below the media root and as
# an S3 object name, whatever the backend.
_KEY_CHARACTERS = re.compile(r"[A-Za-z0-9._/-]+")


class MediaError(Exception):
    """Storing or reading media failed. The message is safe to show a client: no paths, no secrets."""


class MediaMissing(MediaError):
    """The key holds nothing: the media were never stored, or were lost."""


class MediaFull(MediaError):
    """The storage has no room (or quota) left for the data."""


class MediaUnavailable(MediaError):
    """The storage cannot be reached or answered "not now" (a refused connection, a timeout, a 5xx,
    throttling): the same call may well work a little later."""


class Media(Protocol):
    """Recordings and pictures stored under keys; safe to use from many threads at once."""

    url: str
    """Where the media live, e.g. ``file:///var/lib/voxprint/media`` or ``s3://bucket/prefix``; never a secret."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically: readers see the old data or all of the new, never part."""

    def get(self, key: str) -> bytes:
        """The data stored under ``key``; MediaMissing if there is none."""

    def delete(self, key: str) -> None:
        """Remove ``key``; a key that holds nothing is not an error."""

    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A readable local file holding the data under ``key`` while the context lasts."""


def check_key(key: str) -> str:
    """``key`` itself if it is a relative name of ``[A-Za-z0-9._/-]`` without ``.``/``..``/empty parts."""
    if not _KEY_CHARACTERS.fullmatch(key) or any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"invalid media key {key!r}: use a relative name of letters, digits and ._/-")
    return key
