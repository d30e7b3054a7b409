"""Speech-to-text backends behind one small interface.

A backend is any object with a ``name`` (recorded on every job it handles) and a blocking
``transcribe(audio_path, samples=None) -> str``. It raises :class:`TranscriptionError` with a
message fit for the job's ``error`` field (plain words, never a secret); the pipeline turns any
other exception into an "internal error" message and logs the traceback.

Every backend made here sits behind a :class:`~server.transcribers.speech_gate.SpeechGate`, so a
recording without speech fails before any backend runs. The gate decodes the recording once and
hands the backend both the recording as uploaded (``audio_path``, for a backend that sends it
elsewhere) and its speech as ``samples`` (for one that listens itself), so nothing is decoded, nor
searched for a voice, twice.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

import click
import numpy as np
import numpy.typing as npt

from voxprint.server.backends import Backend, Option, Registry
from voxprint.server.config import Settings

log = logging.getLogger(__name__)


class TranscriptionError(Exception):
    """Speech-to-text failed; ``str(error)`` is shown to users."""


SAMPLE_RATE = 16_000
"""The rate of the samples a transcriber is handed: Whisper's and Silero VAD's own."""

Samples = npt.NDArray[np.float32]
"""Mono float32 audio in [-1, 1] at SAMPLE_RATE."""


class Transcriber(Protocol):
    name: str

    def transcribe(self, audio_path: Path, samples: Samples | None = None) -> str:
        """Return what was said in the recording at ``audio_path`` (may be empty for silence).

        ``samples``, when given, is the recording's speech already decoded (and cut to where
        someone speaks): a backend that listens itself uses it rather than decoding the file
        again; one that sends audio elsewhere sends ``audio_path``, exactly as uploaded."""
        ...


TRANSCRIBERS: Registry[Transcriber] = Registry("transcriber", title="Speech-to-text backend", fallback="whisper")


def create_transcriber(settings: Settings) -> Transcriber:
    from voxprint.server.transcribers.speech_gate import SpeechGate

    return SpeechGate(TRANSCRIBERS.create(settings), max_seconds=settings.max_audio_seconds)


# The built-in backends. Each factory imports its module only when chosen, so neither --help nor
# the other backend pays for a model runtime or an SDK it does not use.


def _whisper(settings: Settings) -> Transcriber:
    from voxprint.server.transcribers.whisper import WhisperTranscriber

    return WhisperTranscriber(settings.whisper_model)


def _assemblyai(settings: Settings) -> Transcriber:
    from voxprint.server.transcribers.assemblyai import AssemblyAITranscriber

    return AssemblyAITranscriber.from_settings(settings)


TRANSCRIBERS.register(
    Backend(
        "whisper",
        "offline faster-whisper",
        _whisper,
        options=(
            Option(
                "whisper_model",
                "'base' (the default), 'tiny.en' (faster, less accurate; for slower machines) or a"
                " CTranslate2 Whisper model directory.",
            ),
        ),
    )
)
TRANSCRIBERS.register(
    Backend(
        "assemblyai",
        "AssemblyAI's service (needs ASSEMBLYAI_API_KEY)",
        _assemblyai,
        options=(
            Option("assemblyai_base_url", "AssemblyAI API base URL."),
            Option(
                "assemblyai_poll_interval", "Seconds between AssemblyAI transcript polls.", click.FloatRange(min=0.05)
            ),
            Option(
                "assemblyai_timeout",
                "Give up on an AssemblyAI transcription after this many seconds.",
                click.FloatRange(min=1),
            ),
        ),
        preferred=lambda: bool(os.environ.get("ASSEMBLYAI_API_KEY")),
    )
)
