"""Voice activity detection in front of any speech-to-text backend.

Whisper asked to transcribe silence or hiss invents words ("You You You…"), and a cloud backend
bills for the minutes it listens to. The Silero VAD model that faster-whisper ships answers "is
anyone speaking?" in milliseconds, on the CPU, offline, so a recording without speech fails
before either runs. The recording is decoded here within the server's duration limit, which also
guarantees no backend behind the gate decodes more than that; the backend itself still gets the
file exactly as uploaded.
"""

from __future__ import annotations

from pathlib import Path

from faster_whisper.vad import VadOptions, get_speech_timestamps

from voxprint.server import audio
from voxprint.server.transcribers import Transcriber, TranscriptionError

# Silero VAD's native rate, and what faster-whisper resamples every recording to.
VAD_SAMPLE_RATE = 16_000

NO_SPEECH = "no speech found in the recording"


class SpeechGate:
    """A :class:`Transcriber` that hands ``backend`` only recordings in which someone speaks."""

    def __init__(self, backend: Transcriber, *, max_seconds: float, vad_options: VadOptions | None = None) -> None:
        self.backend = backend
        self.name = backend.name
        self.max_seconds = max_seconds
        self._vad_options = vad_options or VadOptions()

    def transcribe(self, audio_path: Path) -> str:
        if not self.has_speech(audio_path):
            raise TranscriptionError(NO_SPEECH)
        return self.backend.transcribe(audio_path)

    def has_speech(self, audio_path: Path) -> bool:
        try:
            samples = audio.read_samples(audio_path, sample_rate=VAD_SAMPLE_RATE, max_seconds=self.max_seconds)
        except audio.InvalidAudio as error:
            raise TranscriptionError(str(error)) from error
        return bool(get_speech_timestamps(samples, self._vad_options, sampling_rate=VAD_SAMPLE_RATE))
