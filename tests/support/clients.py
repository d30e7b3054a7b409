"""Fixtures shared by the client, CLI and ESC/POS tests (import the ones a test module uses).

``fake_voxprint``: a scripted in-process Voxprint servicer on 127.0.0.1, for client behaviour
the real server cannot be made to show on demand (a Watch stream dropping mid-job, a given
error status). End-to-end tests use the lead's real ``server_factory`` instead.

``tcp_sink``: a loopback TCP listener that stores everything one connection sends, standing in
for a network receipt printer on port 9100.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from voxprint.v1 import voxprint_pb2, voxprint_pb2_grpc

JOB_ID = "5a0b3c1e-8f4d-4e2a-9c77-0d8b1f2e3a45"

PIPELINE = (
    voxprint_pb2.JOB_STATE_PENDING,
    voxprint_pb2.JOB_STATE_TRANSCRIBING,
    voxprint_pb2.JOB_STATE_TRANSCRIBED,
    voxprint_pb2.JOB_STATE_GENERATING_IMAGE,
    voxprint_pb2.JOB_STATE_RASTERIZING,
    voxprint_pb2.JOB_STATE_COMPLETED,
)


def job_at(version: int, job_id: str = JOB_ID) -> voxprint_pb2.Job:
    """The job after ``version`` changes along the happy path (version 1 = PENDING)."""
    state = PIPELINE[version - 1]
    transcript = "two penguins on the beach" if state >= voxprint_pb2.JOB_STATE_TRANSCRIBED else ""
    return voxprint_pb2.Job(id=job_id, state=state, transcript=transcript, version=version)


def event_at(version: int, snapshot: bool = False) -> voxprint_pb2.JobEvent:
    return voxprint_pb2.JobEvent(job=job_at(version), snapshot=snapshot)


#: One Watch stream's script: events to send in order, optionally ending with a status to abort with.
WatchScript = list[voxprint_pb2.JobEvent | grpc.StatusCode]


@dataclass
class FakeVoxprint(voxprint_pb2_grpc.VoxprintServicer):
    """Answers from scripts the test sets up and records what clients sent."""

    watch_scripts: list[WatchScript] = field(default_factory=list)
    watch_calls: int = 0
    uploads: list[list[voxprint_pb2.SubmitRequest]] = field(default_factory=list)
    call_metadata: list[dict[str, str]] = field(default_factory=list)
    fetch_error: tuple[grpc.StatusCode, str] | None = None
    fetch_requests: list[voxprint_pb2.FetchRequest] = field(default_factory=list)
    jobs: list[voxprint_pb2.Job] = field(default_factory=list)

    def _record(self, context: grpc.ServicerContext) -> None:
        self.call_metadata.append(dict(context.invocation_metadata()))

    def Submit(self, request_iterator, context):  # noqa: N802 (gRPC method name)
        self._record(context)
        self.uploads.append(list(request_iterator))
        metadata = self.uploads[-1][0].metadata
        return voxprint_pb2.Job(
            id=str(uuid.uuid4()),
            state=voxprint_pb2.JOB_STATE_PENDING,
            request_id=metadata.request_id,
            filename=metadata.filename,
            options=metadata.options,
            version=1,
        )

    def Watch(self, request, context):  # noqa: N802
        self._record(context)
        if request.job_id != JOB_ID:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no job {request.job_id}")
        script = self.watch_scripts[min(self.watch_calls, len(self.watch_scripts) - 1)]
        self.watch_calls += 1
        for step in script:
            if isinstance(step, grpc.StatusCode):
                context.abort(step, "stream dropped by the test")
            yield step

    def Fetch(self, request, context):  # noqa: N802
        self._record(context)
        self.fetch_requests.append(request)
        if self.fetch_error is not None:
            context.abort(*self.fetch_error)
        return voxprint_pb2.FetchResponse(data=b"\x89PNG", content_type="image/png")

    def GetJob(self, request, context):  # noqa: N802
        self._record(context)
        return next((job for job in self.jobs if job.id == request.job_id), job_at(len(PIPELINE), request.job_id))

    def ListJobs(self, request, context):  # noqa: N802
        self._record(context)
        start = int(request.page_token or 0)
        end = start + request.page_size
        return voxprint_pb2.ListJobsResponse(
            jobs=self.jobs[start:end], next_page_token=str(end) if end < len(self.jobs) else ""
        )


@dataclass
class FakeServer:
    servicer: FakeVoxprint
    target: str


@pytest.fixture
def fake_voxprint() -> Iterator[FakeServer]:
    servicer = FakeVoxprint()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    voxprint_pb2_grpc.add_VoxprintServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield FakeServer(servicer, f"127.0.0.1:{port}")
    server.stop(grace=None)


@dataclass
class TcpSink:
    """A one-connection loopback "printer"; ``received()`` waits for the sender to finish."""

    port: int
    _done: threading.Event
    _chunks: list[bytes]

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def received(self, timeout: float = 10.0) -> bytes:
        assert self._done.wait(timeout), "nothing finished sending to the sink"
        return b"".join(self._chunks)


@pytest.fixture
def tcp_sink() -> Iterator[TcpSink]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10.0)
    chunks: list[bytes] = []
    done = threading.Event()

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:  # closed at teardown without a client
            return
        with connection:
            connection.settimeout(10.0)
            while data := connection.recv(65536):
                chunks.append(data)
        done.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield TcpSink(listener.getsockname()[1], done, chunks)
    listener.close()
    thread.join(timeout=10.0)


def free_port() -> int:
    """A loopback port nobody listens on (bound then released), for "connection refused" tests."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) PEM files valid for 127.0.0.1 and localhost, made with openssl.

    ``scripts/install.sh --test`` installs openssl, so CI (which runs as root) fails without it;
    only a developer's unprivileged run, which may lack it, skips."""
    if shutil.which("openssl") is None:
        reason = "openssl is not installed: run `scripts/install.sh --test` (it installs Debian's openssl)"
        if os.geteuid() == 0:
            pytest.fail(reason)
        pytest.skip(reason)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
