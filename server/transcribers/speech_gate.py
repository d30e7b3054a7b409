"""Voice activity detection in front of any speech-to-text backend, and the one decode of a recording.

Whisper asked to transcribe silence or hiss invents words ("You You You…"), and a cloud backend
bills for the minutes it listens to. The Silero VAD model that faster-whisper ships answers "is
anyone speaking, and when?" in milliseconds, on the CPU, offline, so a recording without speech
fails before either runs.

The gate decodes the recording once, within the server's duration limit (so no backend behind it
decodes more than that), runs the voice detector once, and hands the backend two things: the file
exactly as uploaded (what a cloud backend sends) and the speech as samples, cut to where someone
speaks with the silence before, after and between longer pauses left out (what Whisper hears).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from voxprint.server import audio
from voxprint.server.transcribers import SAMPLE_RATE, Samples, Transcriber, TranscriptionError

# Silero VAD's native rate, and Whisper's.
VAD_SAMPLE_RATE = SAMPLE_RATE

NO_SPEECH = "no speech found in the recording"


class SpeechGate:
    """A :class:`Transcriber` that hands ``backend`` only recordings in which someone speaks,
    with that speech already decoded."""

    def __init__(
        self, backend: Transcriber, *, max_seconds: float, vad_options: VadOptions | None = None, trim: bool = True
    ) -> None:
        self.backend = backend
        self.name = backend.name
        self.max_seconds = max_seconds
        # Silero's defaults, as faster-whisper's own ``vad_filter`` uses them: speech is padded by
        # 0.4 s each side, and pauses under 2 s stay in.
        self._vad_options = vad_options or VadOptions()
        # False: the backend hears the whole recording (the benchmark's --no-vad).
        self.trim = trim

    def transcribe(self, audio_path: Path, samples: Samples | None = None) -> str:
        return self.backend.transcribe(audio_path, self.speech(audio_path, samples))

    def speech(self, audio_path: Path, samples: Samples | None = None) -> Samples:
        """The speech in the recording at ``audio_path`` (decoded from it unless ``samples`` are
        given), or :class:`TranscriptionError` if nobody speaks in it or it cannot be decoded."""
        if samples is None:
            try:
                samples = audio.read_samples(audio_path, sample_rate=SAMPLE_RATE, max_seconds=self.max_seconds)
            except audio.InvalidAudio as error:
                raise TranscriptionError(str(error)) from error
        spoken = get_speech_timestamps(samples, self._vad_options, sampling_rate=SAMPLE_RATE)
        if not spoken:
            raise TranscriptionError(NO_SPEECH)
        if not self.trim:
            return samples
        return np.concatenate([samples[part["start"] : part["end"]] for part in spoken])

    def warm_up(self) -> None:
        """Load the voice detector and the backend's model now, if it has one, rather than in the
        first job."""
        get_speech_timestamps(np.zeros(SAMPLE_RATE // 2, np.float32), self._vad_options, sampling_rate=SAMPLE_RATE)
        warm_up = getattr(self.backend, "warm_up", None)
        if warm_up is not None:
            warm_up()
