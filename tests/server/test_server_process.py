"""The ``voxprint-server`` command as an operator runs it: flags, logs, and SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

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
    assert "speech-to-text: whisper:tiny.en; images: pictogram" in text
    for stage in ("transcribe", "illustrate", "rasterize"):
        assert re.search(rf"job {job.id} {stage} done in \d+\.\d\d s", text), stage
    assert "voxprint stopped" in text
