"""A real voxprint server running in-process on loopback, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path

import grpc

from server.app import MAX_MESSAGE_BYTES, VoxprintServer
from server.config import Settings
from server.illustrators import Illustrator
from server.transcribers import Transcriber
from voxprint.v1 import voxprint_pb2, voxprint_pb2_grpc

CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]


class RunningServer:
    """Starts a VoxprintServer on its own event-loop thread; ``stop`` shuts it down cleanly."""

    def __init__(
        self, settings: Settings, *, transcriber: Transcriber | None = None, illustrator: Illustrator | None = None
    ) -> None:
        self.settings = settings
        self.stopped = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="voxprint-test-server", daemon=True)
        self._thread.start()
        self.server = VoxprintServer(settings, transcriber=transcriber, illustrator=illustrator)
        port = self._call(self.server.start())
        self.target = f"127.0.0.1:{port}"
        self.channel = grpc.insecure_channel(self.target, options=CHANNEL_OPTIONS)
        self.stub = voxprint_pb2_grpc.VoxprintStub(self.channel)

    def _call(self, coroutine, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stored_media(self, folder: str) -> list[Path]:
        """The files in one folder ("audio", "image") of the server's local media directory."""
        directory = self.settings.media_dir / folder
        return sorted(directory.iterdir()) if directory.exists() else []

    def stop(self) -> None:
        """Shut the server down as SIGTERM would; calling it again does nothing."""
        if self.stopped:
            return
        self.stopped = True
        self.channel.close()
        self._call(self.server.stop(grace=2.0))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def offline_settings(data_dir: Path, **overrides) -> Settings:
    """Offline backends named explicitly, so API keys in the environment change nothing."""
    base = Settings(listen="127.0.0.1:0", data_dir=data_dir, transcriber="whisper", illustrator="pictogram")
    return replace(base, **overrides)


def submit_requests(
    data: bytes,
    *,
    filename: str = "recording.wav",
    request_id: str = "",
    chunk_size: int = 64 * 1024,
    width: int = 0,
    dither: voxprint_pb2.Dither.ValueType = voxprint_pb2.DITHER_UNSPECIFIED,
):
    """The request stream of a Submit: metadata first, then the audio in chunks."""
    options = voxprint_pb2.PrintOptions(width=width, dither=dither)
    yield voxprint_pb2.SubmitRequest(
        metadata=voxprint_pb2.SubmitMetadata(filename=filename, request_id=request_id, options=options)
    )
    for start in range(0, len(data), chunk_size):
        yield voxprint_pb2.SubmitRequest(audio_chunk=data[start : start + chunk_size])


def watch_events(
    stub: voxprint_pb2_grpc.VoxprintStub, job_id: str, timeout: float = 120
) -> list[voxprint_pb2.JobEvent]:
    """Every event of a Watch stream, until the server ends it."""
    return list(stub.Watch(voxprint_pb2.WatchRequest(job_id=job_id), timeout=timeout))
