"""Specification of upload checking: what counts as a usable recording."""

from pathlib import Path

import pytest

from server.audio import InvalidAudio, inspect
from tests.audio_samples import encoded_bytes, wav_bytes


@pytest.fixture
def upload(tmp_path: Path):
    def write(data: bytes) -> Path:
        path = tmp_path / "upload"
        path.write_bytes(data)
        return path

    return write


@pytest.mark.parametrize("sample_width", [1, 2, 3, 4])
@pytest.mark.parametrize("rate, channels", [(8000, 1), (16000, 1), (44100, 2), (48000, 2)])
def test_wav_of_any_rate_width_and_channel_count_is_accepted(upload, rate, channels, sample_width):
    info = inspect(upload(wav_bytes(0.5, rate=rate, channels=channels, sample_width=sample_width)))
    assert (info.content_type, info.sample_rate, info.channels) == ("audio/wav", rate, channels)
    assert info.duration == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("container, codec, content_type", [
    ("flac", "flac", "audio/flac"),
    ("ogg", "libopus", "audio/ogg"),
    ("mp3", "mp3", "audio/mpeg"),
    ("ipod", "aac", "audio/mp4"),
])
def test_common_compressed_formats_are_accepted(upload, container, codec, content_type):
    rate = 48_000 if codec == "libopus" else 16_000
    info = inspect(upload(encoded_bytes(container, codec, 1.0, rate)))
    assert info.content_type == content_type
    assert info.duration == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("data", [b"hello, this is a text file\n" * 50, bytes(4096), b"\x89PNG\r\n\x1a\n" + bytes(200)],
                         ids=["text", "zeros", "png"])
def test_bytes_that_are_not_audio_are_rejected_with_a_reason(upload, data):
    with pytest.raises(InvalidAudio, match="not a readable recording|no audio track"):
        inspect(upload(data))


def test_wav_cut_inside_its_header_is_rejected(upload):
    with pytest.raises(InvalidAudio):
        inspect(upload(wav_bytes(1.0)[:30]))


def test_recording_without_samples_is_rejected_as_too_short(upload):
    with pytest.raises(InvalidAudio, match="too short"):
        inspect(upload(wav_bytes(0.0)))


def test_truncated_wav_keeps_the_audio_that_arrived(upload):
    whole = wav_bytes(1.0)
    info = inspect(upload(whole[: len(whole) // 2]))
    assert info.duration == pytest.approx(0.5, abs=0.01)
