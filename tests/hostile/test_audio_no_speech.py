"""Recordings without speech through a real server: the job fails at the transcription stage with
"no speech", on the offline backend and before any cloud call."""

from __future__ import annotations

import pytest

from tests.support.hostile_audio import low_noise_wav, silence_wav
from tests.support.servers import submit_requests, watch_events
from voxprint.v1 import voxprint_pb2 as pb

pytestmark = [
    pytest.mark.slow,
    # The assemblyai SDK still calls pydantic's v1 API; its deprecation warnings are not ours to fix.
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
]

QUIET_RECORDINGS = pytest.mark.parametrize(
    "recording", [silence_wav(5.0), low_noise_wav(5.0)], ids=["5-s-silence", "5-s-low-noise"]
)


def final_job(server, recording: bytes) -> pb.Job:
    job = server.stub.Submit(submit_requests(recording, filename="quiet.wav"))
    return watch_events(server.stub, job.id, timeout=60)[-1].job


@QUIET_RECORDINGS
def test_offline_job_without_speech_fails_at_transcription_saying_no_speech(server_factory, recording):
    job = final_job(server_factory(transcriber="whisper"), recording)
    assert job.state == pb.JOB_STATE_FAILED and job.error_stage == pb.STAGE_TRANSCRIBE
    assert "no speech" in job.error and not job.transcript


@QUIET_RECORDINGS
def test_cloud_job_without_speech_fails_before_anything_is_uploaded(
    server_factory, assemblyai_fake, monkeypatch, recording
):
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", assemblyai_fake.api_key)
    server = server_factory(
        transcriber="assemblyai", assemblyai_base_url=assemblyai_fake.url, assemblyai_poll_interval=0.01
    )
    job = final_job(server, recording)
    assert job.state == pb.JOB_STATE_FAILED and "no speech" in job.error
    assert assemblyai_fake.uploads == {}
