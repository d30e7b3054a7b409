"""Media in a directory: one file per key, written atomically and durably.

A file is written under a temporary name in its own directory, flushed to disk, renamed into place,
and then the directory itself is flushed, so neither a crash nor a power cut leaves a half-written
file (or a lost rename) under a name the database points at.
"""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from voxprint.server.media.interface import MediaError, MediaFull, MediaMissing, check_key
from voxprint.server.permissions import PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE, private_folder

# Temporary files start with this; they never outlive the write that made them.
PARTIAL_PREFIX = ".partial-"


class LocalMedia:
    def __init__(self, root: Path) -> None:
        self.root = root.absolute()
        private_folder(self.root)
        self.url = self.root.as_uri()

    def put(self, key: str, data: bytes) -> None:
        destination = self._file(key)
        with _storage_errors(key):
            self._make_directory(destination.parent)
            temporary = destination.with_name(f"{PARTIAL_PREFIX}{uuid.uuid4().hex}")
            try:
                with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE), "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, destination)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
            _fsync_directory(destination.parent)

    def get(self, key: str) -> bytes:
        file = self._file(key)
        with _storage_errors(key):
            return file.read_bytes()

    def delete(self, key: str) -> None:
        file = self._file(key)
        with _storage_errors(key):
            file.unlink(missing_ok=True)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """The stored file itself: nothing to copy on a local disk."""
        file = self._file(key)
        if not file.is_file():
            raise MediaMissing(f"media {key!r} is missing")
        yield file

    def _file(self, key: str) -> Path:
        return self.root / check_key(key)

    def _make_directory(self, directory: Path) -> None:
        """Create ``directory`` and any missing parents, each one durably linked into its parent."""
        if directory.is_dir():
            return
        self._make_directory(directory.parent)
        directory.mkdir(exist_ok=True, mode=PRIVATE_FOLDER_MODE)
        _fsync_directory(directory.parent)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def _storage_errors(key: str) -> Iterator[None]:
    """Turn the OS's errors into media errors whose messages name the key, never a server path."""
    try:
        yield
    except FileNotFoundError as error:
        raise MediaMissing(f"media {key!r} is missing") from error
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise MediaFull("no space left for media") from error
        raise MediaError(f"media {key!r} could not be stored or read: {error.strerror}") from error
