"""Specification of the speech gate: only recordings in which someone speaks reach a backend."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.backends import ScriptedTranscriber
from tests.support.hostile_audio import flac_of_one_frame_repeated, low_noise_wav, silence_wav, write
from voxprint.server.config import Settings
from voxprint.server.transcribers import TranscriptionError, create_transcriber
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


@pytest.mark.parametrize("recording", [silence_wav(5.0), low_noise_wav(5.0)], ids=["silence", "low-noise"])
def test_recording_without_speech_fails_before_the_backend_runs(gate, backend, recording, tmp_path):
    with pytest.raises(TranscriptionError, match="no speech"):
        gate.transcribe(write(recording, tmp_path / "quiet.wav"))
    assert backend.calls == []


@pytest.mark.parametrize("voice", ["speech_wav", "espeak_wav"], ids=["flite", "espeak-ng"])
def test_spoken_recording_is_handed_to_the_backend_as_uploaded(gate, backend, voice, request):
    recording = request.getfixturevalue(voice)
    assert gate.transcribe(recording) == backend.text
    assert backend.calls == [recording]


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


@pytest.mark.parametrize("choice", ["whisper", "assemblyai"])
def test_every_backend_is_created_behind_the_gate_with_the_configured_limit(choice, monkeypatch):
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", "key-for-construction-only")
    transcriber = create_transcriber(Settings(transcriber=choice, max_audio_seconds=12.5))
    assert isinstance(transcriber, SpeechGate)
    assert transcriber.backend.name.startswith(choice) and transcriber.max_seconds == 12.5
