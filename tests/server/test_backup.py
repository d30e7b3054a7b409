"""Specification of ``voxprint-server backup PATH``: a copy of a running server's data dir, taken while
jobs are being written, that a fresh server restores with every job acknowledged before it began."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.servers import submit_requests, watch_events
from voxprint.v1 import voxprint_pb2 as pb


def run_backup(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    """The real command line, as an operator runs it."""
    command = [sys.executable, "-m", "voxprint.server.main", "backup", *map(str, arguments)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


class Submitter:
    """Submits jobs one after another until stopped; remembers each acknowledged job id."""

    def __init__(self, stub) -> None:
        self.stub = stub
        self.acknowledged: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            job = self.stub.Submit(submit_requests(wav_bytes(0.5)), timeout=30)
            self.acknowledged.append(job.id)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)


@pytest.mark.slow
def test_a_backup_taken_while_jobs_are_written_restores_every_job_acknowledged_before_it(server_factory, tmp_path):
    running = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    submitter = Submitter(running.stub)
    while len(submitter.acknowledged) < 5:
        threading.Event().wait(0.05)
    before_backup = list(submitter.acknowledged)

    backed_up = run_backup(tmp_path / "backup", "--data-dir", running.settings.data_dir)
    submitter.stop()

    assert backed_up.returncode == 0, backed_up.stderr
    assert "backed up" in backed_up.stdout
    running.stop()
    restored = server_factory(
        transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator(), data_dir=tmp_path / "backup"
    )
    for job_id in before_backup:
        assert watch_events(restored.stub, job_id, timeout=30)[-1].job.state == pb.JOB_STATE_COMPLETED
        raw = restored.stub.Fetch(pb.FetchRequest(job_id=job_id, format=pb.FORMAT_RAW), timeout=30)
        assert len(raw.data) == raw.bytes_per_row * raw.height > 0


def test_a_backup_into_a_folder_that_is_not_empty_is_refused(server_factory, tmp_path):
    running = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "something").touch()

    refused = run_backup(tmp_path / "occupied", "--data-dir", running.settings.data_dir)

    assert refused.returncode != 0 and "is not empty" in refused.stderr and "Traceback" not in refused.stderr


def test_a_postgres_database_is_sent_to_pg_dump(tmp_path):
    refused = run_backup(tmp_path / "backup", "--database", "postgresql://voxprint@127.0.0.1:1/voxprint")

    assert refused.returncode != 0 and "pg_dump" in refused.stderr
