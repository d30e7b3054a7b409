"""Specification of upload checking: what counts as a usable recording, and how long it may be."""

import pytest

from tests.support.audio import encoded_bytes, wav_bytes
from tests.support.hostile_audio import flac_of_one_frame_repeated, wav_claiming_one_hertz, wav_with_lying_list_chunk
from voxprint.server.audio import InvalidAudio, inspect, read_samples

LIMIT = 60.0


@pytest.mark.parametrize("sample_width", [1, 2, 3, 4])
@pytest.mark.parametrize("rate, channels", [(8000, 1), (16000, 1), (44100, 2), (48000, 2)])
def test_wav_of_any_rate_width_and_channel_count_is_accepted(rate, channels, sample_width):
    info = inspect(wav_bytes(0.5, rate=rate, channels=channels, sample_width=sample_width), max_seconds=LIMIT)
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
    info = inspect(encoded_bytes(container, codec, 1.0, rate), max_seconds=LIMIT)
    assert info.content_type == content_type
    assert info.duration == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(
    "data",
    [b"hello, this is a text file\n" * 50, bytes(4096), b"\x89PNG\r\n\x1a\n" + bytes(200)],
    ids=["text", "zeros", "png"],
)
def test_bytes_that_are_not_audio_are_rejected_with_a_reason(data):
    with pytest.raises(InvalidAudio, match="not a readable recording|no audio track"):
        inspect(data, max_seconds=LIMIT)


def test_wav_cut_inside_its_header_is_rejected():
    with pytest.raises(InvalidAudio):
        inspect(wav_bytes(1.0)[:30], max_seconds=LIMIT)


def test_recording_without_samples_is_rejected_as_too_short():
    with pytest.raises(InvalidAudio, match="too short"):
        inspect(wav_bytes(0.0), max_seconds=LIMIT)


def test_truncated_wav_keeps_the_audio_that_arrived():
    whole = wav_bytes(1.0)
    info = inspect(whole[: len(whole) // 2], max_seconds=LIMIT)
    assert info.duration == pytest.approx(0.5, abs=0.01)


def test_wav_whose_header_says_it_is_longer_than_the_limit_is_rejected_naming_both():
    with pytest.raises(InvalidAudio, match=r"5000\.0 s long; the server's limit is 60 s"):
        inspect(wav_claiming_one_hertz(10_000), max_seconds=LIMIT)


def test_wav_just_over_the_limit_is_rejected():
    with pytest.raises(InvalidAudio, match="limit is 2 s"):
        inspect(wav_bytes(2.1), max_seconds=2)


def test_recording_of_exactly_the_limit_is_accepted():
    assert inspect(wav_bytes(2.0), max_seconds=2).duration == pytest.approx(2.0)


def test_compressed_recording_whose_header_says_it_is_too_long_is_rejected_naming_its_duration():
    with pytest.raises(InvalidAudio, match=r"2880\.0 s long; the server's limit is 60 s"):
        inspect(flac_of_one_frame_repeated(48, honest_header=True), max_seconds=LIMIT)


def test_compressed_recording_that_decodes_past_the_limit_is_rejected_although_its_header_says_1_s():
    with pytest.raises(InvalidAudio, match="longer than the server's limit of 60 s"):
        inspect(flac_of_one_frame_repeated(48), max_seconds=LIMIT)


def test_compressed_recording_is_measured_by_decoding_not_by_its_header():
    # One frame repeated for 30 s under a header that says 1 s.
    assert inspect(flac_of_one_frame_repeated(0.5), max_seconds=LIMIT).duration == pytest.approx(30, abs=0.2)


def test_wav_whose_list_chunk_claims_4_gib_is_rejected_with_a_reason():
    with pytest.raises(InvalidAudio, match="not a readable recording"):
        inspect(wav_with_lying_list_chunk(0xFFFFFFF0), max_seconds=LIMIT)


def test_flac_cut_in_the_middle_of_a_frame_is_rejected_as_possibly_truncated():
    whole = encoded_bytes("flac", "flac", 2.0)
    with pytest.raises(InvalidAudio, match="may be truncated"):
        inspect(whole[: len(whole) // 2], max_seconds=LIMIT)


def test_flac_cut_inside_its_header_is_rejected():
    with pytest.raises(InvalidAudio, match="not a readable recording"):
        inspect(encoded_bytes("flac", "flac", 1.0)[:20], max_seconds=LIMIT)


def test_containers_outside_the_supported_list_are_not_handed_to_ffmpeg():
    sun_audio = encoded_bytes("au", "pcm_s16be", 1.0)  # FFmpeg would read it
    with pytest.raises(InvalidAudio, match="expected WAV, FLAC, OGG, MP3 or M4A"):
        inspect(sun_audio, max_seconds=LIMIT)


def test_samples_are_decoded_to_mono_at_the_requested_rate(tmp_path):
    path = tmp_path / "stereo.wav"
    path.write_bytes(wav_bytes(1.5, rate=44_100, channels=2))
    samples = read_samples(path, sample_rate=16_000, max_seconds=LIMIT)
    assert samples.ndim == 1 and len(samples) == pytest.approx(24_000, abs=64)


def test_decoding_samples_stops_at_the_limit(tmp_path):
    path = tmp_path / "bomb.flac"
    path.write_bytes(flac_of_one_frame_repeated(48))
    with pytest.raises(InvalidAudio, match="limit of 60 s"):
        read_samples(path, sample_rate=16_000, max_seconds=LIMIT)


def test_decoding_samples_of_a_recording_whose_header_says_it_is_too_long_is_refused_at_once(tmp_path):
    path = tmp_path / "one-hertz.wav"
    path.write_bytes(wav_claiming_one_hertz(10_000))
    with pytest.raises(InvalidAudio, match=r"5000\.0 s long; the server's limit is 60 s"):
        read_samples(path, sample_rate=16_000, max_seconds=LIMIT)
