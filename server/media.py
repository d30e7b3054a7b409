"""The media folder: recordings and pictures on disk, named by job id, written atomically.

Files are written to a temporary name in the same directory, flushed to disk, then renamed into
place, so a crash never leaves a half-written file under a name the database points at.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in ("audio", "image"):
            (root / folder).mkdir(parents=True, exist_ok=True)

    def path(self, relative: str) -> Path:
        return self.root / relative

    def read(self, relative: str) -> bytes:
        return self.path(relative).read_bytes()

    def save_audio(self, job_id: uuid.UUID, recording: bytes, extension: str) -> str:
        return self._write(f"audio/{job_id}.{extension}", recording)

    def save_image(self, job_id: uuid.UUID, png: bytes) -> str:
        return self._write(f"image/{job_id}.png", png)

    def discard(self, relative: str) -> None:
        self.path(relative).unlink(missing_ok=True)

    def _write(self, relative: str, data: bytes) -> str:
        """Write ``data`` under ``relative`` so that the name only ever holds the complete file."""
        destination = self.path(relative)
        with tempfile.NamedTemporaryFile(dir=destination.parent, prefix=".partial-", delete=False) as temporary:
            temporary.write(data)
            temporary.flush()
            os.fsync(temporary.fileno())
        os.replace(temporary.name, destination)
        return relative
