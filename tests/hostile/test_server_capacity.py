"""What many clients at once can make a server hold is capped: uploads in memory all together, and
live Watch streams. Past a cap the answer is UNAVAILABLE ("try again shortly"), and the capacity
comes back when the holders finish."""

from __future__ import annotations

import threading

import grpc
import pytest

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.servers import submit_requests
from voxprint.server import jobs as server_jobs
from voxprint.server import service as server_service
from voxprint.v1 import voxprint_pb2 as pb

RECORDING = wav_bytes(1.0)  # 32 KB
UPLOAD_BUDGET = 48 * 1024
WATCH_STREAMS = 2


@pytest.fixture
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture
def small_server(server_factory, monkeypatch, gate):
    """A server with an upload budget for one recording and room for two Watch streams."""
    monkeypatch.setattr(server_jobs, "UPLOADS_IN_MEMORY_BYTES", UPLOAD_BUDGET)
    monkeypatch.setattr(server_service, "MAX_WATCH_STREAMS", WATCH_STREAMS)
    yield server_factory(transcriber=ScriptedTranscriber(gate=gate), illustrator=ScriptedIllustrator())
    gate.set()


class HeldUpload:
    """A Submit that has sent the whole recording but not half-closed: its bytes stay held."""

    def __init__(self, stub) -> None:
        self.sent, self.finish = threading.Event(), threading.Event()
        self.call = stub.Submit.future(self._requests(), timeout=30)
        assert self.sent.wait(10)

    def _requests(self):
        yield from submit_requests(RECORDING)
        self.sent.set()
        self.finish.wait(10)

    def complete(self) -> pb.Job:
        self.finish.set()
        return self.call.result()


def refusal(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value


def test_an_upload_past_the_memory_all_uploads_share_is_unavailable(small_server):
    held = HeldUpload(small_server.stub)

    error = refusal(lambda: small_server.stub.Submit(submit_requests(RECORDING), timeout=30))

    assert error.code() == grpc.StatusCode.UNAVAILABLE and "too many uploads at once" in error.details()
    held.complete()


def test_memory_of_a_finished_upload_is_given_back(small_server):
    HeldUpload(small_server.stub).complete()

    assert small_server.stub.Submit(submit_requests(RECORDING), timeout=30).audio_size_bytes == len(RECORDING)


def test_a_watch_stream_past_the_limit_is_unavailable(small_server):
    job = small_server.stub.Submit(submit_requests(RECORDING), timeout=30)
    watchers = [small_server.stub.Watch(pb.WatchRequest(job_id=job.id), timeout=30) for _ in range(WATCH_STREAMS)]
    for watcher in watchers:
        next(watcher)

    error = refusal(lambda: next(small_server.stub.Watch(pb.WatchRequest(job_id=job.id), timeout=30)))

    assert error.code() == grpc.StatusCode.UNAVAILABLE and f"limit of {WATCH_STREAMS} Watch streams" in error.details()
    for watcher in watchers:
        watcher.cancel()


def test_a_finished_watch_stream_frees_its_place(small_server, gate):
    job = small_server.stub.Submit(submit_requests(RECORDING), timeout=30)
    gate.set()
    for _ in range(WATCH_STREAMS + 1):
        list(small_server.stub.Watch(pb.WatchRequest(job_id=job.id), timeout=30))

    assert next(small_server.stub.Watch(pb.WatchRequest(job_id=job.id), timeout=30)).snapshot
