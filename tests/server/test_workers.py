"""Specification of the workers: a job whose claim could not be given back is taken again, without a
restart, because the heartbeat renews only the jobs the workers are running."""

from __future__ import annotations

import peewee

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.servers import submit_requests, watch_events
from voxprint.server.store import JobQueue
from voxprint.v1 import voxprint_pb2 as pb


def failing_once(method, error: Exception):
    """``method`` that raises ``error`` the first time it is called, as a full disk would."""
    calls = []

    def call(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise error
        return method(self, *args, **kwargs)

    return call


def test_a_job_whose_release_failed_is_taken_again_once_its_lease_runs_out(server_factory, monkeypatch):
    disk_full = peewee.OperationalError("database or disk is full")
    monkeypatch.setattr(JobQueue, "update", failing_once(JobQueue.update, disk_full))
    monkeypatch.setattr(JobQueue, "release", failing_once(JobQueue.release, disk_full))
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator(), lease_seconds=1.0)

    job = server.stub.Submit(submit_requests(wav_bytes()), timeout=30)

    assert watch_events(server.stub, job.id, timeout=20)[-1].job.state == pb.JOB_STATE_COMPLETED
