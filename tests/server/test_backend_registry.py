"""A backend is one ``register`` call: the echo transcriber below exists only in this file, yet it
is a ``--transcriber`` choice with its own flag, shown in --help, built behind the speech gate and
run by a real server."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.support.hostile_audio import silence_wav
from tests.support.servers import submit_requests, watch_events
from voxprint.server.backends import Backend, Option, Registry
from voxprint.server.config import Settings
from voxprint.server.main import main, settings_from
from voxprint.server.transcribers import TRANSCRIBERS, TranscriptionError, create_transcriber
from voxprint.server.transcribers.speech_gate import SpeechGate
from voxprint.v1 import voxprint_pb2 as pb

PHRASE = Option("echo_phrase", "What the echo transcriber hears in every recording.", default="a paper boat")


class EchoTranscriber:
    """Hears its configured phrase in whatever it is given."""

    name = "echo"

    def __init__(self, phrase: str) -> None:
        self.phrase = phrase

    def transcribe(self, audio_path: Path, samples: object = None) -> str:
        return self.phrase


ECHO = Backend(
    "echo",
    "hears the same phrase every time (tests only)",
    lambda settings: EchoTranscriber(PHRASE.value(settings)),
    options=(PHRASE,),
    preferred=lambda: "ECHO_PLEASE" in os.environ,
)


@pytest.fixture
def echo(monkeypatch: pytest.MonkeyPatch) -> Backend:
    """The echo backend registered for one test (the registry is restored afterwards)."""
    monkeypatch.setattr(TRANSCRIBERS, "backends", dict(TRANSCRIBERS.backends))
    monkeypatch.delenv("ECHO_PLEASE", raising=False)
    monkeypatch.delenv("ASSEMBLYAI_API_KEY", raising=False)
    return TRANSCRIBERS.register(ECHO)


def parsed(*args: str) -> Settings:
    """The Settings voxprint-server would run with for these flags."""
    return settings_from(main.make_context("voxprint-server", list(args)).params)


def test_a_registered_backend_is_chosen_by_name_with_its_own_flag(echo: Backend, speech_wav: Path) -> None:
    transcriber = create_transcriber(parsed("--transcriber", "echo", "--echo-phrase", "two red kites"))
    assert transcriber.transcribe(speech_wav) == "two red kites"


def test_a_backend_option_has_a_voxprint_variable(echo: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXPRINT_ECHO_PHRASE", "a green kite")
    assert PHRASE.value(parsed("--transcriber", "echo")) == "a green kite"


def test_a_backend_option_left_out_has_its_default(echo: Backend) -> None:
    assert PHRASE.value(parsed("--transcriber", "echo")) == "a paper boat"
    assert PHRASE.value(Settings(transcriber="echo")) == "a paper boat"


def test_help_lists_the_backend_and_its_flag(echo: Backend) -> None:
    result = CliRunner().invoke(main, ["--help"])
    shown = " ".join(result.output.split())  # as read, whatever the wrapping
    assert result.exit_code == 0
    assert "--transcriber [auto|whisper|assemblyai|echo]" in shown
    assert "echo = hears the same phrase every time (tests only)" in shown
    assert "--echo-phrase TEXT What the echo transcriber hears in every recording." in shown
    assert "VOXPRINT_ECHO_PHRASE; default: a paper boat" in shown


def test_an_unregistered_name_is_refused_on_the_command_line(echo: Backend) -> None:
    with pytest.raises(click.BadParameter, match="telepathy"):
        parsed("--transcriber", "telepathy")


def test_auto_chooses_a_backend_that_says_it_is_preferred(echo: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    assert TRANSCRIBERS.choose("auto").name == "whisper"
    monkeypatch.setenv("ECHO_PLEASE", "1")
    assert TRANSCRIBERS.choose("auto").name == "echo"


def test_every_transcriber_built_sits_behind_the_speech_gate(echo: Backend, tmp_path: Path) -> None:
    transcriber = create_transcriber(Settings(transcriber="echo"))
    silence = tmp_path / "silence.wav"
    silence.write_bytes(silence_wav(2.0))
    assert isinstance(transcriber, SpeechGate)
    with pytest.raises(TranscriptionError, match="no speech"):
        transcriber.transcribe(silence)


def test_a_name_cannot_be_registered_twice() -> None:
    registry: Registry[EchoTranscriber] = Registry("transcriber", title="Test", fallback="echo")
    registry.register(ECHO)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(ECHO)


def test_an_option_two_backends_share_is_one_flag() -> None:
    registry: Registry[EchoTranscriber] = Registry("transcriber", title="Test", fallback="echo")
    registry.register(ECHO)
    registry.register(dataclasses.replace(ECHO, name="second-echo"))
    assert registry.options() == [PHRASE]


def test_a_settings_field_keeps_its_one_default() -> None:
    with pytest.raises(ValueError, match="Settings field"):
        Option("gemini_model", "Gemini image model.", default="another-model")


def test_the_built_in_flags_still_fill_their_settings_fields() -> None:
    settings = parsed("--illustrator", "gemini", "--gemini-model", "other-image-model", "--whisper-model", "/models/x")
    assert (settings.illustrator, settings.gemini_model, settings.whisper_model) == (
        "gemini",
        "other-image-model",
        "/models/x",
    )
    assert settings.backend_options == {}


@pytest.mark.parametrize(
    "variable, value, field",
    [
        ("VOXPRINT_TRANSCRIBER", "assemblyai", "transcriber"),
        ("VOXPRINT_ILLUSTRATOR", "gemini", "illustrator"),
        ("VOXPRINT_WHISPER_MODEL", "/models/x", "whisper_model"),
        ("VOXPRINT_ASSEMBLYAI_BASE_URL", "http://127.0.0.1:9", "assemblyai_base_url"),
        ("VOXPRINT_GEMINI_BASE_URL", "http://127.0.0.1:9", "gemini_base_url"),
        ("VOXPRINT_GEMINI_MODEL", "other-image-model", "gemini_model"),
        ("VOXPRINT_GEMINI_ASPECT_RATIO", "1:1", "gemini_aspect_ratio"),
        ("VOXPRINT_IMAGE_PROMPT", "Woodcut of {transcript}.", "image_prompt"),
    ],
)
def test_the_documented_backend_variables_still_fill_their_settings_fields(
    variable: str, value: str, field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(parsed(), field) == value


@pytest.mark.slow
def test_a_server_runs_jobs_on_a_backend_chosen_by_name(echo: Backend, server_factory, speech_wav: Path) -> None:
    server = server_factory(transcriber="echo", backend_options={"echo_phrase": "a lighthouse"})
    job = server.stub.Submit(submit_requests(speech_wav.read_bytes()))
    final = watch_events(server.stub, job.id, timeout=60)[-1].job
    assert (final.state, final.transcript, final.backends.transcriber) == (
        pb.JOB_STATE_COMPLETED,
        "a lighthouse",
        "echo",
    )
