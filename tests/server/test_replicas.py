"""Several replicas on one PostgreSQL database and one S3 bucket form one service.

Each replica is a real ``voxprint-server`` process (``tests.support.replicas``) with its own data
dir, given ``--database``, ``--lease-seconds`` as flags and ``VOXPRINT_MEDIA_URL``,
``VOXPRINT_DB_POOL_SIZE`` as variables; they share the throw-away PostgreSQL cluster and the moto S3
server the suite starts. Stages are the test-only stand-ins that log what ran where, so the tests
can count, and can take a while or hang where a test needs them to.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator

import grpc
import psycopg
import pytest

from tests.support.replicas import ReplicaProcess, Replicas
from tests.support.servers import submit_requests, watch_events
from voxprint.v1 import voxprint_pb2 as pb

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2
POOL_SIZE = 3
# Far below the 30 s default lease: a takeover this fast shows --lease-seconds was read.
TAKEOVER_SECONDS = 15
# Far below Watch's 15 s re-read: an event this fast came through LISTEN/NOTIFY.
PUSH_SECONDS = 3.0


@pytest.fixture
def cluster(replicas: Replicas, postgres_url: str, s3_media_url: str, s3_environment: dict[str, str]) -> Replicas:
    """``replicas`` preset to share one fresh database and bucket, with instant stages and short leases."""
    replicas.environment.update(s3_environment)
    replicas.defaults = {
        "database": postgres_url,
        "media_url": s3_media_url,
        "backends": "stand-in",
        "lease_seconds": str(LEASE_SECONDS),
        "db_pool_size": str(POOL_SIZE),
    }
    return replicas


@pytest.fixture
def speech(speech_wav) -> bytes:
    """A recording with speech in it: every replica's speech gate lets it through to the stand-in."""
    return speech_wav.read_bytes()


def finish(stub, job_id: str) -> pb.Job:
    return watch_events(stub, job_id, timeout=60)[-1].job


def until_state(stub, job_id: str, state: int) -> None:
    for event in stub.Watch(pb.WatchRequest(job_id=job_id), timeout=60):
        if event.job.state == state:
            return
    pytest.fail(f"job {job_id} never reached state {state}")


def test_replicas_started_at_the_same_instant_on_an_empty_database_all_serve(cluster, speech):
    launched = [cluster.launch(name) for name in "abc"]
    for replica in launched:
        replica.wait_until_serving()
        job = replica.stub.Submit(submit_requests(speech))
        assert finish(replica.stub, job.id).state == pb.JOB_STATE_COMPLETED


def test_a_replica_runs_on_the_database_and_media_it_was_given(cluster, postgres_url, s3_media_url):
    replica = cluster.start("a")

    said = replica.log()
    assert f"database {postgres_url};" in said and f"media {s3_media_url}" in said


def watch_only(cluster: Replicas, speech: bytes) -> ReplicaProcess:
    """Replica "b", whose one worker hangs in a job of its own: it watches, and works on nothing else."""
    watcher = cluster.start("b", workers="1", hang_in="transcribe")
    blocker = watcher.stub.Submit(submit_requests(speech))
    until_state(watcher.stub, blocker.id, pb.JOB_STATE_TRANSCRIBING)
    return watcher


def streamed_as_it_happened(events: Iterator[pb.JobEvent], job_id: str, cluster: Replicas) -> None:
    """The snapshot, then every change, each within PUSH_SECONDS of its commit: both states that last
    a while (the stages) among them, each once, in order, to the end."""
    snapshot = next(events)
    assert snapshot.snapshot
    changes = [(event.job, time.time() - event.job.updated_at.ToDatetime().timestamp()) for event in events]
    states = [snapshot.job.state] + [job.state for job, _ in changes]
    assert pb.JOB_STATE_TRANSCRIBING in states and pb.JOB_STATE_GENERATING_IMAGE in states, states
    assert states[-1] == pb.JOB_STATE_COMPLETED and states == sorted(set(states)), states
    assert max(latency for _, latency in changes) < PUSH_SECONDS, changes
    assert cluster.stages()[("transcribe", job_id)] == 1


def test_a_watch_on_one_replica_streams_every_stage_of_a_job_another_runs_as_it_happens(cluster, speech):
    watcher = watch_only(cluster, speech)
    worker = cluster.start("a", stage_seconds="1")
    job = worker.stub.Submit(submit_requests(speech))

    events = watcher.stub.Watch(pb.WatchRequest(job_id=job.id), timeout=60)
    streamed_as_it_happened(events, job.id, cluster)


def test_a_replica_whose_listen_connection_is_killed_reconnects_and_still_streams_every_stage(
    cluster, speech, postgres_cluster, postgres_url
):
    watcher = watch_only(cluster, speech)
    worker = cluster.start("a", stage_seconds="1")
    job = worker.stub.Submit(submit_requests(speech))
    events = watcher.stub.Watch(pb.WatchRequest(job_id=job.id), timeout=60)

    with psycopg.connect(postgres_cluster.url(), autocommit=True) as admin:
        [killed] = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND application_name = %s AND query LIKE 'LISTEN %%'",
            (postgres_url.rsplit("/", 1)[1], f"voxprint {watcher.replica_id}"),
        ).fetchone()
    assert killed == 1
    streamed_as_it_happened(events, job.id, cluster)
    assert "listening for job changes again" in watcher.log()


def test_jobs_submitted_round_robin_are_each_processed_once_and_fetched_from_anywhere(cluster, speech):
    group = [cluster.start(name) for name in "abc"]
    jobs = [replica.stub.Submit(submit_requests(speech)) for _, replica in zip(range(12), itertools.cycle(group))]
    for job, reader in zip(jobs, itertools.cycle(group[1:] + group[:1])):
        done = finish(reader.stub, job.id)
        assert done.state == pb.JOB_STATE_COMPLETED and not done.error
        png = reader.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_PNG))
        raw = reader.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_RAW))
        assert png.data.startswith(b"\x89PNG") and len(raw.data) == raw.bytes_per_row * raw.height
    stages = cluster.stages()
    assert all(stages[(stage, job.id)] == 1 for job in jobs for stage in ("transcribe", "illustrate"))


def stuck_drawing(cluster: Replicas, speech: bytes):
    """Replica "a", alone, holding a job it will never finish drawing; (the replica, the job)."""
    replica = cluster.start("a", hang_in="illustrate")
    job = replica.stub.Submit(submit_requests(speech))
    until_state(replica.stub, job.id, pb.JOB_STATE_GENERATING_IMAGE)
    return replica, job


def test_a_killed_replicas_job_is_taken_over_once_its_lease_expires(cluster, speech):
    doomed, job = stuck_drawing(cluster, speech)
    survivor = cluster.start("b")
    doomed.kill()
    killed = time.monotonic()
    done = finish(survivor.stub, job.id)
    assert time.monotonic() - killed < TAKEOVER_SECONDS
    assert done.state == pb.JOB_STATE_COMPLETED and done.transcript == f"job {job.id}"
    assert cluster.stages()[("transcribe", job.id)] == 1
    assert cluster.stages()[("illustrate", job.id)] == 2


def test_a_restarted_replica_leaves_a_live_replicas_job_alone(cluster, speech):
    _busy, job = stuck_drawing(cluster, speech)
    restarted = cluster.start("b")
    restarted.kill()
    restarted = cluster.start("b")
    time.sleep(3 * LEASE_SECONDS)
    assert cluster.stages()[("illustrate", job.id)] == 1
    assert restarted.stub.GetJob(pb.GetJobRequest(job_id=job.id)).state == pb.JOB_STATE_GENERATING_IMAGE


def test_a_job_whose_picture_is_gone_from_storage_is_data_loss_without_a_path(cluster, s3_client, s3_media_url, speech):
    replica = cluster.start("a")
    job = finish(replica.stub, replica.stub.Submit(submit_requests(speech)).id)
    bucket, prefix = s3_media_url.removeprefix("s3://").split("/", 1)
    for stored in s3_client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/image/")["Contents"]:
        s3_client.delete_object(Bucket=bucket, Key=stored["Key"])
    with pytest.raises(grpc.RpcError) as error:
        replica.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_PNG))
    assert error.value.code() == grpc.StatusCode.DATA_LOSS and job.id in error.value.details()
    assert "/" not in error.value.details().replace(job.id, "")


def test_under_load_each_replica_holds_no_more_than_its_pool_and_one_connection_to_listen(
    cluster, postgres_cluster, postgres_url, speech
):
    group = [cluster.start(name) for name in "abc"]
    peaks: Counter[str] = Counter()
    loaded = threading.Event()

    def sample() -> None:
        while not loaded.is_set():
            for name, count in postgres_cluster.connections_by_application(postgres_url).items():
                if name.startswith("voxprint "):
                    peaks[name] = max(peaks[name], count)
            time.sleep(0.01)

    def submit_and_watch(replica: ReplicaProcess) -> None:
        job = replica.stub.Submit(submit_requests(speech))
        finish(group[(group.index(replica) + 1) % len(group)].stub, job.id)

    sampler = threading.Thread(target=sample)
    sampler.start()
    clients = [threading.Thread(target=submit_and_watch, args=(replica,)) for replica in group * 10]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    loaded.set()
    sampler.join()
    assert len(peaks) == 3 and max(peaks.values()) <= POOL_SIZE + 1, peaks
