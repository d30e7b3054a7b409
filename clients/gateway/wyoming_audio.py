"""A recording streamed in Wyoming events (`audio-start`, `audio-chunk`…, `audio-stop`), kept
within the gateway's recording limits and a budget shared by every connection.

The format is announced by `audio-start` and must stay the same in every chunk: signed 16-bit PCM
(what Home Assistant and wyoming-satellite send), 24- or 32-bit, 8–48 kHz, mono or stereo. A recording longer than
`--max-seconds` is refused as soon as a chunk takes it over, not buffered to the end; the budget
bounds what all connections together hold, however many there are.
"""

from __future__ import annotations

import io
import wave
from typing import Any

from voxprint.clients.gateway.assembler import AudioFormat, Limits
from voxprint.clients.gateway.protocol import SampleFormat
from voxprint.clients.gateway.wyoming_framing import Refusal

RATES = range(8_000, 48_001)
CHANNELS = (1, 2)
# Wyoming's `width` (bytes a sample) → the sample format. Not 1: 8-bit WAV is unsigned, and a
# Wyoming client sending one byte a sample would not say which it means.
SAMPLE_FORMATS = {fmt.width: fmt for fmt in (SampleFormat.S16LE, SampleFormat.S24LE, SampleFormat.S32LE)}


class AudioBudget:
    """PCM held by all recordings in progress, against one limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size


def audio_format(data: dict[str, Any]) -> AudioFormat:
    """The format an `audio-start` or `audio-chunk` announces; a Refusal when voxprint cannot take it."""
    rate, width, channels = (data.get(name) for name in ("rate", "width", "channels"))
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in (rate, width, channels)):
        raise Refusal("bad-audio", "audio needs whole numbers for rate, width and channels")
    if rate not in RATES or width not in SAMPLE_FORMATS or channels not in CHANNELS:
        raise Refusal(
            "unsupported-audio",
            "audio must be signed PCM of width 2, 3 or 4 bytes at 8000-48000 Hz, mono or stereo; "
            f"got rate {rate}, width {width}, channels {channels}",
        )
    assert isinstance(rate, int) and isinstance(width, int) and isinstance(channels, int)
    return AudioFormat(rate, channels, SAMPLE_FORMATS[width])


class WyomingRecording:
    """One utterance's PCM, growing chunk by chunk; call `release()` when done with it."""

    def __init__(self, fmt: AudioFormat, limits: Limits, budget: AudioBudget) -> None:
        self.format = fmt
        self._max_bytes = limits.max_recording_bytes(fmt)
        self._max_seconds = limits.max_seconds
        self._budget = budget
        self._chunks: list[bytes] = []
        self.size = 0

    @property
    def seconds(self) -> float:
        return self.size / (self.format.frame_size * self.format.sample_rate)

    def add(self, data: dict[str, Any], audio: bytes) -> None:
        if audio_format(data) != self.format:
            raise Refusal("bad-audio", "an audio-chunk's format differs from its audio-start's")
        if self.size + len(audio) > self._max_bytes:
            raise Refusal("too-long", f"the recording is longer than {self._max_seconds:g} s")
        if not self._budget.take(len(audio)):
            raise Refusal("busy", "the gateway holds as much audio as it may; try again shortly")
        self._chunks.append(audio)
        self.size += len(audio)

    def wav(self) -> bytes:
        """The recording as a WAV file (a trailing partial frame dropped), as the server takes it.
        The chunks go; the budget stays taken until `release()`, while the WAV is on its way."""
        pcm = b"".join(self._chunks)
        self._chunks.clear()
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(self.format.channels)
            out.setsampwidth(self.format.sample_format.width)
            out.setframerate(self.format.sample_rate)
            out.writeframes(pcm[: len(pcm) - len(pcm) % self.format.frame_size])
        return buffer.getvalue()

    def release(self) -> None:
        self._budget.give_back(self.size)
        self._chunks.clear()
        self.size = 0
