"""Specification of the speech gate: only recordings in which someone speaks reach a backend, and
the recording is decoded, and searched for a voice, once."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.support.audio import wav_of, wav_samples
from tests.support.backends import ScriptedTranscriber
from tests.support.hostile_audio import flac_of_one_frame_repeated, low_noise_wav, silence_wav, write
from tests.support.speech import pink_noise
from voxprint.server import audio
from voxprint.server.config import Settings
from voxprint.server.transcribers import SAMPLE_RATE, TranscriptionError, create_transcriber
from voxprint.server.transcribers.speech_gate import SpeechGate

LIMIT = 60.0


@pytest.fixture
def backend() -> ScriptedTranscriber:
    return ScriptedTranscriber("two penguins on the beach")


@pytest.fixture
def gate(backend: ScriptedTranscriber) -> SpeechGate:
    return SpeechGate(backend, max_seconds=LIMIT)


@pytest.fixture(scope="session")
def espeak_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A recording of espeak-ng, a voice unlike flite's, saying a short phrase."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed: run `apt-get install espeak-ng`")
    destination = tmp_path_factory.mktemp("espeak") / "rocket.wav"
    subprocess.run(["espeak-ng", "-w", str(destination), "a rocket flies to the moon"], check=True)
    return destination


def padded(speech: Path, destination: Path, *, before: float, after: float, pause: float | None = None) -> Path:
    """``speech`` with ``before`` and ``after`` seconds of silence around it, and said twice with
    ``pause`` seconds between if ``pause`` is given (a 16 kHz WAV)."""
    samples, rate = wav_samples(speech)
    parts = [np.zeros(int(before * rate)), samples]
    if pause is not None:
        parts += [np.zeros(int(pause * rate)), samples]
    destination.write_bytes(wav_of(np.concatenate([*parts, np.zeros(int(after * rate))]), rate))
    return destination


def seconds(samples: object) -> float:
    assert isinstance(samples, np.ndarray)
    return len(samples) / SAMPLE_RATE


@pytest.mark.parametrize("recording", [silence_wav(5.0), low_noise_wav(5.0)], ids=["silence", "low-noise"])
def test_recording_without_speech_fails_before_the_backend_runs(gate, backend, recording, tmp_path):
    with pytest.raises(TranscriptionError, match="no speech"):
        gate.transcribe(write(recording, tmp_path / "quiet.wav"))
    assert backend.calls == []


def test_a_loud_room_without_speech_fails_before_the_backend_runs(gate, backend, tmp_path):
    noise = pink_noise(3 * SAMPLE_RATE, seed=1)
    room = tmp_path / "hum.wav"
    room.write_bytes(wav_of(0.1 * noise / noise.std(), SAMPLE_RATE))  # -20 dBFS of fan and traffic
    with pytest.raises(TranscriptionError, match="no speech"):
        gate.transcribe(room)
    assert backend.calls == []


@pytest.mark.parametrize("voice", ["speech_wav", "espeak_wav"], ids=["flite", "espeak-ng"])
def test_spoken_recording_is_handed_to_the_backend_as_uploaded(gate, backend, voice, request):
    recording = request.getfixturevalue(voice)
    assert gate.transcribe(recording) == backend.text
    assert backend.calls == [recording]


def test_the_backend_is_handed_the_speech_as_mono_samples_at_16_khz(gate, backend, speech_wav, tmp_path):
    spoken, rate = wav_samples(speech_wav)
    at_44k = np.interp(np.arange(int(len(spoken) * 44_100 / rate)) * rate / 44_100, np.arange(len(spoken)), spoken)
    stereo = tmp_path / "stereo-44k.wav"
    stereo.write_bytes(wav_of(np.stack([at_44k, at_44k], axis=1), 44_100))

    gate.transcribe(stereo)

    handed = backend.samples[0]
    assert isinstance(handed, np.ndarray) and handed.dtype == np.float32 and handed.ndim == 1
    assert seconds(handed) == pytest.approx(len(spoken) / rate, abs=0.5)


def test_the_speech_handed_on_leaves_out_the_silence_around_it(gate, backend, speech_wav, tmp_path):
    recording = padded(speech_wav, tmp_path / "quiet-room.wav", before=3.0, after=3.0)
    spoken, _ = wav_samples(speech_wav)

    gate.transcribe(recording)

    # Silero VAD pads the speech by 0.4 s each side; the 3 s of silence each side are gone.
    assert len(spoken) / SAMPLE_RATE - 0.2 <= seconds(backend.samples[0]) <= len(spoken) / SAMPLE_RATE + 1.0


def test_a_long_pause_inside_the_speech_is_left_out_and_a_short_one_kept(gate, backend, speech_wav, tmp_path):
    once = len(wav_samples(speech_wav)[0]) / SAMPLE_RATE

    gate.transcribe(padded(speech_wav, tmp_path / "long-pause.wav", before=0.5, after=0.5, pause=4.0))
    gate.transcribe(padded(speech_wav, tmp_path / "short-pause.wav", before=0.5, after=0.5, pause=1.0))

    long_pause, short_pause = (seconds(handed) for handed in backend.samples)
    assert long_pause < 2 * once + 2.0  # the 4 s pause was cut down to the padding around the words
    assert short_pause >= 2 * once + 1.0  # a breath between words stays: it is part of the phrase


def test_without_trimming_the_backend_hears_the_whole_recording(backend, speech_wav, tmp_path):
    recording = padded(speech_wav, tmp_path / "quiet-room.wav", before=3.0, after=3.0)

    SpeechGate(backend, max_seconds=LIMIT, trim=False).transcribe(recording)

    assert seconds(backend.samples[0]) == pytest.approx(len(wav_samples(recording)[0]) / SAMPLE_RATE, abs=0.01)


def test_samples_already_decoded_are_not_decoded_again(gate, backend, speech_wav, tmp_path, monkeypatch):
    decoded = audio.read_samples(speech_wav, sample_rate=SAMPLE_RATE, max_seconds=LIMIT)
    monkeypatch.setattr(audio, "read_samples", lambda *args, **kwargs: pytest.fail("decoded a second time"))

    assert gate.transcribe(speech_wav, decoded) == backend.text
    assert backend.calls == [speech_wav]


def test_recording_past_the_duration_limit_never_reaches_the_backend(gate, backend, tmp_path):
    with pytest.raises(TranscriptionError, match="limit of 60 s"):
        gate.transcribe(write(flac_of_one_frame_repeated(48), tmp_path / "bomb.flac"))
    assert backend.calls == []


def test_unreadable_recording_fails_with_the_reason(gate, backend, tmp_path):
    with pytest.raises(TranscriptionError, match="not a readable recording"):
        gate.transcribe(write(b"not audio at all" * 64, tmp_path / "text.wav"))
    assert backend.calls == []


def test_jobs_record_the_backend_name_not_the_gate(gate, backend):
    assert gate.name == backend.name


def test_warming_up_warms_the_backend_too(gate):
    warmed = []
    gate.backend.warm_up = lambda: warmed.append(True)  # type: ignore[attr-defined]
    gate.warm_up()
    assert warmed == [True]


@pytest.mark.parametrize("choice", ["whisper", "assemblyai"])
def test_every_backend_is_created_behind_the_gate_with_the_configured_limit(choice, monkeypatch):
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", "key-for-construction-only")
    transcriber = create_transcriber(Settings(transcriber=choice, max_audio_seconds=12.5))
    assert isinstance(transcriber, SpeechGate)
    assert transcriber.backend.name.startswith(choice) and transcriber.max_seconds == 12.5
