"""Checking an uploaded recording before a job is created for it.

PyAV (FFmpeg, already brought in by faster-whisper) decodes WAV of any rate, width and channel
count, FLAC, OGG/Opus/Vorbis, MP3 and M4A/AAC. Decoding the whole upload once at submit time
turns "not audio", "empty" and "truncated beyond use" into an immediate INVALID_ARGUMENT instead
of a job that fails later.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import av

# FFmpeg demuxer name → (MIME type, file extension used in the media folder).
_CONTAINERS = {
    "wav": ("audio/wav", "wav"),
    "flac": ("audio/flac", "flac"),
    "ogg": ("audio/ogg", "ogg"),
    "mp3": ("audio/mpeg", "mp3"),
    "mov,mp4,m4a,3gp,3g2,mj2": ("audio/mp4", "m4a"),
    "aiff": ("audio/aiff", "aiff"),
    "webm": ("audio/webm", "webm"),
    "matroska,webm": ("audio/webm", "webm"),
}

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


def inspect(recording: bytes) -> AudioInfo:
    """Describe ``recording`` after checking it decodes, or raise :class:`InvalidAudio`."""
    info = _inspect_pcm_wav(recording) or _inspect_by_decoding(recording)
    if info.duration < MIN_DURATION_SECONDS:
        raise InvalidAudio(f"the recording is too short ({info.duration:.2f} s of audio)")
    return info


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
    except (wave.Error, EOFError, ZeroDivisionError):
        return None
    if not sample_rate:
        return None
    return AudioInfo("audio/wav", "wav", frames / sample_rate, sample_rate, channels)


def _inspect_by_decoding(recording: bytes) -> AudioInfo:
    try:
        with av.open(io.BytesIO(recording)) as container:
            if not container.streams.audio:
                raise InvalidAudio("the upload has no audio track")
            stream = container.streams.audio[0]
            samples = sum(frame.samples for frame in container.decode(stream))
            content_type, extension = _CONTAINERS.get(container.format.name, ("application/octet-stream", "audio"))
            sample_rate, channels = stream.rate, stream.channels
    except av.FFmpegError as error:
        raise InvalidAudio(
            "the upload is not a readable recording (expected WAV, FLAC, OGG, MP3 or M4A; it may be truncated)"
        ) from error
    if not sample_rate:
        raise InvalidAudio("the recording does not say its sample rate")
    return AudioInfo(content_type, extension, samples / sample_rate, sample_rate, channels)
