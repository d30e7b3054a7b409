"""A server killed with SIGKILL mid-pipeline loses nothing: the restart finishes the job."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.servers import CHANNEL_OPTIONS, submit_requests, watch_events
from voxprint.v1 import voxprint_pb2 as pb
from voxprint.v1 import voxprint_pb2_grpc

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


class ServerProcess:
    def __init__(self, data_dir: Path, count_file: Path, hang: str | None) -> None:
        command = [
            sys.executable,
            "-m",
            "tests.crash_server",
            "--data-dir",
            str(data_dir),
            "--count-file",
            str(count_file),
        ] + (["--hang", hang] if hang else [])
        self.process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
        port = self.process.stdout.readline().strip()
        assert port, "the server process did not start"
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
        self.stub = voxprint_pb2_grpc.VoxprintStub(self.channel)

    def kill(self) -> None:
        self.channel.close()
        self.process.kill()  # SIGKILL: no shutdown code runs
        self.process.wait(10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator:
    started: list[ServerProcess] = []

    def start(hang: str | None = None) -> ServerProcess:
        started.append(ServerProcess(tmp_path / "data", tmp_path / "transcriptions.log", hang))
        return started[-1]

    yield start
    for server in started:
        if server.process.poll() is None:
            server.kill()


def run_until_killed_in(state: int, processes, speech_wav: Path, hang: str) -> str:
    first = processes(hang)
    job = first.stub.Submit(submit_requests(speech_wav.read_bytes()))
    for event in first.stub.Watch(pb.WatchRequest(job_id=job.id), timeout=60):
        if event.job.state == state:
            break
    first.kill()
    return job.id


def transcriptions_started(tmp_path: Path) -> int:
    return len((tmp_path / "transcriptions.log").read_text().splitlines())


def test_job_killed_while_drawing_completes_after_restart_without_transcribing_again(processes, speech_wav, tmp_path):
    job_id = run_until_killed_in(pb.JOB_STATE_GENERATING_IMAGE, processes, speech_wav, hang="illustrate")
    second = processes()
    done = watch_events(second.stub, job_id)[-1].job
    assert done.state == pb.JOB_STATE_COMPLETED and not done.error and "penguin" in done.transcript.lower()
    assert len(second.stub.Fetch(pb.FetchRequest(job_id=job_id, format=pb.FORMAT_RAW)).data) == 48 * done.raster.height
    assert [job.id for job in second.stub.ListJobs(pb.ListJobsRequest()).jobs] == [job_id]
    assert transcriptions_started(tmp_path) == 1


def test_job_killed_while_transcribing_is_transcribed_after_restart(processes, speech_wav, tmp_path):
    job_id = run_until_killed_in(pb.JOB_STATE_TRANSCRIBING, processes, speech_wav, hang="transcribe")
    second = processes()
    done = watch_events(second.stub, job_id)[-1].job
    assert done.state == pb.JOB_STATE_COMPLETED and "penguin" in done.transcript.lower()
    assert [job.id for job in second.stub.ListJobs(pb.ListJobsRequest()).jobs] == [job_id]
    assert transcriptions_started(tmp_path) == 2
