"""Fixtures shared by the whole suite: spoken test audio and real servers on loopback."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import RunningServer, offline_settings

# Fixture modules shared by several test files, registered once here instead of imported by name.
pytest_plugins = [
    "tests.fakes.fixtures",
    "tests.clients_fixtures",
    "tests.gateway_fixtures",
    "tests.s3_server",
    "tests.postgres_server",
    "tests.replicas",
]

SPOKEN_PHRASE = "two penguins on the beach"


def speak(text: str, destination: Path) -> Path:
    """Synthesize ``text`` with Debian's flite (voice rms) into a 16 kHz mono 16-bit WAV."""
    if shutil.which("flite") is None:
        pytest.fail("flite is not installed: run `apt-get install flite` (the test scripts do)")
    subprocess.run(["flite", "-voice", "rms", "-t", text, "-o", str(destination)], check=True)
    return destination


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short recording of someone saying SPOKEN_PHRASE."""
    return speak(SPOKEN_PHRASE, tmp_path_factory.mktemp("speech") / "penguins.wav")


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    """``server_factory(**settings_overrides)`` starts a real server on 127.0.0.1 (random port).

    Each server gets the same fresh data dir of this test unless ``data_dir`` is overridden, so a
    second server in one test restarts on the first one's database. ``transcriber=`` and
    ``illustrator=`` take a backend object to inject, or a name ("auto", "assemblyai", ...) that
    the server resolves from its settings as in production; anything else overrides Settings.
    All servers are stopped at teardown.
    """
    started: list[RunningServer] = []

    def start(*, transcriber=None, illustrator=None, **overrides) -> RunningServer:
        overrides.setdefault("data_dir", tmp_path / "data")
        if isinstance(transcriber, str):
            overrides["transcriber"], transcriber = transcriber, None
        if isinstance(illustrator, str):
            overrides["illustrator"], illustrator = illustrator, None
        server = RunningServer(offline_settings(**overrides), transcriber=transcriber, illustrator=illustrator)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
