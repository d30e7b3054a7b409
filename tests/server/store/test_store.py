"""Specification of the job store and the work queue, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
import uuid

import peewee
import psycopg
import pytest
import time_machine
from playhouse.migrate import migrate as apply_operations
from playhouse.pool import PooledPostgresqlDatabase

from tests.support.store import new_job, submit
from voxprint.server.store import (
    DEFAULT_TENANT,
    DatabaseAccess,
    DuplicateRequest,
    JobQueue,
    JobStore,
    LeaseLost,
    State,
    open_database,
)
from voxprint.server.store.database import connect_database
from voxprint.server.store.migrations import MIGRATIONS, migrate, schema_version
from voxprint.server.store.models import Job, RasterData


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_full_sync(tmp_path):
    access = DatabaseAccess(open_database(f"sqlite:///{tmp_path / 'jobs.db'}"))
    with access.reading():
        pragma = lambda name: access.db.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
        assert (pragma("journal_mode"), pragma("busy_timeout"), pragma("synchronous")) == ("wal", 10_000, 2)
    access.close()


def test_new_database_is_at_the_latest_schema_version(access):
    with access.reading():
        assert schema_version(access.db) == len(MIGRATIONS)


def test_existing_database_is_upgraded_by_pending_migrations_only(access, job_store):
    submit(job_store)
    applied = []

    def add_priority(db, migrator):
        applied.append("priority")
        apply_operations(migrator.add_column("job", "priority", peewee.IntegerField(default=0)))

    migrate(access.db, [*MIGRATIONS, add_priority])
    migrate(access.db, [*MIGRATIONS, add_priority])
    with access.reading():
        columns = {column.name for column in access.db.get_columns("job")}
        assert applied == ["priority"] and "priority" in columns
        assert schema_version(access.db) == len(MIGRATIONS) + 1
        assert Job.select().count() == 1


def old_database(url: str, version: int, insert: str, parameters: tuple) -> str:
    """The empty database at ``url`` brought to schema ``version`` only, holding one row written with
    ``insert`` (``?`` placeholders, whatever the engine); returns ``url``."""
    db = connect_database(url, pool_size=1)
    migrate(db, MIGRATIONS[:version])
    with db.connection_context():
        assert schema_version(db) == version
        db.execute_sql(insert.replace("?", db.param), parameters)
    db.close_all()
    return url


def upgraded(url: str) -> DatabaseAccess:
    """The old database at ``url`` opened as a starting server opens it, which migrates it."""
    access = DatabaseAccess(open_database(url))
    with access.reading():
        assert schema_version(access.db) == len(MIGRATIONS)
    return access


def test_a_version_1_database_keeps_its_rasters_when_upgraded(database_url):
    job_id = uuid.uuid4()
    url = old_database(
        database_url,
        1,
        "INSERT INTO job (id, request_id, state, version, filename, content_type, audio_path, audio_size,"
        " audio_duration, width, dither, raster, raster_width, raster_height, raster_bytes_per_row, transcriber,"
        " illustrator, timings, created_at, updated_at) VALUES (?, NULL, 'completed', 6, 'a.wav', 'audio/wav',"
        " 'audio/a.wav', 10, 1.0, 8, 'threshold', ?, 8, 1, 1, '', '', '{}', '2026-01-01', '2026-01-01')",
        (job_id.hex, b"\x81"),
    )
    access = upgraded(url)
    assert JobStore(access).raster_of(job_id) == b"\x81"
    assert "raster" not in {column.name for column in access.db.get_columns("job")}
    access.close()


def test_replicas_starting_together_on_an_empty_postgres_database_all_migrate_it(postgres_url):
    errors: list[BaseException] = []
    databases = [PooledPostgresqlDatabase(postgres_url, max_connections=2) for _ in range(4)]

    def start(db: peewee.Database) -> None:
        try:
            migrate(db)
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=start, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with databases[0].connection_context():
        assert schema_version(databases[0]) == len(MIGRATIONS)
    for db in databases:
        db.close_all()


def test_duplicate_request_id_is_reported_as_such(job_store):
    job_store.create(new_job("r-1"), uuid.uuid4())
    with pytest.raises(DuplicateRequest):
        job_store.create(new_job("r-1"), uuid.uuid4())


def test_each_write_bumps_the_version(job_store, replica):
    submit(job_store)
    queue = replica("a")
    job = queue.claim_next()
    job = queue.update(job, state=State.TRANSCRIBING.value)
    job = queue.update(job, state=State.TRANSCRIBED.value, transcript="hi")
    assert (job.version, job_store.get(job.id).transcript) == (3, "hi")


def test_claims_take_oldest_first_and_never_the_same_job_twice(job_store, replica):
    created = submit(job_store, 3)
    a, b = replica("a"), replica("b")
    claimed = [a.claim_next().id, b.claim_next().id, a.claim_next().id]
    assert claimed == created and b.claim_next() is None


def test_concurrent_claimers_split_the_jobs_without_overlap(job_store, replica):
    submit(job_store, 40)
    taken: list[uuid.UUID] = []
    queues = [replica(f"r{n}") for n in range(4)]

    def claim_all(queue: JobQueue) -> None:
        while (job := queue.claim_next()) is not None:
            taken.append(job.id)

    workers = [threading.Thread(target=claim_all, args=(queue,)) for queue in queues]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(taken) == 40 == len(set(taken))


def test_postgres_claimers_pass_over_a_job_being_claimed_and_never_lose_a_race_thanks_to_skip_locked(postgres_url):
    access = DatabaseAccess(open_database(postgres_url))
    created = submit(JobStore(access), 60)
    queues = [JobQueue(access, f"r{n}") for n in range(6)]
    claimed: list[uuid.UUID] = []

    def claim_all(queue: JobQueue) -> None:
        while (job := queue.claim_next()) is not None:
            claimed.append(job.id)

    with psycopg.connect(postgres_url) as other_claimer:
        # Another claimer is half-way through claiming the oldest job: it holds the row's lock.
        other_claimer.execute("SELECT id FROM job ORDER BY created_at LIMIT 1 FOR UPDATE")
        threads = [threading.Thread(target=claim_all, args=(queue,)) for queue in queues]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 15
        for thread in threads:
            thread.join(timeout=max(0, deadline - time.monotonic()))
        waiting = [thread for thread in threads if thread.is_alive()]
        other_claimer.rollback()
    for thread in waiting:
        thread.join()
    assert waiting == [], "claimers waited for the locked row instead of passing over it"
    assert sorted(claimed) == sorted(created[1:])
    assert queues[0].claim_next().id == created[0]  # the other claimer let go of it
    assert sum(queue.lost_races for queue in queues) == 0
    access.close()


def test_terminal_jobs_are_never_claimed(job_store, replica):
    submit(job_store)
    queue = replica("a")
    queue.update(queue.claim_next(), state=State.FAILED.value)
    assert queue.claim_next() is None


def test_a_live_claim_is_not_taken_over(job_store, replica):
    submit(job_store)
    replica("a").claim_next()
    assert replica("b").claim_next() is None


def test_an_expired_claim_is_taken_over_by_another_replica(job_store, replica):
    [job_id] = submit(job_store)
    first = replica("dead", lease_seconds=0.05).claim_next()
    time.sleep(0.1)
    second = replica("alive").claim_next()
    assert (second.id, second.attempt) == (job_id, first.attempt + 1)


def test_a_heartbeat_keeps_the_claim(job_store, replica):
    submit(job_store)
    holder = replica("a", lease_seconds=0.3)
    running = holder.claim_next()
    for _ in range(4):
        time.sleep(0.1)
        assert holder.heartbeat([running]) == 1
    assert replica("b").claim_next() is None


def test_a_heartbeat_renews_only_the_jobs_being_run_so_an_abandoned_claim_expires(job_store, replica):
    submit(job_store, 2)
    holder = replica("a", lease_seconds=0.3)
    running, abandoned = holder.claim_next(), holder.claim_next()  # abandoned: its release failed
    for _ in range(4):
        time.sleep(0.1)
        assert holder.heartbeat([running]) == 1
    taken = replica("b").claim_next()
    assert taken.id == abandoned.id and replica("b").claim_next() is None


def test_a_replica_whose_clock_runs_fast_takes_no_live_job(job_store, replica):
    submit(job_store)
    replica("a", lease_seconds=30).claim_next()
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=40)):
        assert replica("fast").claim_next() is None


def test_a_replica_whose_clock_runs_slow_still_takes_an_expired_job(job_store, replica):
    [job_id] = submit(job_store)
    replica("dead", lease_seconds=0.05).claim_next()
    time.sleep(0.1)
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=60)):
        assert replica("slow").claim_next().id == job_id


def test_a_worker_that_lost_its_claim_cannot_write(job_store, replica):
    submit(job_store)
    loser = replica("paused", lease_seconds=0.05)
    stale = loser.claim_next()
    time.sleep(0.1)
    winner = replica("alive")
    winner.update(winner.claim_next(), state=State.TRANSCRIBED.value, transcript="the winner's")
    with pytest.raises(LeaseLost):
        loser.update(stale, state=State.TRANSCRIBED.value, transcript="the loser's")
    assert job_store.get(stale.id).transcript == "the winner's"


def test_a_restarted_replica_frees_only_its_own_claims(job_store, replica):
    mine, theirs = submit(job_store, 2)
    replica("me").claim_next()
    replica("them").claim_next()
    assert replica("me").release_own_claims() == 1
    assert replica("me").claim_next().id == mine
    assert job_store.get(theirs).claimed_by == "them"


def test_the_raster_is_stored_apart_from_the_job_row(job_store, replica):
    [job_id] = submit(job_store)
    queue = replica("a")
    queue.complete_with_raster(
        queue.claim_next(),
        b"\x01\x02",
        state=State.COMPLETED.value,
        raster_width=8,
        raster_height=2,
        raster_bytes_per_row=1,
    )
    assert job_store.raster_of(job_id) == b"\x01\x02"
    assert "raster" not in {field.name for field in Job._meta.sorted_fields}
    assert RasterData.select().count() == 1


def test_pages_run_newest_first_without_gaps_or_repeats(job_store):
    ids = submit(job_store, 7)
    seen, before = [], None
    while page := job_store.page(DEFAULT_TENANT, limit=3, before=before):
        seen += [job.id for job in page]
        before = (page[-1].created_at, page[-1].id)
    assert seen == ids[::-1]


def test_a_version_2_database_gives_its_jobs_to_the_default_tenant(database_url):
    job_id = uuid.uuid4()
    url = old_database(
        database_url,
        2,
        "INSERT INTO job (id, request_id, state, version, filename, content_type, audio_path, audio_size,"
        " audio_duration, width, dither, transcriber, illustrator, timings, created_at, updated_at, attempt)"
        " VALUES (?, 'r-1', 'pending', 1, 'a.wav', 'audio/wav', 'audio/a.wav', 10, 1.0, 8, 'threshold', '', '',"
        " '{}', '2026-01-01', '2026-01-01', 0)",
        (job_id.hex,),
    )
    access = upgraded(url)
    assert JobStore(access).by_request_id(DEFAULT_TENANT, "r-1").id == job_id
    # The old index kept request ids unique across all jobs; now another tenant may use the same.
    assert JobStore(access).create(new_job("r-1", tenant="kitchen"), uuid.uuid4()).tenant == "kitchen"
    access.close()


def test_a_job_is_read_only_by_its_tenant(job_store):
    job = job_store.create(new_job(tenant="kitchen"), uuid.uuid4())

    assert job_store.get(job.id, tenant="kitchen").id == job.id
    assert job_store.get(job.id, tenant="workshop") is None


def test_pages_hold_only_the_tenants_own_jobs(job_store):
    own = job_store.create(new_job(tenant="kitchen"), uuid.uuid4())
    job_store.create(new_job(tenant="workshop"), uuid.uuid4())

    assert [job.id for job in job_store.page("kitchen", limit=10)] == [own.id]


def test_one_request_id_makes_one_job_per_tenant(job_store):
    kitchen = job_store.create(new_job("r-1", tenant="kitchen"), uuid.uuid4())
    workshop = job_store.create(new_job("r-1", tenant="workshop"), uuid.uuid4())

    assert job_store.by_request_id("kitchen", "r-1").id == kitchen.id
    assert job_store.by_request_id("workshop", "r-1").id == workshop.id
    with pytest.raises(DuplicateRequest):
        job_store.create(new_job("r-1", tenant="kitchen"), uuid.uuid4())


def test_the_write_probe_writes_nothing_into_the_jobs_table_and_leaves_nothing(access):
    with access.reading():
        tables_before = access.db.get_tables()
    access.probe_write()

    with access.reading():
        assert Job.select().count() == 0
        assert access.db.execute_sql("SELECT COUNT(*) FROM write_probe").fetchone()[0] == 0
        assert access.db.get_tables() == tables_before


def test_a_replica_holds_no_more_connections_than_its_pool(postgres_url, postgres_cluster):
    access = DatabaseAccess(open_database(postgres_url, pool_size=3))
    store = JobStore(access)
    submit(store)
    peak = []

    def read_a_lot() -> None:
        for _ in range(20):
            store.page(DEFAULT_TENANT, limit=5)
            peak.append(postgres_cluster.connection_count(postgres_url))

    threads = [threading.Thread(target=read_a_lot) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(peak) <= 3
    access.close()


@pytest.mark.slow
def test_the_claim_query_uses_the_partial_index_among_half_a_million_jobs(postgres_url):
    access = DatabaseAccess(open_database(postgres_url))
    with access.writing():
        access.db.execute_sql(
            "INSERT INTO job (id, state, version, attempt, filename, content_type, audio_path, audio_size,"
            " audio_duration, width, dither, transcriber, illustrator, timings, created_at, updated_at)"
            " SELECT gen_random_uuid(), CASE WHEN mod(n, 1000) = 0 THEN 'pending' ELSE 'completed' END, 1, 0, '', '',"
            " 'audio/x.wav', 1, 1.0, 384, 'threshold', '', '', '{}', now() - n * interval '1 second', now()"
            " FROM generate_series(1, 500000) AS n"
        )
    with access.reading():
        access.db.execute_sql("ANALYZE job")
    plan = JobQueue(access, "a").explain_claim()
    assert "Index Scan using job_claimable" in plan and "Seq Scan" not in plan, plan
    access.close()


def test_a_postgres_url_without_psycopg_installed_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the 'postgres' extra were not installed
    with pytest.raises(ValueError, match=r"pip install 'voxprint\[postgres\]'"):
        connect_database("postgresql://voxprint@127.0.0.1:1/voxprint", pool_size=1)
