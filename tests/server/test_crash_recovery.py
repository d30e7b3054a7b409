"""A ``voxprint-server`` killed with SIGKILL mid-pipeline loses nothing: the restart finishes the job.

The servers run the offline speech and image backends, logged (``tests.support.stage_backends``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.replicas import Replicas
from tests.support.servers import submit_requests, watch_events
from voxprint.v1 import voxprint_pb2 as pb

pytestmark = pytest.mark.slow


def run_until_killed_in(state: int, replicas: Replicas, speech_wav: Path, hang_in: str) -> str:
    """Submit to a server that hangs in stage ``hang_in``, and kill it once the job is in ``state``."""
    replicas.defaults["backends"] = "offline"
    first = replicas.start(hang_in=hang_in)
    job = first.stub.Submit(submit_requests(speech_wav.read_bytes()))
    for event in first.stub.Watch(pb.WatchRequest(job_id=job.id), timeout=60):
        if event.job.state == state:
            break
    replicas.until_started("transcribe", job.id)
    first.kill()
    return job.id


def test_job_killed_while_drawing_completes_after_restart_without_transcribing_again(replicas, speech_wav):
    job_id = run_until_killed_in(pb.JOB_STATE_GENERATING_IMAGE, replicas, speech_wav, hang_in="illustrate")
    second = replicas.start()
    done = watch_events(second.stub, job_id)[-1].job
    assert done.state == pb.JOB_STATE_COMPLETED and not done.error and "penguin" in done.transcript.lower()
    assert len(second.stub.Fetch(pb.FetchRequest(job_id=job_id, format=pb.FORMAT_RAW)).data) == 48 * done.raster.height
    assert [job.id for job in second.stub.ListJobs(pb.ListJobsRequest()).jobs] == [job_id]
    assert replicas.stages()[("transcribe", job_id)] == 1


def test_job_killed_while_transcribing_is_transcribed_after_restart(replicas, speech_wav):
    job_id = run_until_killed_in(pb.JOB_STATE_TRANSCRIBING, replicas, speech_wav, hang_in="transcribe")
    second = replicas.start()
    done = watch_events(second.stub, job_id)[-1].job
    assert done.state == pb.JOB_STATE_COMPLETED and "penguin" in done.transcript.lower()
    assert [job.id for job in second.stub.ListJobs(pb.ListJobsRequest()).jobs] == [job_id]
    assert replicas.stages()[("transcribe", job_id)] == 2
