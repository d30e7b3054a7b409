"""Outages of what the replicas share, with the real engines: PostgreSQL restarted and out of disk, S3
unreachable for 20 s, a replica frozen past its lease.

Replicas are real ``voxprint-server`` processes on PostgreSQL (Debian's server) and moto's S3 server,
with the stand-in stages of ``tests.support.stage_backends``, which log every stage they start: a
job lost shows as a job that never finishes, and a stage run twice as a second line in that log.
The restart, the S3 outage and the freeze are each played once, under load, by a module-scoped
fixture that records what was seen; each test then reads one thing from that record.
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from tests.support.disks import fill_disk
from tests.support.outages import (
    NOT_SERVING,
    SERVING,
    RestartablePostgres,
    TcpProxy,
    eventually,
    freeze,
    health,
    health_within,
    settle,
    thaw,
)
from tests.support.postgres import PostgresCluster
from tests.support.replicas import ReplicaProcess, Replicas
from tests.support.servers import submit_requests, watch_events
from voxprint.v1 import voxprint_pb2 as pb

pytestmark = pytest.mark.slow

# Every wait below is bounded by one of these.
START_SECONDS = 60
SETTLE_SECONDS = 90
HEALTH_SECONDS = 10


@dataclass
class Outage:
    """What the replicas and their clients saw around one outage."""

    replicas: dict[str, ReplicaProcess]
    jobs: list[str]
    # Each replica's overall health during the outage (NOT_SERVING as soon as it said so) and after
    # it (SERVING as soon as it said so); None for no answer.
    health_during: dict[str, int | None] = field(default_factory=dict)
    health_after: dict[str, int | None] = field(default_factory=dict)
    submit_during: grpc.StatusCode | None = None
    submit_during_details: str = ""
    ended_at: float = 0.0
    final: dict[str, tuple[pb.Job, float]] = field(default_factory=dict)
    stages: Counter[tuple[str, str]] = field(default_factory=Counter)

    def log(self, name: str) -> str:
        return self.replicas[name].log()


def group_on(root: Path, database: str, bucket_url: str, s3_environment: dict[str, str], **defaults: str) -> Replicas:
    group = Replicas(root)
    group.environment.update(s3_environment)
    group.defaults = {
        "database": database,
        "media_url": bucket_url,
        "backends": "stand-in",
        "db_pool_size": "3",
        **defaults,
    }
    return group


def fresh_bucket(s3_client) -> str:
    bucket = f"voxprint-{uuid.uuid4().hex}"
    s3_client.create_bucket(Bucket=bucket)
    return f"s3://{bucket}/media"


def submit_round_robin(replicas: list[ReplicaProcess], recording: bytes, count: int) -> list[str]:
    return [
        replica.stub.Submit(submit_requests(recording), timeout=30).id
        for replica, _ in zip(itertools.cycle(replicas), range(count))
    ]


def until_stages_started(group: Replicas, count: int) -> None:
    """Wait until ``count`` stages have started, so the outage meets jobs in flight."""
    assert eventually(lambda: sum(group.stages().values()) >= count, START_SECONDS)


def watch_health_and_submit(outage: Outage, replica: ReplicaProcess, recording: bytes, seconds: float) -> None:
    """For ``seconds``: record each replica's health once it turns NOT_SERVING, and one Submit's answer."""
    deadline = time.monotonic() + seconds
    try:
        replica.stub.Submit(submit_requests(recording), timeout=seconds)
    except grpc.RpcError as refused:
        outage.submit_during, outage.submit_during_details = refused.code(), refused.details()
    for name, each in outage.replicas.items():
        outage.health_during[name] = health_within(each, NOT_SERVING, max(0.0, deadline - time.monotonic()))
    time.sleep(max(0.0, deadline - time.monotonic()))


def after(outage: Outage, group: Replicas) -> None:
    """Wait for every job, then for health, and record both."""
    outage.final = settle(list(outage.replicas.values()), outage.jobs, SETTLE_SECONDS)
    for name, replica in outage.replicas.items():
        outage.health_after[name] = health_within(replica, SERVING, HEALTH_SECONDS)
    outage.stages = group.stages()


def completed(outage: Outage) -> list[str]:
    return [
        job_id for job_id, (job, _) in outage.final.items() if job.state == pb.JOB_STATE_COMPLETED and not job.error
    ]


def stages_run_twice(outage: Outage) -> list[tuple[str, str]]:
    return [stage for stage, count in outage.stages.items() if count > 1]


@pytest.fixture(scope="module")
def speech(speech_wav: Path) -> bytes:
    """A recording with speech in it: the speech gate passes it on to the stand-in transcriber."""
    return speech_wav.read_bytes()


# -- PostgreSQL restarts ------------------------------------------------------------------------

RESTART_LEASE_SECONDS = 10
# Down for this long (plus the start itself): shorter than what is left of any lease, so no claim
# expires and nothing needs to be taken over.
RESTART_DOWN_SECONDS = 3.0


@pytest.fixture(scope="module")
def restart(tmp_path_factory, speech, s3_environment, s3_client) -> Iterator[Outage]:
    """Two replicas with eight jobs between them; PostgreSQL is shut down (fast) mid-work and started again."""
    with RestartablePostgres() as postgres:
        group = group_on(
            tmp_path_factory.mktemp("restart"),
            postgres.new_database(),
            fresh_bucket(s3_client),
            s3_environment,
            lease_seconds=str(RESTART_LEASE_SECONDS),
            stage_seconds="1",
        )
        try:
            replicas = {name: group.start(name) for name in "ab"}
            outage = Outage(replicas, submit_round_robin(list(replicas.values()), speech, 8))
            until_stages_started(group, 2)
            with postgres.down():
                watch_health_and_submit(outage, replicas["a"], speech, RESTART_DOWN_SECONDS)
            outage.ended_at = time.monotonic()
            after(outage, group)
            yield outage
        finally:
            group.stop_all()


def test_replicas_report_not_serving_while_postgresql_is_down(restart):
    assert restart.health_during == {"a": NOT_SERVING, "b": NOT_SERVING}


def test_a_submit_while_postgresql_is_down_answers_unavailable(restart):
    assert restart.submit_during == grpc.StatusCode.UNAVAILABLE, restart.submit_during_details


def test_replicas_serve_again_by_themselves_once_postgresql_is_back(restart):
    assert restart.health_after == {"a": SERVING, "b": SERVING}
    assert all(replica.process.poll() is None for replica in restart.replicas.values())


def test_every_job_accepted_before_a_restart_completes_within_two_leases_of_its_return(restart):
    assert sorted(completed(restart)) == sorted(restart.jobs)
    last = max(finished for _, finished in restart.final.values())
    assert last - restart.ended_at < 2 * RESTART_LEASE_SECONDS


def test_a_restart_shorter_than_a_lease_runs_no_stage_twice(restart):
    """A result finished while the database was down is written once it is back, not computed again."""
    assert stages_run_twice(restart) == []
    assert sum(restart.stages.values()) == 2 * len(restart.jobs)


# -- PostgreSQL runs out of disk ----------------------------------------------------------------


@pytest.fixture
def on_a_full_database(
    replicas: Replicas, postgres_url_on_small_disk: tuple[str, Path]
) -> Iterator[tuple[ReplicaProcess, Callable[[], None]]]:
    """A replica whose database's tablespace has just been filled; the function gives the space back."""
    url, disk = postgres_url_on_small_disk
    replica = replicas.start("a", database=url, lease_seconds="3")
    release = fill_disk(disk)
    yield replica, release
    if (disk / "filler").exists():
        release()


def test_a_submit_when_postgresql_has_no_space_left_is_resource_exhausted_saying_so(on_a_full_database, speech):
    replica, _ = on_a_full_database

    with pytest.raises(grpc.RpcError) as refused:
        replica.stub.Submit(submit_requests(speech), timeout=30)

    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.value.details() == "no space left to store the job; try again later"


def test_a_replica_whose_postgresql_had_no_space_finishes_jobs_once_it_has_again(on_a_full_database, speech):
    replica, release = on_a_full_database
    with pytest.raises(grpc.RpcError):
        replica.stub.Submit(submit_requests(speech), timeout=30)
    assert eventually(lambda: health(replica) == NOT_SERVING, HEALTH_SECONDS)
    release()

    assert eventually(lambda: health(replica) == SERVING, HEALTH_SECONDS)
    job = replica.stub.Submit(submit_requests(speech), timeout=30)
    assert watch_events(replica.stub, job.id, timeout=60)[-1].job.state == pb.JOB_STATE_COMPLETED


# -- S3 unreachable for 20 s --------------------------------------------------------------------

S3_OUTAGE_SECONDS = 20.0
S3_LEASE_SECONDS = 3
# Jobs finish this soon after S3 returns: the longest wait between two tries of a stage, and the stages.
S3_CATCH_UP_SECONDS = 15


@pytest.fixture(scope="module")
def s3_outage(tmp_path_factory, speech, postgres_cluster: PostgresCluster, s3_endpoint, s3_environment, s3_client):
    """Two replicas reach S3 through a proxy, which is cut for 20 s while eight jobs are under way."""
    proxy = TcpProxy(s3_endpoint)
    group = group_on(
        tmp_path_factory.mktemp("s3-outage"),
        postgres_cluster.new_database(),
        fresh_bucket(s3_client),
        {**s3_environment, "AWS_ENDPOINT_URL": proxy.url},
        lease_seconds=str(S3_LEASE_SECONDS),
        stage_seconds="0.5",
    )
    try:
        replicas = {name: group.start(name) for name in "ab"}
        outage = Outage(replicas, submit_round_robin(list(replicas.values()), speech, 8))
        until_stages_started(group, 2)
        with proxy.cut_off():
            watch_health_and_submit(outage, replicas["a"], speech, S3_OUTAGE_SECONDS)
        outage.ended_at = time.monotonic()
        after(outage, group)
        yield outage
    finally:
        group.stop_all()
        proxy.cut()


def test_jobs_under_way_when_s3_goes_away_complete_once_it_returns(s3_outage):
    assert sorted(completed(s3_outage)) == sorted(s3_outage.jobs)
    last = max(finished for _, finished in s3_outage.final.values())
    assert last - s3_outage.ended_at < S3_CATCH_UP_SECONDS


def test_stages_wait_for_s3_instead_of_running_again(s3_outage):
    assert stages_run_twice(s3_outage) == []


def test_stages_retry_s3_with_growing_waits(s3_outage):
    """Every try of a stage's storage call is logged with the wait before the next; the waits grow."""
    for name in s3_outage.replicas:
        waits = [
            float(wait)
            for wait in re.findall(
                r"media \S+ failed \(MediaUnavailable\), retry \d+ in ([\d.]+) s", s3_outage.log(name)
            )
        ]
        assert waits, f"replica {name} never retried S3"
        assert max(waits) > 3 * min(waits)
        # 20 s of outage: a handful of tries per stage that waited, not a busy loop.
        assert len(waits) < 60


def test_replicas_report_not_serving_while_s3_is_unreachable_and_serving_after(s3_outage):
    assert s3_outage.health_during == {"a": NOT_SERVING, "b": NOT_SERVING}
    assert s3_outage.health_after == {"a": SERVING, "b": SERVING}


def test_the_replicas_log_says_health_is_not_serving_because_s3_cannot_be_reached(s3_outage):
    for name in s3_outage.replicas:
        assert re.search(r"health is NOT_SERVING: .*cannot reach S3 for bucket 'voxprint-\w+'", s3_outage.log(name))


def test_a_submit_while_s3_is_unreachable_answers_unavailable(s3_outage):
    assert s3_outage.submit_during == grpc.StatusCode.UNAVAILABLE
    assert s3_outage.submit_during_details == "cannot store the recording right now; try again later"


# -- A replica freezes past its lease -----------------------------------------------------------

FREEZE_LEASE_SECONDS = 3
# The frozen replica's stages: long enough to be frozen in the middle of one.
FROZEN_STAGE_SECONDS = "2.5"


@dataclass
class Freeze:
    frozen: ReplicaProcess
    survivor: ReplicaProcess
    jobs: list[str]
    bucket: str
    prefix: str
    taken_over_in: float = 0.0
    # Per job: what a client read from the survivor before the frozen replica was thawed, and after.
    before: dict[str, tuple[pb.Job, bytes, bytes]] = field(default_factory=dict)
    after: dict[str, tuple[pb.Job, bytes, bytes]] = field(default_factory=dict)
    # The pictures in the bucket once the thawed replica has done what it could: key → bytes.
    pictures_after: dict[str, bytes] = field(default_factory=dict)
    stages: Counter[tuple[str, str]] = field(default_factory=Counter)


def read_results(replica: ReplicaProcess, job_id: str) -> tuple[pb.Job, bytes, bytes]:
    job = replica.stub.GetJob(pb.GetJobRequest(job_id=job_id), timeout=10)
    png = replica.stub.Fetch(pb.FetchRequest(job_id=job_id, format=pb.FORMAT_PNG), timeout=10).data
    raw = replica.stub.Fetch(pb.FetchRequest(job_id=job_id, format=pb.FORMAT_RAW), timeout=10).data
    return job, png, raw


@pytest.fixture(scope="module")
def freeze_past_lease(tmp_path_factory, speech, postgres_cluster: PostgresCluster, s3_environment, s3_client):
    """Replica "a" is frozen while drawing two jobs; "b" takes them over; then "a" is thawed."""
    bucket_url = fresh_bucket(s3_client)
    group = group_on(
        tmp_path_factory.mktemp("freeze"),
        postgres_cluster.new_database(),
        bucket_url,
        s3_environment,
        lease_seconds=str(FREEZE_LEASE_SECONDS),
    )
    bucket, prefix = bucket_url.removeprefix("s3://").split("/", 1)
    try:
        frozen = group.start("a", workers="2", stage_seconds=FROZEN_STAGE_SECONDS)
        jobs = submit_round_robin([frozen], speech, 2)
        assert eventually(lambda: all(group.stages()[("illustrate", job)] for job in jobs), START_SECONDS)
        freeze(frozen)
        frozen_at = time.monotonic()
        survivor = group.start("b", workers="2")
        scene = Freeze(frozen, survivor, jobs, bucket, prefix)
        final = settle([survivor], jobs, SETTLE_SECONDS)
        scene.taken_over_in = max((seen for _, seen in final.values()), default=float("inf")) - frozen_at
        scene.before = {job: read_results(survivor, job) for job in jobs}
        thaw(frozen)
        assert eventually(lambda: all(f"lost the lease of job {job}" in frozen.log() for job in jobs), START_SECONDS)
        scene.after = {job: read_results(survivor, job) for job in jobs}
        listed = s3_client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/image/").get("Contents", [])
        scene.pictures_after = {
            item["Key"].removeprefix(f"{prefix}/"): s3_client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            for item in listed
        }
        scene.stages = group.stages()
        yield scene
    finally:
        group.stop_all()


def test_a_survivor_finishes_the_jobs_of_a_replica_frozen_past_its_lease(freeze_past_lease):
    scene = freeze_past_lease
    assert all(job.state == pb.JOB_STATE_COMPLETED and not job.error for job, _, _ in scene.before.values())
    # The lease, a claim, the survivor's start-up and its stages.
    assert scene.taken_over_in < 6 * FREEZE_LEASE_SECONDS


def test_the_thawed_replica_logs_that_it_lost_the_lease_of_each_job(freeze_past_lease):
    said = freeze_past_lease.frozen.log()
    assert all(f"lost the lease of job {job}" in said for job in freeze_past_lease.jobs)


def test_fencing_refuses_every_write_of_the_thawed_replica(freeze_past_lease):
    """Not one column of the jobs changed once it was thawed (a write would at least bump the version)."""
    scene = freeze_past_lease
    assert [scene.after[job][0] for job in scene.jobs] == [scene.before[job][0] for job in scene.jobs]


def test_the_results_are_the_survivors_byte_for_byte(freeze_past_lease):
    scene = freeze_past_lease
    assert scene.after == scene.before
    # Pictures are stored by claim: the survivor's is the job's second; the frozen replica's first
    # one was taken back when its write was refused.
    assert scene.pictures_after == {f"image/{job}-2.png": scene.after[job][1] for job in scene.jobs}


def test_only_the_stage_the_frozen_replica_was_in_ran_again(freeze_past_lease):
    stages = freeze_past_lease.stages
    for job in freeze_past_lease.jobs:
        assert (stages[("transcribe", job)], stages[("illustrate", job)]) == (1, 2)
