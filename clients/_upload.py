"""Turning a recording (a path, bytes or a binary file) into a Submit request stream.

Shared by the sync and the asyncio client. The source is opened (and its size measured) before
the call starts, so a missing file is a plain ``OSError`` here rather than an opaque
"exception iterating requests" from inside gRPC.
"""

from __future__ import annotations

import io
import mimetypes
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from voxprint.v1 import voxprint_pb2

from ._requests import print_options

#: Big enough that per-message overhead is noise, small enough that the progress bar moves and
#: no message comes near gRPC's 4 MiB cap.
CHUNK_SIZE = 256 * 1024

AudioSource = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO
#: Called after each chunk is handed to gRPC with (bytes sent, total bytes or None if unknown).
ProgressCallback = Callable[[int, int | None], None]


@dataclass
class Upload:
    """An opened recording: where its bytes come from, what to call it, how big it is."""

    stream: BinaryIO
    filename: str
    total: int | None
    _closer: ExitStack = field(default_factory=ExitStack)

    def close(self) -> None:
        self._closer.close()

    def __enter__(self) -> Upload:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_upload(source: AudioSource, filename: str | None = None) -> Upload:
    """Open ``source`` for reading; ``filename`` overrides the name taken from a path or file."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return Upload(io.BytesIO(data), filename or "recording", len(data))
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        upload = Upload(path.open("rb"), filename or path.name, path.stat().st_size)
        upload._closer.callback(upload.stream.close)
        return upload
    return Upload(source, filename or Path(str(getattr(source, "name", "recording"))).name, _remaining(source))


def _remaining(stream: BinaryIO) -> int | None:
    """Bytes left in a seekable file; None for pipes and sockets."""
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return end - here
    except (OSError, AttributeError):
        return None


def build_metadata(
    upload: Upload,
    *,
    request_id: str | None = None,
    width: int | None = None,
    dither: str | int | None = None,
) -> voxprint_pb2.SubmitMetadata:
    content_type, _ = mimetypes.guess_type(upload.filename)
    return voxprint_pb2.SubmitMetadata(
        filename=upload.filename,
        content_type=content_type or "",
        request_id=request_id or "",
        options=print_options(width, dither),
    )


def submit_requests(
    upload: Upload,
    metadata: voxprint_pb2.SubmitMetadata,
    progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[voxprint_pb2.SubmitRequest]:
    """The metadata message, then the recording in ``chunk_size`` slices."""
    yield voxprint_pb2.SubmitRequest(metadata=metadata)
    sent = 0
    if progress is not None:
        progress(sent, upload.total)
    while chunk := upload.stream.read(chunk_size):
        yield voxprint_pb2.SubmitRequest(audio_chunk=chunk)
        sent += len(chunk)
        if progress is not None:
            progress(sent, upload.total)
