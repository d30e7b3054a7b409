"""Specification of the job store: schema migrations, the claim queue, and paging."""

from __future__ import annotations

import threading
import uuid

import peewee
import pytest
from playhouse.migrate import migrate as apply_operations

from server import store
from server.store import JobStore, NewJob, State


@pytest.fixture
def job_store(tmp_path) -> JobStore:
    db = store.open_database(f"sqlite:///{tmp_path / 'jobs.db'}")
    yield JobStore(db)
    db.close()


def new_job(request_id: str | None = None) -> NewJob:
    return NewJob(
        request_id=request_id,
        filename="a.wav",
        content_type="audio/wav",
        audio_path="audio/a.wav",
        audio_size=10,
        audio_duration=1.0,
        width=384,
        dither="floyd-steinberg",
    )


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(job_store):
    assert job_store.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert job_store.db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 10_000


def test_new_database_is_at_the_latest_schema_version(job_store):
    assert store.schema_version(job_store.db) == len(store.MIGRATIONS)


def test_existing_database_is_upgraded_by_pending_migrations_only(job_store):
    job_store.create(new_job(), uuid.uuid4())
    applied = []

    def add_priority(db, migrator):
        applied.append("priority")
        apply_operations(migrator.add_column("job", "priority", peewee.IntegerField(default=0)))

    store.migrate(job_store.db, [*store.MIGRATIONS, add_priority])
    store.migrate(job_store.db, [*store.MIGRATIONS, add_priority])
    columns = {column.name for column in job_store.db.get_columns("job")}
    assert applied == ["priority"] and "priority" in columns
    assert store.schema_version(job_store.db) == len(store.MIGRATIONS) + 1
    assert store.Job.select().count() == 1


def test_duplicate_request_id_is_reported_as_such(job_store):
    job_store.create(new_job("r-1"), uuid.uuid4())
    with pytest.raises(store.DuplicateRequest):
        job_store.create(new_job("r-1"), uuid.uuid4())


def test_update_bumps_the_version_each_time(job_store):
    job = job_store.create(new_job(), uuid.uuid4())
    job = job_store.update(job, state=State.TRANSCRIBING.value)
    job = job_store.update(job, state=State.TRANSCRIBED.value, transcript="hi")
    assert (job.version, job.state, job.transcript) == (3, "transcribed", "hi")


def test_claims_take_oldest_first_and_never_the_same_job_twice(job_store):
    created = [job_store.create(new_job(), uuid.uuid4()).id for _ in range(3)]
    claimed = [
        job_store.claim_next("worker-a").id,
        job_store.claim_next("worker-b").id,
        job_store.claim_next("worker-a").id,
    ]
    assert claimed == created and job_store.claim_next("worker-b") is None


def test_concurrent_claimers_split_the_jobs_without_overlap(job_store):
    for _ in range(40):
        job_store.create(new_job(), uuid.uuid4())
    taken: list[uuid.UUID] = []

    def claim_all(owner: str) -> None:
        while (job := job_store.claim_next(owner)) is not None:
            taken.append(job.id)

    workers = [threading.Thread(target=claim_all, args=(f"w{n}",)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(taken) == 40 == len(set(taken))


def test_terminal_jobs_are_never_claimed(job_store):
    job = job_store.create(new_job(), uuid.uuid4())
    job_store.update(job, state=State.FAILED.value)
    assert job_store.claim_next("w") is None


def test_restart_releases_claims_of_unfinished_jobs(job_store):
    job = job_store.create(new_job(), uuid.uuid4())
    job_store.claim_next("crashed-process")
    assert job_store.claim_next("new-process") is None
    assert job_store.release_all_claims() == 1
    assert job_store.claim_next("new-process").id == job.id


def test_pages_run_newest_first_without_gaps_or_repeats(job_store):
    ids = [job_store.create(new_job(), uuid.uuid4()).id for _ in range(7)]
    seen, before = [], None
    while page := job_store.page(limit=3, before=before):
        seen += [job.id for job in page]
        before = (page[-1].created_at, page[-1].id)
    assert seen == ids[::-1]


def test_update_from_a_stale_copy_is_refused(job_store):
    job = job_store.create(new_job(), uuid.uuid4())
    stale = store.Job.get_by_id(job.id)
    job_store.update(job, state=State.TRANSCRIBING.value)
    with pytest.raises(store.ConcurrentUpdate):
        job_store.update(stale, state=State.FAILED.value)
    assert store.Job.get_by_id(job.id).state == "transcribing"
