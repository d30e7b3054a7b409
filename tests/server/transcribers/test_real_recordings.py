"""The real people's recordings the speech benchmark and tests hear: each file is listed with its
speaker, transcript and source, and is the short 16 kHz mono phrase the table says."""

from __future__ import annotations

import pytest

from tests.support.speech import REAL_RECORDINGS, real_recordings
from voxprint.server import audio
from voxprint.server.transcribers import SAMPLE_RATE

RECORDINGS = real_recordings()


def test_every_recording_in_the_folder_is_listed_and_every_listed_one_is_there():
    assert sorted(r.path for r in RECORDINGS) == sorted(REAL_RECORDINGS.glob("*.flac"))


def test_there_are_at_least_30_phrases_by_several_speakers_from_named_sources():
    assert len(RECORDINGS) >= 30
    assert len({r.speaker for r in RECORDINGS}) >= 4
    assert {r.source for r in RECORDINGS} <= {"VCTK", "ARCTIC"} and all(r.sentence for r in RECORDINGS)


@pytest.mark.parametrize("recording", RECORDINGS, ids=[r.path.stem for r in RECORDINGS])
def test_each_recording_is_a_short_phrase_of_the_length_listed(recording):
    listed = float(
        next(
            row
            for row in (REAL_RECORDINGS / "SOURCES.md").read_text().splitlines()
            if row.startswith(f"| `{recording.path.name}`")
        )
        .split("|")[3]
        .strip()
        .removesuffix(" s")
    )
    seconds = len(audio.read_samples(recording.path, sample_rate=SAMPLE_RATE, max_seconds=60)) / SAMPLE_RATE
    assert seconds == pytest.approx(listed, abs=0.06) and seconds <= 8.0
