"""The media folder: recordings and pictures on disk, named by job id, written atomically.

Files are written to a temporary name in the same directory, flushed to disk, then renamed into
place, so a crash never leaves a half-written file under a name the database points at.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import IO


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in ("audio", "image", "incoming"):
            (root / folder).mkdir(parents=True, exist_ok=True)

    def path(self, relative: str) -> Path:
        return self.root / relative

    def read(self, relative: str) -> bytes:
        return self.path(relative).read_bytes()

    def incoming(self) -> IO[bytes]:
        """A temporary file for an upload in progress; ``keep_audio`` moves it into place."""
        return tempfile.NamedTemporaryFile(dir=self.root / "incoming", prefix="upload-", delete=False)

    def keep_audio(self, upload: Path, job_id: uuid.UUID, extension: str) -> str:
        relative = f"audio/{job_id}.{extension}"
        _sync_and_rename(upload, self.path(relative))
        return relative

    def save_image(self, job_id: uuid.UUID, png: bytes) -> str:
        relative = f"image/{job_id}.png"
        with tempfile.NamedTemporaryFile(dir=self.root / "image", delete=False) as temporary:
            temporary.write(png)
        _sync_and_rename(Path(temporary.name), self.path(relative))
        return relative

    def discard(self, path: Path) -> None:
        path.unlink(missing_ok=True)


def _sync_and_rename(source: Path, destination: Path) -> None:
    with open(source, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(source, destination)
