"""One voxprint replica as a real process, for the crash and scale-out tests.

``python -m tests.support.replica_process --data-dir D [--database URL] [--media-url URL] ...`` starts a
VoxprintServer and prints its port when it serves. Every stage it starts is appended to
``--stage-log`` as tab-separated ``stage, job id, pid`` (O_APPEND lines from several processes do not mix),
so a test can tell which replica ran what, and how often. ``--hang STAGE`` makes this replica
block forever in that stage, so the test can ``kill -9`` it there.

Backends: ``--backends offline`` runs the real Whisper and pictogram backends; ``stand-in``
answers at once (the transcript names the job, read from the recording's media key), for tests
about the service rather than speech.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
from pathlib import Path

from tests.support.backends import sample_png
from tests.support.servers import offline_settings
from voxprint.server.app import VoxprintServer
from voxprint.server.illustrators.pictogram import PictogramIllustrator


class StageLog:
    def __init__(self, path: Path, hang: str | None) -> None:
        self.path, self.hang = path, hang

    def started(self, stage: str, job: str) -> None:
        with self.path.open("a") as log:
            log.write(f"{stage}\t{job}\t{os.getpid()}\n")
        if stage == self.hang:
            threading.Event().wait()


class LoggedTranscriber:
    def __init__(self, log: StageLog, backends: str) -> None:
        self.log = log
        if backends == "offline":
            from voxprint.server.transcribers.whisper import WhisperTranscriber

            self.inner: WhisperTranscriber | None = WhisperTranscriber()
        else:
            self.inner = None
        self.name = self.inner.name if self.inner else "stand-in"

    def transcribe(self, audio_path: Path) -> str:
        self.log.started("transcribe", audio_path.stem)
        return self.inner.transcribe(audio_path) if self.inner else f"job {audio_path.stem}"


class LoggedIllustrator:
    def __init__(self, log: StageLog, backends: str) -> None:
        self.log = log
        self.inner = PictogramIllustrator() if backends == "offline" else None
        self.name = self.inner.name if self.inner else "stand-in"

    def illustrate(self, transcript: str) -> bytes:
        self.log.started("illustrate", transcript.removeprefix("job "))
        return self.inner.illustrate(transcript) if self.inner else sample_png()


async def serve(arguments: argparse.Namespace) -> None:
    log = StageLog(arguments.stage_log, arguments.hang)
    overrides = {"lease_seconds": arguments.lease_seconds}
    if arguments.database:
        overrides["database_url"] = arguments.database
    if arguments.media_url:
        overrides["media_url"] = arguments.media_url
    server = VoxprintServer(
        offline_settings(arguments.data_dir, **overrides),
        transcriber=LoggedTranscriber(log, arguments.backends),
        illustrator=LoggedIllustrator(log, arguments.backends),
    )
    print(await server.start(), flush=True)
    await server.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--stage-log", type=Path, required=True)
    parser.add_argument("--database")
    parser.add_argument("--media-url")
    parser.add_argument("--lease-seconds", type=float, default=30.0)
    parser.add_argument("--backends", choices=["offline", "stand-in"], default="offline")
    parser.add_argument("--hang", choices=["transcribe", "illustrate"])
    asyncio.run(serve(parser.parse_args()))
