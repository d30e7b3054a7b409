"""A ``voxprint-server`` process whose data dir (SQLite database and media) sits on a small tmpfs that
fills up: Submit answers RESOURCE_EXHAUSTED and leaves nothing behind, health says NOT_SERVING for as
long as the disk is full and SERVING once space returns, and the same process goes on taking and
finishing jobs (with the stand-in stages of ``tests.support.stage_backends``)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.disks import fill_disk
from tests.support.replicas import ReplicaProcess
from tests.support.servers import submit_requests, watch_events
from voxprint.server.media.local import PARTIAL_PREFIX
from voxprint.v1 import voxprint_pb2 as pb

pytestmark = pytest.mark.slow

DISK_SIZE = "16m"
RECORDING = wav_bytes(0.5)
# Health is probed once a second after a failed write.
HEALTH_WAIT_SECONDS = 10.0
# Long enough for several probes: each one must find the disk still full.
STILL_FULL_SECONDS = 4.0
# Long enough for a worker's write to fail on the full disk and for its retries to fail too.
FULL_WHILE_WORKING_SECONDS = 2.0


@pytest.fixture
def small_disk(small_tmpfs: Callable[[str], Path]) -> Path:
    """A 16 MiB disk."""
    return small_tmpfs(DISK_SIZE)


@pytest.fixture
def server(small_disk: Path, tmp_path: Path) -> Iterator[ReplicaProcess]:
    process = ReplicaProcess(small_disk / "data", tmp_path / "stages.log", {}, {"backends": "stand-in"})
    yield process.wait_until_serving()
    process.kill()


@pytest.fixture
def server_with_media_elsewhere(small_disk: Path, tmp_path: Path) -> Iterator[ReplicaProcess]:
    """The database on the small disk, the media on another: the recording is stored, the job is not."""
    options = {"backends": "stand-in", "media_url": (tmp_path / "media").as_uri()}
    process = ReplicaProcess(small_disk / "data", tmp_path / "stages.log", {}, options)
    yield process.wait_until_serving()
    process.kill()


@pytest.fixture
def fill(small_disk: Path) -> Callable[[], Callable[[], None]]:
    """``fill()`` takes every free byte of the disk; the function it returns gives them back."""

    return lambda: fill_disk(small_disk)


def health(server: ReplicaProcess) -> int:
    return health_pb2_grpc.HealthStub(server.channel).Check(health_pb2.HealthCheckRequest(), timeout=5).status


def becomes(condition: Callable[[], bool], seconds: float = HEALTH_WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def health_becomes(server: ReplicaProcess, status: int) -> bool:
    return becomes(lambda: health(server) == status)


def refused_submit(server: ReplicaProcess, request_id: str = "") -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        server.stub.Submit(submit_requests(RECORDING, request_id=request_id), timeout=30)
    return refused.value


def jobs_of(server: ReplicaProcess) -> list[pb.Job]:
    return list(server.stub.ListJobs(pb.ListJobsRequest(page_size=100), timeout=10).jobs)


@pytest.fixture
def speech(speech_wav: Path) -> bytes:
    """A recording the speech gate passes on to the stand-in transcriber (the tone is refused there)."""
    return speech_wav.read_bytes()


def completes(server: ReplicaProcess, recording: bytes) -> bool:
    job = server.stub.Submit(submit_requests(recording), timeout=30)
    return watch_events(server.stub, job.id, timeout=60)[-1].job.state == pb.JOB_STATE_COMPLETED


def test_submit_on_a_full_disk_is_resource_exhausted_saying_no_space_left(server, fill):
    fill()
    error = refused_submit(server)

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "no space left" in error.details()


def test_a_submit_refused_for_space_leaves_no_job_and_no_file(server, fill, speech):
    assert completes(server, speech)
    fill()
    refused_submit(server)

    media = server.data_dir / "media" / "audio"
    assert len(jobs_of(server)) == 1
    assert len(list(media.iterdir())) == 1
    assert not list(media.glob(f"{PARTIAL_PREFIX}*"))


def test_a_request_id_refused_for_space_is_free_once_space_returns(server, fill):
    release = fill()
    refused_submit(server, request_id="press-1")
    release()

    job = server.stub.Submit(submit_requests(RECORDING, request_id="press-1"), timeout=30)
    assert job.audio_size_bytes == len(RECORDING)


@pytest.mark.parametrize("full", ["server", "server_with_media_elsewhere"], ids=["database-and-media", "database"])
def test_health_stays_not_serving_for_as_long_as_the_disk_is_full(full, fill, request):
    server = request.getfixturevalue(full)
    fill()
    refused_submit(server)

    assert health_becomes(server, health_pb2.HealthCheckResponse.NOT_SERVING)
    assert not becomes(lambda: health(server) != health_pb2.HealthCheckResponse.NOT_SERVING, STILL_FULL_SECONDS)


def test_health_is_serving_again_once_space_returns_without_a_restart(server, fill):
    release = fill()
    refused_submit(server)
    assert health_becomes(server, health_pb2.HealthCheckResponse.NOT_SERVING)
    release()

    assert health_becomes(server, health_pb2.HealthCheckResponse.SERVING)
    assert server.process.poll() is None


def test_jobs_complete_again_once_space_returns(server, fill, speech):
    release = fill()
    refused_submit(server)
    release()

    assert completes(server, speech)


def test_a_database_without_space_keeps_no_row_and_its_recording_is_deleted(
    server_with_media_elsewhere, fill, tmp_path
):
    fill()
    error = refused_submit(server_with_media_elsewhere)

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "no space left to store the job" in error.details()
    assert jobs_of(server_with_media_elsewhere) == []
    assert list((tmp_path / "media" / "audio").iterdir()) == []


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """Holds the scripted transcriber of ``busy_server`` until a test opens it."""
    opened = threading.Event()
    yield opened
    opened.set()


@pytest.fixture
def busy_server(server_factory, small_disk: Path, gate: threading.Event):
    """An in-process server on the small disk whose transcriber waits for ``gate``; claims last 2 s."""
    return server_factory(
        data_dir=small_disk / "data",
        transcriber=ScriptedTranscriber(gate=gate),
        illustrator=ScriptedIllustrator(),
        lease_seconds=2,
    )


def test_a_job_whose_stage_hits_a_full_disk_is_finished_once_space_returns_and_left_unclaimed(busy_server, fill, gate):
    job = busy_server.stub.Submit(submit_requests(RECORDING), timeout=30)
    events = busy_server.stub.Watch(pb.WatchRequest(job_id=job.id), timeout=60)
    assert next(event for event in events if event.job.state == pb.JOB_STATE_TRANSCRIBING)
    release = fill()
    gate.set()
    time.sleep(FULL_WHILE_WORKING_SECONDS)
    release()

    final = watch_events(busy_server.stub, job.id, timeout=60)[-1].job
    assert final.state == pb.JOB_STATE_COMPLETED and final.transcript == "a cat and a dog"
    # The claim is given back just after the final write that Watch reports.
    assert becomes(lambda: busy_server.server.store.get(uuid.UUID(job.id)).claimed_by is None)
