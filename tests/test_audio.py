"""Specification of upload checking: what counts as a usable recording."""

import pytest

from server.audio import InvalidAudio, inspect
from tests.audio_samples import encoded_bytes, wav_bytes


@pytest.mark.parametrize("sample_width", [1, 2, 3, 4])
@pytest.mark.parametrize("rate, channels", [(8000, 1), (16000, 1), (44100, 2), (48000, 2)])
def test_wav_of_any_rate_width_and_channel_count_is_accepted(rate, channels, sample_width):
    info = inspect(wav_bytes(0.5, rate=rate, channels=channels, sample_width=sample_width))
    assert (info.content_type, info.sample_rate, info.channels) == ("audio/wav", rate, channels)
    assert info.duration == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    "container, codec, content_type",
    [
        ("flac", "flac", "audio/flac"),
        ("ogg", "libopus", "audio/ogg"),
        ("mp3", "mp3", "audio/mpeg"),
        ("ipod", "aac", "audio/mp4"),
    ],
)
def test_common_compressed_formats_are_accepted(container, codec, content_type):
    rate = 48_000 if codec == "libopus" else 16_000
    info = inspect(encoded_bytes(container, codec, 1.0, rate))
    assert info.content_type == content_type
    assert info.duration == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(
    "data",
    [b"hello, this is a text file\n" * 50, bytes(4096), b"\x89PNG\r\n\x1a\n" + bytes(200)],
    ids=["text", "zeros", "png"],
)
def test_bytes_that_are_not_audio_are_rejected_with_a_reason(data):
    with pytest.raises(InvalidAudio, match="not a readable recording|no audio track"):
        inspect(data)


def test_wav_cut_inside_its_header_is_rejected():
    with pytest.raises(InvalidAudio):
        inspect(wav_bytes(1.0)[:30])


def test_recording_without_samples_is_rejected_as_too_short():
    with pytest.raises(InvalidAudio, match="too short"):
        inspect(wav_bytes(0.0))


def test_truncated_wav_keeps_the_audio_that_arrived():
    whole = wav_bytes(1.0)
    info = inspect(whole[: len(whole) // 2])
    assert info.duration == pytest.approx(0.5, abs=0.01)
