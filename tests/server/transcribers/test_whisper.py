"""The offline transcriber: how it hears a recording, and its settings specified by real transcriptions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.audio import wav_bytes, wav_of
from tests.support.speech import CLEAN, Clip, Voice, normalise, pink_noise, record
from voxprint.server.transcribers import TranscriptionError
from voxprint.server.transcribers.whisper import (
    SAMPLE_RATE,
    WhisperSettings,
    WhisperTranscriber,
    load_speech,
    packaged_model_files,
)


def spoken(tmp_path_factory: pytest.TempPathFactory, voice: str, phrase: str) -> Path:
    """``phrase`` said by the espeak-ng ``voice``, as a 16 kHz WAV."""
    return record(Clip(Voice("espeak-ng", voice), phrase, CLEAN), tmp_path_factory.mktemp("clips"))


@pytest.fixture
def stereo_cd_wav(tmp_path) -> Path:
    path = tmp_path / "stereo.wav"
    path.write_bytes(wav_bytes(2.0, rate=44_100, channels=2))
    return path


def test_a_recording_is_heard_as_mono_samples_at_whispers_rate(stereo_cd_wav):
    samples = load_speech(stereo_cd_wav)
    assert samples.ndim == 1 and samples.dtype == np.float32
    assert len(samples) == pytest.approx(2.0 * SAMPLE_RATE, abs=SAMPLE_RATE // 100)


def test_a_slower_tempo_stretches_the_recording_by_its_inverse(stereo_cd_wav):
    assert len(load_speech(stereo_cd_wav, tempo=0.8)) == pytest.approx(2.0 / 0.8 * SAMPLE_RATE, rel=0.02)


@pytest.fixture(scope="module")
def tiny() -> WhisperTranscriber:
    return WhisperTranscriber()


@pytest.mark.slow
def test_the_bundled_model_writes_a_clearly_spoken_phrase_word_for_word(tiny, speech_wav):
    assert normalise(tiny.transcribe(speech_wav)) == normalise("two penguins on the beach")


@pytest.mark.slow
def test_the_picture_prompt_steers_a_misheard_phrase_to_the_picture_words(tmp_path_factory, tiny):
    clip = spoken(tmp_path_factory, "en-us+f2", "a dragon eating ice cream")
    without_prompt = WhisperTranscriber(settings=WhisperSettings(initial_prompt=None))
    assert "dragon" not in normalise(without_prompt.transcribe(clip))
    assert normalise(tiny.transcribe(clip)) == normalise("a dragon eating ice cream")


@pytest.mark.slow
def test_slowing_the_recording_down_lets_the_small_model_catch_quick_synthetic_speech(tmp_path_factory, tiny):
    clip = spoken(tmp_path_factory, "en-us", "a cup of hot tea")
    at_its_own_speed = WhisperTranscriber(settings=WhisperSettings(tempo=1.0))
    assert normalise(at_its_own_speed.transcribe(clip)) != normalise("a cup of hot tea")
    assert normalise(tiny.transcribe(clip)) == normalise("a cup of hot tea")


@pytest.mark.slow
def test_a_phrase_in_a_foreign_accent_is_written_in_english_by_the_multilingual_model(tmp_path_factory):
    # Left to detect the language, Whisper base hears this French-accented English as Thai.
    clip = spoken(tmp_path_factory, "fr", "a house with a red door")
    transcript = WhisperTranscriber("base").transcribe(clip)
    # English words, not every word right: the temperature fallback samples, so an unsure word can
    # differ between machines ("a red door" once came back as "a red dwarf").
    assert transcript.isascii() and {"house", "red", "door"} & set(normalise(transcript))


def test_the_packaged_base_model_is_joined_from_its_parts_into_one_model_file():
    files = packaged_model_files("base")
    assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"} <= files.keys()
    assert not any(name.startswith("model.bin.part") for name in files)


@pytest.mark.slow
def test_background_noise_alone_is_heard_as_nothing_not_as_the_prompt(tmp_path, tiny):
    hum = tmp_path / "hum.wav"
    noise = pink_noise(3 * SAMPLE_RATE, seed=1)
    hum.write_bytes(wav_of(0.1 * noise / noise.std(), SAMPLE_RATE))  # -20 dBFS, a loud room
    assert tiny.transcribe(hum) == ""


@pytest.mark.slow
def test_a_file_that_is_not_audio_is_a_transcription_error_that_names_no_server_path(tmp_path, tiny):
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("not a recording")
    with pytest.raises(TranscriptionError, match="could not read the recording") as refused:
        tiny.transcribe(not_audio)
    assert str(tmp_path) not in str(refused.value)
