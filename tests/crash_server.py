"""A voxprint server process for the crash-recovery tests (``python -m tests.crash_server``).

It uses the real offline backends, logs every transcription it starts to ``--count-file``, and can
be told to hang in one stage so the test can ``kill -9`` it there. It prints its port when ready.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
from pathlib import Path

from server.app import VoxprintServer
from server.illustrators.pictogram import PictogramIllustrator
from server.transcribers.whisper import WhisperTranscriber
from tests.servers import offline_settings


class LoggedTranscriber(WhisperTranscriber):
    def __init__(self, count_file: Path, hang: bool) -> None:
        super().__init__()
        self.count_file, self.hang = count_file, hang

    def transcribe(self, audio_path: Path) -> str:
        with self.count_file.open("a") as log:
            log.write(f"{audio_path.name}\n")
        if self.hang:
            threading.Event().wait()
        return super().transcribe(audio_path)


class HangingIllustrator(PictogramIllustrator):
    def illustrate(self, transcript: str) -> bytes:
        threading.Event().wait()
        raise AssertionError("unreachable")


async def serve(arguments: argparse.Namespace) -> None:
    server = VoxprintServer(
        offline_settings(arguments.data_dir),
        transcriber=LoggedTranscriber(arguments.count_file, hang=arguments.hang == "transcribe"),
        illustrator=HangingIllustrator() if arguments.hang == "illustrate" else PictogramIllustrator(),
    )
    print(await server.start(), flush=True)
    await server.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--count-file", type=Path, required=True)
    parser.add_argument("--hang", choices=["transcribe", "illustrate"])
    asyncio.run(serve(parser.parse_args()))
