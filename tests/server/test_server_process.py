"""The ``voxprint-server`` command as an operator runs it: flags, logs, and SIGTERM (which drains)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.servers import submit_requests, watch_events
from voxprint.v1 import voxprint_pb2 as pb
from voxprint.v1 import voxprint_pb2_grpc

pytestmark = pytest.mark.slow


@pytest.fixture
def server_process(tmp_path: Path, monkeypatch):
    for key in ("ASSEMBLYAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY", "VOXPRINT_AUTH_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "voxprint.server.main", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data")],
        stderr=subprocess.PIPE,
        text=True,
    )
    log = []
    for line in process.stderr:
        log.append(line)
        if match := re.search(r"listening on 127\.0\.0\.1:(\d+)", line):
            break
    else:
        pytest.fail("the server never said it was listening:\n" + "".join(log))
    yield process, f"127.0.0.1:{match.group(1)}", log
    if process.poll() is None:
        process.kill()
        process.wait()


def test_server_logs_its_backends_and_one_line_per_stage_then_stops_cleanly_on_sigterm(server_process, speech_wav):
    process, target, log = server_process
    with grpc.insecure_channel(target) as channel:
        stub = voxprint_pb2_grpc.VoxprintStub(channel)
        job = stub.Submit(submit_requests(speech_wav.read_bytes()))
        assert watch_events(stub, job.id)[-1].job.state == pb.JOB_STATE_COMPLETED
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    log.extend(process.stderr)
    text = "".join(log)
    assert "speech-to-text: whisper:base; images: pictogram" in text
    for stage in ("transcribe", "illustrate", "rasterize"):
        assert re.search(rf"job {job.id} {stage} done in \d+\.\d\d s", text), stage
    assert "voxprint stopped" in text


STAGE_SECONDS = "2"


def test_on_sigterm_health_is_not_serving_while_the_running_stage_finishes_and_is_committed(replicas, speech_wav):
    server = replicas.start(stage_seconds=STAGE_SECONDS)
    job = server.stub.Submit(submit_requests(speech_wav.read_bytes()))
    replicas.until_started("transcribe", job.id)
    health = health_pb2_grpc.HealthStub(server.channel).Watch(health_pb2.HealthCheckRequest(), timeout=60)
    assert next(health).status == health_pb2.HealthCheckResponse.SERVING

    server.process.send_signal(signal.SIGTERM)

    assert next(health).status == health_pb2.HealthCheckResponse.NOT_SERVING
    health.cancel()
    assert server.process.poll() is None, "the server stopped without waiting for its running stage"
    assert server.process.wait(30) == 0
    restarted = replicas.start()
    assert restarted.stub.GetJob(pb.GetJobRequest(job_id=job.id)).transcript == f"job {job.id}"
    assert replicas.stages()[("transcribe", job.id)] == 1
