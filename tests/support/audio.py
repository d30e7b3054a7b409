"""Recordings made on the fly: tones as WAV in any layout, and other containers via PyAV."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import av
import numpy as np


def tone(seconds: float = 0.5, rate: int = 16_000, frequency: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * np.sin(2 * np.pi * frequency * t)


def wav_of(samples: np.ndarray, rate: int = 16_000, *, sample_width: int = 2) -> bytes:
    """Float samples in [-1, 1] (1-D for mono, one column a channel otherwise) as a PCM WAV.

    The suite's one WAV writer: every recording a test or benchmark makes goes through it."""
    signal = np.clip(np.asarray(samples, dtype=np.float64), -1, 1)
    channels = 1 if signal.ndim == 1 else signal.shape[1]
    if sample_width == 1:
        frames = ((signal + 1) * 127.5).astype(np.uint8).tobytes()  # 8-bit WAV is unsigned
    else:
        full_scale = 2 ** (8 * sample_width - 1) - 1
        as_int32 = (signal * full_scale).astype("<i4")
        frames = as_int32.view(np.uint8).reshape(-1, 4)[:, :sample_width].tobytes()
    encoded = io.BytesIO()
    with wave.open(encoded, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(sample_width)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return encoded.getvalue()


def wav_samples(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit mono WAV's samples as floats in [-1, 1), and its rate."""
    with wave.open(str(path), "rb") as reader:
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").astype(np.float64)
        return samples / 32768, reader.getframerate()


def wav_bytes(seconds: float = 0.5, *, rate: int = 16_000, channels: int = 1, sample_width: int = 2) -> bytes:
    """A WAV of a sine tone with the given sample rate, channel count and bytes per sample."""
    return wav_of(np.repeat(tone(seconds, rate)[:, None], channels, axis=1), rate, sample_width=sample_width)


def encoded_bytes(container: str, codec: str, seconds: float = 0.5, rate: int = 16_000) -> bytes:
    """The same tone encoded by FFmpeg, e.g. ("flac", "flac"), ("ogg", "libvorbis"), ("mp3", "mp3")."""
    out = io.BytesIO()
    with av.open(out, "w", format=container) as output:
        stream = output.add_stream(codec, rate=rate, layout="mono")
        if not isinstance(stream, av.AudioStream):
            raise ValueError(f"{codec} is not an audio codec")
        pcm = (tone(seconds, rate) * 32767).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return out.getvalue()
