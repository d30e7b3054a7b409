"""Fixtures shared by the whole suite: spoken test audio and real servers on loopback."""

from __future__ import annotations

import os
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


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``small_tmpfs("64k")`` mounts a tmpfs of that size: writing past it fails with the kernel's own
    ENOSPC. Mounting needs root, which CI has: there a mount that fails is a failure, and only a
    developer's unprivileged run skips these tests."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        mount_point = tmp_path / f"tmpfs-{len(mounted)}"
        mount_point.mkdir()
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)], capture_output=True
        )
        if result.returncode != 0:
            reason = f"cannot mount a tmpfs: {result.stderr.decode(errors='replace').strip()}"
            if os.geteuid() == 0:
                pytest.fail(reason)
            pytest.skip(f"{reason} (needs root)")
        mounted.append(mount_point)
        return mount_point

    yield mount
    for mount_point in mounted:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)
