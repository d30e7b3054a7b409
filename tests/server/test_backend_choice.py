"""Which backends a configuration gets: offline without keys, the vendors' with them."""

from __future__ import annotations

import pytest

from voxprint.server.config import Settings
from voxprint.server.illustrators import create_illustrator
from voxprint.server.transcribers import create_transcriber
from voxprint.server.transcribers.whisper import bundled_model_path

KEYS = ("ASSEMBLYAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY")


@pytest.fixture
def no_keys(monkeypatch):
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)


def test_auto_without_keys_uses_the_offline_defaults(no_keys):
    assert create_transcriber(Settings()).name == "whisper:base"
    assert create_illustrator(Settings()).name == "pictogram"


def test_auto_with_keys_uses_the_cloud_backends(no_keys, monkeypatch):
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", "aai-test-key")
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test-key")
    assert create_transcriber(Settings()).name == "assemblyai"
    assert create_illustrator(Settings()).name == "gemini:gemini-2.5-flash-image"


def test_explicit_offline_choice_wins_over_keys(monkeypatch):
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", "aai-test-key")
    assert create_transcriber(Settings(transcriber="whisper")).name.startswith("whisper:")


def test_configured_whisper_model_path_replaces_the_bundled_one(no_keys):
    transcriber = create_transcriber(Settings(whisper_model=str(bundled_model_path())))
    assert transcriber.name == f"whisper:{bundled_model_path().name}"


@pytest.mark.parametrize("factory, field", [(create_transcriber, "transcriber"), (create_illustrator, "illustrator")])
def test_unknown_backend_name_is_a_clear_error(factory, field):
    with pytest.raises(ValueError, match="unknown"):
        factory(Settings(**{field: "telepathy"}))
