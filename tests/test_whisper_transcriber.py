"""The offline transcriber's decoding settings, specified by what it hears in generated clips."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.stt_accuracy import CLEAN, Clip, Voice, normalise, record
from server.transcribers import TranscriptionError
from server.transcribers.whisper import DecodingSettings, WhisperTranscriber, packaged_model_files

pytestmark = pytest.mark.slow


def spoken(tmp_path_factory: pytest.TempPathFactory, voice: str, phrase: str) -> Path:
    """``phrase`` said by the espeak-ng ``voice``, as a 16 kHz WAV."""
    return record(Clip(Voice("espeak-ng", voice), phrase, CLEAN), tmp_path_factory.mktemp("clips"))


@pytest.fixture(scope="module")
def tiny() -> WhisperTranscriber:
    return WhisperTranscriber()


def test_the_bundled_model_writes_a_clearly_spoken_phrase_word_for_word(tiny, speech_wav):
    assert normalise(tiny.transcribe(speech_wav)) == normalise("two penguins on the beach")


def test_the_picture_prompt_steers_a_misheard_phrase_to_the_picture_words(tmp_path_factory, tiny):
    clip = spoken(tmp_path_factory, "en-us", "a dragon eating ice cream")
    without_prompt = WhisperTranscriber(decoding=DecodingSettings(initial_prompt=None))
    assert "dragon" not in normalise(without_prompt.transcribe(clip))
    assert normalise(tiny.transcribe(clip)) == normalise("a dragon eating ice cream")


def test_a_phrase_in_a_foreign_accent_is_written_in_english_by_the_multilingual_model(tmp_path_factory):
    # Left to detect the language, Whisper base hears this Italian-accented English as Greek.
    clip = spoken(tmp_path_factory, "it", "a rocket flies to the moon")
    transcript = WhisperTranscriber("base").transcribe(clip)
    assert transcript.isascii() and "rocket" in normalise(transcript)


def test_the_packaged_base_model_is_joined_from_its_parts_into_one_model_file():
    files = packaged_model_files("base")
    assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"} <= files.keys()
    assert not any(name.startswith("model.bin.part") for name in files)


def test_a_file_that_is_not_audio_is_a_transcription_error(tmp_path, tiny):
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("not a recording")
    with pytest.raises(TranscriptionError, match="could not read the recording"):
        tiny.transcribe(not_audio)
