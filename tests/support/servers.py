"""A real voxprint server running in-process on loopback, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from voxprint.server.app import MAX_SEND_MESSAGE_BYTES, VoxprintServer
from voxprint.server.config import Settings
from voxprint.server.illustrators import Illustrator
from voxprint.server.transcribers import Transcriber
from voxprint.v1 import voxprint_pb2, voxprint_pb2_grpc

CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_SEND_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_SEND_MESSAGE_BYTES),
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


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    """``server_factory(**settings_overrides)`` starts a real server on 127.0.0.1 (random port).

    Each server gets the same fresh data dir of this test unless ``data_dir`` is overridden, so a
    second server in one test restarts on the first one's database. ``transcriber=`` and
    ``illustrator=`` take a backend object to inject, or a name ("auto", "assemblyai", ...) that
    the server resolves from its settings as in production; anything else overrides Settings.
    All servers are stopped at teardown.
    """
    started: list[RunningServer] = []

    def start(*, transcriber=None, illustrator=None, **overrides) -> RunningServer:
        overrides.setdefault("data_dir", tmp_path / "data")
        if isinstance(transcriber, str):
            overrides["transcriber"], transcriber = transcriber, None
        if isinstance(illustrator, str):
            overrides["illustrator"], illustrator = illustrator, None
        server = RunningServer(offline_settings(**overrides), transcriber=transcriber, illustrator=illustrator)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


#: The token of ``guarded_server``.
GUARD_TOKEN = "s3cret-token-0123456789"


@pytest.fixture
def guarded_server(server_factory, monkeypatch) -> RunningServer:
    """A server on scripted backends that answers only calls carrying ``GUARD_TOKEN``."""
    monkeypatch.setenv("VOXPRINT_AUTH_TOKEN", GUARD_TOKEN)
    return server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
