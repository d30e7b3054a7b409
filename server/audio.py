"""Checking an uploaded recording before a job is created for it, and decoding it within limits.

PyAV (FFmpeg, already brought in by faster-whisper) decodes WAV of any rate, width and channel
count, FLAC, OGG/Opus/Vorbis, MP3 and M4A/AAC. Decoding the whole upload once at submit time
turns "not audio", "empty" and "truncated beyond use" into an immediate INVALID_ARGUMENT instead
of a job that fails later.

Uploads are hostile until proven otherwise: a few kilobytes can claim hours of audio (a WAV
header saying 1 Hz, a FLAC of one silent frame repeated), so a recording is measured from its
header when the header says, and otherwise decoded one frame at a time, keeping no frame and
stopping as soon as it passes ``max_seconds``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import logging
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

log = logging.getLogger(__name__)

# FFmpeg demuxer name → (MIME type, file extension used in the media folder).
_CONTAINERS = {
    "wav": ("audio/wav", "wav"),
    "flac": ("audio/flac", "flac"),
    "ogg": ("audio/ogg", "ogg"),
    "mp3": ("audio/mpeg", "mp3"),
    "mov,mp4,m4a,3gp,3g2,mj2": ("audio/mp4", "m4a"),
    "aiff": ("audio/aiff", "aiff"),
    "matroska,webm": ("audio/webm", "webm"),
}

# FFmpeg has hundreds of demuxers, some of which open further URLs named inside the file (HLS,
# concat): only the audio containers above are probed, and nothing is read but local files.
_DEMUXER_OPTIONS = {
    "format_whitelist": ",".join(name for names in _CONTAINERS for name in names.split(",")),
    "protocol_whitelist": "file",
}

# FFmpeg's errors, and PyAV's resampler refusing a stream that changes its rate or layout midway.
_DECODER_FAILURES = (av.FFmpegError, ValueError)

NOT_READABLE = "the upload is not a readable recording (expected WAV, FLAC, OGG, MP3 or M4A; it may be truncated)"

# FFmpeg allocates what a container claims before reading it (a comment in a WAV LIST chunk claiming
# 1.5 GiB took 1.5 GiB of RAM and 6 s to zero); no real audio decode needs a single block this large,
# so bigger claims fail as ENOMEM.
MAX_FFMPEG_ALLOCATION_BYTES = 64 * 1024 * 1024

# Shorter than this cannot hold a word; it is almost always a broken upload.
MIN_DURATION_SECONDS = 0.1


class InvalidAudio(ValueError):
    """The upload is not a usable recording; the message says why in plain words."""


@dataclass(frozen=True)
class AudioInfo:
    content_type: str
    extension: str
    duration: float
    sample_rate: int
    channels: int


def inspect(recording: bytes, *, max_seconds: float) -> AudioInfo:
    """Describe ``recording`` after checking it decodes and lasts at most ``max_seconds``,
    or raise :class:`InvalidAudio`."""
    info = _inspect_pcm_wav(recording) or _inspect_by_decoding(recording, max_seconds)
    if info.duration > max_seconds:
        raise InvalidAudio(_too_long(max_seconds, info.duration))
    if info.duration < MIN_DURATION_SECONDS:
        raise InvalidAudio(f"the recording is too short ({info.duration:.2f} s of audio)")
    return info


def read_samples(path: Path, *, sample_rate: int, max_seconds: float) -> np.ndarray:
    """The recording at ``path`` as mono float32 samples at ``sample_rate``, decoded the way
    faster-whisper decodes it; raises :class:`InvalidAudio` past ``max_seconds`` of audio."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
    with _opened(str(path)) as (container, stream):
        _check_stated_duration(container, max_seconds)
        chunks = [
            resampled.to_ndarray().reshape(-1)
            for frame in _frames_within(container, stream, max_seconds)
            for resampled in resampler.resample(frame)
        ]
        chunks += [resampled.to_ndarray().reshape(-1) for resampled in resampler.resample(None)]
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def _inspect_pcm_wav(recording: bytes) -> AudioInfo | None:
    """The common case, read from the header: PCM samples always decode, so there is nothing to try.

    Gateways send WAV; skipping the decoder for it keeps Submit cheap (a 100 KB upload costs
    microseconds here instead of milliseconds). Anything the stdlib reader refuses goes to FFmpeg.
    """
    try:
        with wave.open(io.BytesIO(recording), "rb") as reader:
            frame_size = reader.getsampwidth() * reader.getnchannels()
            sample_rate, channels = reader.getframerate(), reader.getnchannels()
            # Count what arrived: the header's frame count may promise more than a truncated upload holds.
            frames = len(reader.readframes(reader.getnframes())) // frame_size
    # The stdlib reader raises RuntimeError when a chunk claims more bytes than its parent holds.
    except (wave.Error, EOFError, ZeroDivisionError, RuntimeError):
        return None
    if not sample_rate:
        return None
    return AudioInfo("audio/wav", "wav", frames / sample_rate, sample_rate, channels)


def _inspect_by_decoding(recording: bytes, max_seconds: float) -> AudioInfo:
    with _opened(io.BytesIO(recording)) as (container, stream):
        _check_stated_duration(container, max_seconds)
        seconds = sum(frame.samples / frame.sample_rate for frame in _frames_within(container, stream, max_seconds))
        content_type, extension = _CONTAINERS[container.format.name]
        sample_rate, channels = stream.rate, stream.channels
    if not sample_rate:
        raise InvalidAudio("the recording does not say its sample rate")
    return AudioInfo(content_type, extension, seconds, sample_rate, channels)


@contextmanager
def _opened(source: str | io.BytesIO) -> Iterator[tuple[av.container.InputContainer, av.AudioStream]]:
    """The container and its first audio stream; any decoding failure inside becomes InvalidAudio."""
    try:
        with av.open(source, "r", options=_DEMUXER_OPTIONS, metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise InvalidAudio("the upload has no audio track")
            yield container, container.streams.audio[0]
    except InvalidAudio:
        raise
    except _DECODER_FAILURES as error:
        raise InvalidAudio(NOT_READABLE) from error


def _check_stated_duration(container: av.container.InputContainer, max_seconds: float) -> None:
    """Refuse at once, naming the duration, when the container states one above the limit."""
    if container.duration is not None and container.duration / av.time_base > max_seconds:
        raise InvalidAudio(_too_long(max_seconds, container.duration / av.time_base))


def _frames_within(
    container: av.container.InputContainer, stream: av.AudioStream, max_seconds: float
) -> Iterator[av.AudioFrame]:
    """Decoded frames one at a time, stopping with InvalidAudio once they add up to more than
    ``max_seconds``, before the frame that passes the limit is handed on."""
    seconds = 0.0
    for frame in container.decode(stream):
        if not frame.sample_rate:
            raise InvalidAudio("the recording does not say its sample rate")
        seconds += frame.samples / frame.sample_rate
        if seconds > max_seconds:
            raise InvalidAudio(_too_long(max_seconds))
        yield frame


def _cap_ffmpeg_allocations(max_bytes: int) -> None:
    """Set libavutil's per-allocation ceiling (``av_max_alloc``) in the copy PyAV is linked to:
    the one its wheel bundles, else the system's."""
    bundled = sorted((Path(av.__file__).parent.parent / "av.libs").glob("libavutil-*"))
    library = str(bundled[0]) if bundled else ctypes.util.find_library("avutil")
    if library is None:
        log.warning("libavutil not found: FFmpeg allocations are not capped, a lying container can use much memory")
        return
    av_max_alloc = ctypes.CDLL(library).av_max_alloc
    av_max_alloc.argtypes = [ctypes.c_size_t]
    av_max_alloc(max_bytes)


_cap_ffmpeg_allocations(MAX_FFMPEG_ALLOCATION_BYTES)


def _too_long(max_seconds: float, duration: float | None = None) -> str:
    if duration is None:
        return f"the recording is longer than the server's limit of {max_seconds:g} s"
    return f"the recording is {duration:.1f} s long; the server's limit is {max_seconds:g} s"
