"""Speech-to-text backends behind one small interface.

A backend is any object with a ``name`` (recorded on every job it handles) and a blocking
``transcribe(audio_path) -> str``. It raises :class:`TranscriptionError` with a message fit for the
job's ``error`` field (plain words, never a secret); the pipeline turns any other exception into
an "internal error" message and logs the traceback.

Every backend made here sits behind a :class:`~server.transcribers.speech_gate.SpeechGate`, so a
recording without speech fails before any backend runs.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

from server.config import Settings

log = logging.getLogger(__name__)


class TranscriptionError(Exception):
    """Speech-to-text failed; ``str(error)`` is shown to users."""


class Transcriber(Protocol):
    name: str

    def transcribe(self, audio_path: Path) -> str:
        """Return what was said in the recording at ``audio_path`` (may be empty for silence)."""
        ...


def create_transcriber(settings: Settings) -> Transcriber:
    from server.transcribers.speech_gate import SpeechGate

    return SpeechGate(_create_backend(settings), max_seconds=settings.max_audio_seconds)


def _create_backend(settings: Settings) -> Transcriber:
    choice = settings.transcriber
    if choice == "auto":
        choice = "assemblyai" if os.environ.get("ASSEMBLYAI_API_KEY") else "whisper"
    if choice == "whisper":
        from server.transcribers.whisper import WhisperTranscriber

        return WhisperTranscriber(settings.whisper_model)
    if choice == "assemblyai":
        from server.transcribers.assemblyai import AssemblyAITranscriber

        return AssemblyAITranscriber.from_settings(settings)
    raise ValueError(f"unknown transcriber {settings.transcriber!r}; use auto, whisper or assemblyai")
