"""Random and mutated uploads thrown at the upload check and at the decoder behind the speech gate:
whatever the bytes, the only error is InvalidAudio and memory stays within the bomb target."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.audio import encoded_bytes, wav_bytes
from tests.support.hostile_audio import (
    RSS_GROWTH_TARGET,
    flac_of_one_frame_repeated,
    peak_rss,
    reset_peak_rss,
    wav_with_lying_list_chunk,
)
from voxprint.server.audio import InvalidAudio, inspect, read_samples

pytestmark = pytest.mark.slow

LIMIT = 60.0
# RIFF/fmt/LIST/data headers of a WAV; "fLaC" + STREAMINFO + the first frame header of a FLAC.
HEADER_BYTES = 64
VALID_RECORDINGS = {
    "wav": wav_bytes(0.3),
    "wav-with-comment": wav_with_lying_list_chunk(list_size=12, comment_size=0),
    "flac": encoded_bytes("flac", "flac", 0.3),
    "flac-repeated-frame": flac_of_one_frame_repeated(0.5),
}
# Values that break parsers: zero, one, sign bits, all ones.
EXTREME_WORDS = st.sampled_from([0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def mutated_recordings(draw: st.DrawFn) -> bytes:
    """A valid WAV or FLAC with header bytes overwritten by random or extreme values, maybe truncated."""
    data = bytearray(VALID_RECORDINGS[draw(st.sampled_from(sorted(VALID_RECORDINGS)))])
    for _ in range(draw(st.integers(1, 6))):
        offset = draw(st.integers(0, HEADER_BYTES - 4))
        if draw(st.booleans()):
            data[offset : offset + 4] = draw(EXTREME_WORDS).to_bytes(4, "little")
        else:
            data[offset] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))])


def assert_refused_or_described_within_memory(check) -> None:
    before = reset_peak_rss()
    try:
        check()
    except InvalidAudio as refusal:
        assert str(refusal) and "\n" not in str(refusal)
    assert peak_rss() - before < RSS_GROWTH_TARGET


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_are_refused_with_invalid_audio_only(data: bytes) -> None:
    assert_refused_or_described_within_memory(lambda: inspect(data, max_seconds=LIMIT))


@FUZZ
@given(data=mutated_recordings())
def test_mutated_wav_and_flac_uploads_are_described_or_refused_with_invalid_audio_only(data: bytes) -> None:
    assert_refused_or_described_within_memory(lambda: inspect(data, max_seconds=LIMIT))


@FUZZ
@given(data=st.one_of(mutated_recordings(), st.binary(max_size=4096)))
def test_decoding_stored_hostile_files_fails_with_invalid_audio_only(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "stored-recording"
    path.write_bytes(data)
    assert_refused_or_described_within_memory(lambda: read_samples(path, sample_rate=16_000, max_seconds=LIMIT))
