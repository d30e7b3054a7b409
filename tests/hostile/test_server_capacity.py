"""What many clients at once can make a server hold is capped: uploads in memory all together, and
live Watch streams, with a share per tenant when there are several. Past a cap the answer is
UNAVAILABLE ("try again shortly"), and the capacity comes back when the holders finish. What a
caller without a token can make the server buffer is one small message."""

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
KITCHEN_TOKEN, WORKSHOP_TOKEN = "kitchen-token-6f1c0a9e4b2d4e8f", "workshop-token-0b9e7d5c3a1f4e2d"
KITCHEN, WORKSHOP = [("authorization", f"Bearer {KITCHEN_TOKEN}")], [("authorization", f"Bearer {WORKSHOP_TOKEN}")]


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

    def __init__(self, stub, metadata=None) -> None:
        self.sent, self.finish = threading.Event(), threading.Event()
        self.call = stub.Submit.future(self._requests(), metadata=metadata, timeout=30)
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


@pytest.fixture
def shared_small_server(server_factory, monkeypatch, gate, tmp_path):
    """The small server for two tenants: each may hold half of each cap."""
    tokens = tmp_path / "tokens"
    tokens.write_text(f"kitchen {KITCHEN_TOKEN}\nworkshop {WORKSHOP_TOKEN}\n")
    monkeypatch.setenv("VOXPRINT_AUTH_TOKENS_FILE", str(tokens))
    monkeypatch.setattr(server_jobs, "UPLOADS_IN_MEMORY_BYTES", 2 * UPLOAD_BUDGET)
    monkeypatch.setattr(server_service, "MAX_WATCH_STREAMS", WATCH_STREAMS)
    yield server_factory(transcriber=ScriptedTranscriber(gate=gate), illustrator=ScriptedIllustrator())
    gate.set()


def test_one_tenant_cannot_take_every_watch_stream(shared_small_server):
    stub = shared_small_server.stub
    job = stub.Submit(submit_requests(RECORDING), metadata=KITCHEN, timeout=30)
    first = stub.Watch(pb.WatchRequest(job_id=job.id), metadata=KITCHEN, timeout=30)
    next(first)

    error = refusal(lambda: next(stub.Watch(pb.WatchRequest(job_id=job.id), metadata=KITCHEN, timeout=30)))

    assert error.code() == grpc.StatusCode.UNAVAILABLE and "this tenant's share of 1 Watch streams" in error.details()
    theirs = stub.Submit(submit_requests(RECORDING), metadata=WORKSHOP, timeout=30)
    assert next(stub.Watch(pb.WatchRequest(job_id=theirs.id), metadata=WORKSHOP, timeout=30)).snapshot
    first.cancel()


def test_one_tenant_cannot_take_all_the_upload_memory(shared_small_server):
    held = HeldUpload(shared_small_server.stub, KITCHEN)

    error = refusal(lambda: shared_small_server.stub.Submit(submit_requests(RECORDING), metadata=KITCHEN, timeout=30))

    assert error.code() == grpc.StatusCode.UNAVAILABLE and "this tenant is sending too many" in error.details()
    assert shared_small_server.stub.Submit(submit_requests(RECORDING), metadata=WORKSHOP, timeout=30).id
    held.complete()


def test_a_large_message_without_a_token_is_refused_before_it_is_held(shared_small_server):
    five_mib_request = pb.GetJobRequest(job_id="x" * (5 * 1024 * 1024)).SerializeToString()

    error = refusal(lambda: shared_small_server.channel.unary_unary("/voxprint.v1.Voxprint/GetJob")(five_mib_request))

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
