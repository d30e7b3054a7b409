"""Several replicas on one PostgreSQL database and one S3 bucket form one service.

Each replica is a real process (``tests.support.replica_process``) with its own data dir; they share the
throw-away PostgreSQL cluster and the moto S3 server the suite starts. Stages are instant
stand-ins that log what ran where, so the tests can count.
"""

from __future__ import annotations

import itertools
import time

import grpc
import pytest

from tests.support.audio import wav_bytes
from tests.support.replicas import Replicas
from tests.support.servers import submit_requests, watch_events
from voxprint.v1 import voxprint_pb2 as pb

pytestmark = pytest.mark.slow

LEASE_SECONDS = "2"


@pytest.fixture
def cluster(replicas: Replicas, postgres_url: str, s3_media_url: str, s3_environment: dict[str, str]) -> Replicas:
    """``replicas`` preset to share one fresh database and bucket, with instant stages and short leases."""
    replicas.environment.update(s3_environment)
    replicas.defaults = {
        "database": postgres_url,
        "media_url": s3_media_url,
        "backends": "stand-in",
        "lease_seconds": LEASE_SECONDS,
    }
    return replicas


def finish(stub, job_id: str) -> pb.Job:
    return watch_events(stub, job_id, timeout=60)[-1].job


def until_state(stub, job_id: str, state: int) -> None:
    for event in stub.Watch(pb.WatchRequest(job_id=job_id), timeout=60):
        if event.job.state == state:
            return
    pytest.fail(f"job {job_id} never reached state {state}")


def recording(n: int) -> bytes:
    return wav_bytes(0.5 + n / 100)


def test_replicas_started_at_the_same_instant_on_an_empty_database_all_serve(cluster):
    launched = [cluster.launch(name) for name in "abc"]
    for replica in launched:
        replica.wait_until_serving()
        job = replica.stub.Submit(submit_requests(recording(0)))
        assert finish(replica.stub, job.id).state == pb.JOB_STATE_COMPLETED


def test_a_watch_on_one_replica_streams_every_stage_of_a_job_another_accepted(cluster):
    a, b = cluster.start("a"), cluster.start("b")
    job = a.stub.Submit(submit_requests(recording(1)))
    states = [event.job.state for event in watch_events(b.stub, job.id, timeout=60)]
    assert states[-1] == pb.JOB_STATE_COMPLETED
    assert states == sorted(states)


def test_jobs_submitted_round_robin_are_each_processed_once_and_fetched_from_anywhere(cluster):
    group = [cluster.start(name) for name in "abc"]
    jobs = [replica.stub.Submit(submit_requests(recording(n))) for n, replica in zip(range(12), itertools.cycle(group))]
    for job, reader in zip(jobs, itertools.cycle(group[1:] + group[:1])):
        done = finish(reader.stub, job.id)
        assert done.state == pb.JOB_STATE_COMPLETED and not done.error
        png = reader.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_PNG))
        raw = reader.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_RAW))
        assert png.data.startswith(b"\x89PNG") and len(raw.data) == raw.bytes_per_row * raw.height
    stages = cluster.stages()
    assert all(stages[(stage, job.id)] == 1 for job in jobs for stage in ("transcribe", "illustrate"))


def stuck_drawing(cluster: Replicas, n: int):
    """Replica "a", alone, holding a job it will never finish drawing; (the replica, the job)."""
    replica = cluster.start("a", hang="illustrate")
    job = replica.stub.Submit(submit_requests(recording(n)))
    until_state(replica.stub, job.id, pb.JOB_STATE_GENERATING_IMAGE)
    return replica, job


def test_a_killed_replicas_job_is_taken_over_once_its_lease_expires(cluster):
    doomed, job = stuck_drawing(cluster, 2)
    survivor = cluster.start("b")
    doomed.kill()
    done = finish(survivor.stub, job.id)
    assert done.state == pb.JOB_STATE_COMPLETED and done.transcript == f"job {job.id}"
    assert cluster.stages()[("transcribe", job.id)] == 1
    assert cluster.stages()[("illustrate", job.id)] == 2


def test_a_restarted_replica_leaves_a_live_replicas_job_alone(cluster):
    _busy, job = stuck_drawing(cluster, 3)
    restarted = cluster.start("b")
    restarted.kill()
    restarted = cluster.start("b")
    time.sleep(3 * float(LEASE_SECONDS))
    assert cluster.stages()[("illustrate", job.id)] == 1
    assert restarted.stub.GetJob(pb.GetJobRequest(job_id=job.id)).state == pb.JOB_STATE_GENERATING_IMAGE


def test_a_job_whose_picture_is_gone_from_storage_is_data_loss_without_a_path(cluster, s3_client, s3_media_url):
    replica = cluster.start("a")
    job = finish(replica.stub, replica.stub.Submit(submit_requests(recording(4))).id)
    bucket, prefix = s3_media_url.removeprefix("s3://").split("/", 1)
    for stored in s3_client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/image/")["Contents"]:
        s3_client.delete_object(Bucket=bucket, Key=stored["Key"])
    with pytest.raises(grpc.RpcError) as error:
        replica.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_PNG))
    assert error.value.code() == grpc.StatusCode.DATA_LOSS and job.id in error.value.details()
    assert "/" not in error.value.details().replace(job.id, "")


def test_each_replica_holds_at_most_ten_database_connections(cluster, postgres_cluster, postgres_url):
    group = [cluster.start(name) for name in "abc"]
    jobs = [replica.stub.Submit(submit_requests(recording(n))) for n, replica in zip(range(30), itertools.cycle(group))]
    for job in jobs:
        finish(group[0].stub, job.id)
    per_replica = {
        name: count
        for name, count in postgres_cluster.connections_by_application(postgres_url).items()
        if name.startswith("voxprint ")
    }
    assert len(per_replica) == 3 and max(per_replica.values()) <= 10, per_replica
