"""Test-only speech and image backends for replica processes: stages that log what ran where, and
can take a while or hang.

They are registered through the backend registry (``server/backends.py``) like any backend, so the
real ``voxprint-server`` offers them as choices with flags and ``VOXPRINT_*`` variables of their own:

- ``--transcriber stand-in`` hears ``job <id>`` at once (the id is the recording's media key), and
  ``--illustrator stand-in`` draws a fixed picture: for tests of the service rather than of speech;
  ``--transcriber logged-whisper`` and ``--illustrator logged-pictogram`` run the offline backends;
- ``--stage-log PATH``: every stage started is appended as ``stage<TAB>job id<TAB>pid`` (short
  O_APPEND lines from several processes do not mix), so a test can tell which replica ran what, and
  how often;
- ``--hang-in STAGE`` blocks forever in that stage, so a test can ``kill -9`` the replica there;
- ``--stage-seconds S`` makes each stand-in stage take that long, as a cloud call would.

Nothing in voxprint knows of them: ``tests/support/startup/sitecustomize.py`` imports this module
when Python starts in a process whose PYTHONPATH the replica fixtures set (``tests.support.replicas``).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import click

from tests.support.backends import sample_png
from voxprint.server.backends import Backend, Option
from voxprint.server.config import Settings
from voxprint.server.illustrators import ILLUSTRATORS, Illustrator
from voxprint.server.transcribers import TRANSCRIBERS, Transcriber

STAGES = ("transcribe", "illustrate")

STAGE_LOG = Option(
    "stage_log", "Append 'stage, job id, pid' to this file as each stage starts (tests only).", click.Path()
)
HANG_IN = Option("hang_in", "Block forever in this stage (tests only).", click.Choice(STAGES))
STAGE_SECONDS = Option(
    "stage_seconds", "Seconds each stand-in stage takes (tests only).", click.FloatRange(min=0), default=0.0
)
# Declared once, on the transcribers: a flag may appear only once on the command line, and an
# option's value is read by name, so the illustrators read the same three.
OPTIONS = (STAGE_LOG, HANG_IN, STAGE_SECONDS)


class StageLog:
    def __init__(self, settings: Settings) -> None:
        path = STAGE_LOG.value(settings)
        self.path = Path(path) if path else None
        self.hang_in = HANG_IN.value(settings)
        self.seconds = STAGE_SECONDS.value(settings)

    def started(self, stage: str, job: str) -> None:
        if self.path is not None:
            with self.path.open("a") as log:
                log.write(f"{stage}\t{job}\t{os.getpid()}\n")
        if stage == self.hang_in:
            threading.Event().wait()

    def wait(self) -> None:
        time.sleep(self.seconds)


class StandInTranscriber:
    name = "stand-in"

    def __init__(self, settings: Settings) -> None:
        self.log = StageLog(settings)

    def transcribe(self, audio_path: Path, samples: Any = None) -> str:
        self.log.started("transcribe", audio_path.stem)
        self.log.wait()
        return f"job {audio_path.stem}"


class StandInIllustrator:
    name = "stand-in"

    def __init__(self, settings: Settings) -> None:
        self.log = StageLog(settings)

    def illustrate(self, transcript: str) -> bytes:
        self.log.started("illustrate", transcript.removeprefix("job "))
        self.log.wait()
        return sample_png()


class LoggedWhisper:
    def __init__(self, settings: Settings) -> None:
        from voxprint.server.transcribers.whisper import WhisperTranscriber

        self.log = StageLog(settings)
        self.inner = WhisperTranscriber(settings.whisper_model)
        self.name = self.inner.name

    def transcribe(self, audio_path: Path, samples: Any = None) -> str:
        self.log.started("transcribe", audio_path.stem)
        return self.inner.transcribe(audio_path, samples)


class LoggedPictogram:
    def __init__(self, settings: Settings) -> None:
        from voxprint.server.illustrators.pictogram import PictogramIllustrator

        self.log = StageLog(settings)
        self.inner = PictogramIllustrator()
        self.name = self.inner.name

    def illustrate(self, transcript: str) -> bytes:
        self.log.started("illustrate", transcript)
        return self.inner.illustrate(transcript)


def register() -> None:
    """Add the four backends to voxprint's registries (once per process)."""
    if "stand-in" in TRANSCRIBERS.backends:
        return
    transcribers: list[tuple[str, str, type[Transcriber]]] = [
        ("stand-in", "hears 'job <id>' at once (tests only)", StandInTranscriber),
        ("logged-whisper", "offline Whisper, logging each stage (tests only)", LoggedWhisper),
    ]
    for name, summary, transcriber in transcribers:
        TRANSCRIBERS.register(Backend(name, summary, transcriber, options=OPTIONS))
    illustrators: list[tuple[str, str, type[Illustrator]]] = [
        ("stand-in", "draws one fixed picture at once (tests only)", StandInIllustrator),
        ("logged-pictogram", "offline pictograms, logging each stage (tests only)", LoggedPictogram),
    ]
    for name, summary, illustrator in illustrators:
        ILLUSTRATORS.register(Backend(name, summary, illustrator))
