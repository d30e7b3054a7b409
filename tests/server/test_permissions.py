"""Specification of who may read what the server stores: its own user only, whatever the umask."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.servers import submit_requests, watch_events
from voxprint.server.permissions import private_file, private_folder


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The umask of a careless shell: new files readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def reachable_folder() -> Iterator[Path]:
    """A folder every user can enter (pytest's own temp folders are private to root already)."""
    folder = Path(tempfile.mkdtemp(prefix="voxprint-permissions-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def served_job(server_factory, data_dir: Path) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator(), data_dir=data_dir)
    job = server.stub.Submit(submit_requests(wav_bytes(), filename="secret-diary.wav"), timeout=30)
    watch_events(server.stub, job.id)
    server.stop()


@pytest.mark.usefixtures("open_umask")
def test_the_data_dir_database_and_media_are_private_to_the_servers_user(server_factory, tmp_path):
    data_dir = tmp_path / "data"
    served_job(server_factory, data_dir)

    files = [path for path in data_dir.rglob("*") if path.is_file()]
    folders = [data_dir, *(path for path in data_dir.rglob("*") if path.is_dir())]
    assert any(path.suffix == ".wav" for path in files) and any(path.name == "voxprint.db" for path in files)
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    assert {path.name: mode(path) for path in folders} == {path.name: 0o700 for path in folders}


@pytest.mark.usefixtures("open_umask")
def test_a_data_dir_an_older_version_left_open_is_closed_on_start(server_factory, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    (data_dir / "voxprint.db").touch(mode=0o644)

    server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator(), data_dir=data_dir)

    assert (mode(data_dir), mode(data_dir / "voxprint.db")) == (0o700, 0o600)


@pytest.mark.usefixtures("open_umask")
def test_another_user_cannot_read_the_database_or_the_recordings(server_factory, reachable_folder):
    if os.geteuid() != 0:
        pytest.skip("reading as another user needs root (CI runs as root)")
    data_dir = reachable_folder / "data"
    served_job(server_factory, data_dir)

    for path in [data_dir / "voxprint.db", *data_dir.rglob("*.wav")]:
        as_nobody = subprocess.run(["runuser", "-u", "nobody", "--", "cat", str(path)], capture_output=True)
        assert as_nobody.returncode != 0 and b"Permission denied" in as_nobody.stderr


def test_a_private_folder_and_file_are_made_with_their_parents(tmp_path):
    folder = private_folder(tmp_path / "a" / "b")
    file = private_file(folder / "f")
    assert (mode(folder), mode(file), file.read_bytes()) == (0o700, 0o600, b"")
