"""Recordings crafted to hurt the server, made on the fly, and the memory yardstick they are held to.

Each bomb is small on the wire and claims or decodes to far more audio than any limit allows:
a WAV whose header says 1 Hz, a FLAC that repeats one silent frame for 48 minutes (with its
header saying 1 s, or the truth), a WAV whose LIST chunk claims 4 GiB and holds a comment claiming 1.5 GiB. Silence and low noise
are the recordings with no speech in them.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from tests.support.audio import wav_bytes, wav_of

MIB = 1024 * 1024
# Issue 10: RSS growth while handling any bomb stays under this.
RSS_GROWTH_TARGET = 300 * MIB

FLAC_RATE = 16_000
# STREAMINFO follows "fLaC" and its 4-byte block header; total samples are its bits 108..143.
_STREAMINFO_OFFSET = 8
_TOTAL_SAMPLES_BYTE = _STREAMINFO_OFFSET + 13


def silence_wav(seconds: float = 5.0, rate: int = 16_000) -> bytes:
    return wav_of(np.zeros(int(seconds * rate)), rate)


def low_noise_wav(seconds: float = 5.0, rate: int = 16_000, level: float = 0.01) -> bytes:
    """White noise at ``level`` of full scale: a quiet room, a fan."""
    return wav_of(np.random.default_rng(10).normal(0.0, level, int(seconds * rate)), rate)


def wav_claiming_one_hertz(size: int = 10_000) -> bytes:
    """A ``size``-byte 16-bit WAV whose header says 1 sample per second: ~size/2 seconds of audio."""
    header_rate = struct.pack("<II", 1, 2)  # sample rate, byte rate
    honest = wav_bytes(size / 2 / 16_000)
    return honest[:24] + header_rate + honest[32:]


def wav_with_lying_list_chunk(list_size: int = 0xFFFFFFF0, comment_size: int = 0x60000000) -> bytes:
    """A valid 1 s WAV with a LIST chunk, before the samples, claiming ``list_size`` bytes; inside
    it, a comment claiming ``comment_size`` bytes (FFmpeg allocates and zeroes what it claims)."""
    honest = wav_bytes(1.0)
    fmt_end = 12 + 8 + 16
    info = b"INFO" + b"ICMT" + struct.pack("<I", comment_size)
    lying = honest[:fmt_end] + b"LIST" + struct.pack("<I", list_size) + info + honest[fmt_end:]
    return lying[:4] + struct.pack("<I", len(lying) - 8) + lying[8:]


def flac_of_one_frame_repeated(minutes: float = 48.0, *, honest_header: bool = False) -> bytes:
    """One silent FLAC frame repeated to last ``minutes`` (~440 KB for 48 min). The header is
    that of a 1 s recording, or, with ``honest_header``, states the real sample count."""
    header, frame, frame_samples = _silent_flac_parts()
    repeats = int(minutes * 60 * FLAC_RATE / frame_samples)
    if honest_header:
        header = _with_total_samples(header, repeats * frame_samples)
    return header + frame * repeats


def _silent_flac_parts() -> tuple[bytes, bytes, int]:
    """The metadata of a 1 s silent FLAC, its first frame, and the samples that frame holds."""
    encoded = io.BytesIO()
    with av.open(encoded, "w", format="flac") as output:
        stream = output.add_stream("flac", rate=FLAC_RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, FLAC_RATE), np.int16), format="s16", layout="mono")
        frame.sample_rate = FLAC_RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            output.mux(packet)
    whole = encoded.getvalue()
    with av.open(io.BytesIO(whole), "r") as container:
        first = next(packet for packet in container.demux(container.streams.audio[0]) if packet.size)
        first_frame = bytes(first)
        frame_samples = next(iter(first.decode())).samples
    return whole[: whole.index(first_frame)], first_frame, frame_samples


def _with_total_samples(header: bytes, total: int) -> bytes:
    # Total samples are the low 36 bits of the 5 bytes after sample rate, channels and depth.
    field = int.from_bytes(header[_TOTAL_SAMPLES_BYTE : _TOTAL_SAMPLES_BYTE + 5], "big")
    field = (field & ~(2**36 - 1)) | total
    return header[:_TOTAL_SAMPLES_BYTE] + field.to_bytes(5, "big") + header[_TOTAL_SAMPLES_BYTE + 5 :]


BOMBS: dict[str, Callable[[], bytes]] = {
    "wav-header-1-hz": wav_claiming_one_hertz,
    "flac-repeated-frame-48-min": flac_of_one_frame_repeated,
    "flac-repeated-frame-48-min-honest-header": lambda: flac_of_one_frame_repeated(honest_header=True),
    "wav-list-chunk-4-gib": wav_with_lying_list_chunk,
}


def write(data: bytes, path: Path) -> Path:
    path.write_bytes(data)
    return path


def reset_peak_rss() -> int:
    """Restart this process's peak-RSS mark (VmHWM) from its current RSS, and return that RSS."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_bytes("VmRSS")


def peak_rss() -> int:
    """The most memory this process has held since start or the last :func:`reset_peak_rss`."""
    return _status_bytes("VmHWM")


def _status_bytes(field: str) -> int:
    kilobytes = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    assert kilobytes, f"/proc/self/status has no {field}"
    return int(kilobytes[1]) * 1024
