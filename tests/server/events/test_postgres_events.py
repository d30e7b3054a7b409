"""Job changes committed on PostgreSQL reach this replica's watchers through LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from tests.support.store import new_job
from voxprint.server.events import JobEvents
from voxprint.server.events.postgres import PostgresChangeListener
from voxprint.server.messages import job_to_proto
from voxprint.server.store import DatabaseAccess, JobQueue, JobStore, State, open_database
from voxprint.server.store.database import CHANGE_CHANNEL

MALFORMED = "not a job change, and a long one: " + "x" * 150


def test_a_malformed_notice_is_skipped_and_logged_and_later_changes_still_arrive(postgres_url, caplog):
    caplog.set_level(logging.WARNING, logger="voxprint.server.events.postgres")
    access = DatabaseAccess(open_database(postgres_url))
    store = JobStore(access)
    job = store.create(new_job(), uuid.uuid4())
    loop = asyncio.new_event_loop()
    events = JobEvents(loop)
    listener = PostgresChangeListener(postgres_url, "voxprint test", events, store.get_many, job_to_proto)
    listener.start()

    async def watch_while_another_replica_writes() -> int:
        with events.subscribe(str(job.id)) as changes:
            with psycopg.connect(postgres_url, autocommit=True) as anyone:
                anyone.execute("SELECT pg_notify(%s, %s)", (CHANGE_CHANNEL, MALFORMED))
            other_replica = JobQueue(access, "other")
            other_replica.update(other_replica.claim_next(), state=State.TRANSCRIBING.value)
            change = await asyncio.wait_for(changes.get(), 10)
            return change.version

    try:
        assert loop.run_until_complete(watch_while_another_replica_writes()) == 2
    finally:
        listener.stop()
        loop.close()
        access.close()
    # Shown cut to its first 100 characters: a notice is anyone's to send.
    assert listener_warnings(caplog) == [f"ignored a malformed job-change notice {MALFORMED[:100]!r}"]


def test_a_change_that_cannot_be_read_again_is_logged_and_the_listener_goes_on(postgres_url, caplog):
    caplog.set_level(logging.WARNING, logger="voxprint.server.events.postgres")
    job_id = str(uuid.uuid4())
    reads: list[list[uuid.UUID]] = []

    def unreadable(job_ids: list[uuid.UUID]) -> list:
        reads.append(job_ids)
        raise ConnectionError("the database went away")

    loop = asyncio.new_event_loop()
    events = JobEvents(loop)
    listener = PostgresChangeListener(postgres_url, LABEL, events, unreadable, job_to_proto)
    listener.start()
    try:
        with events.subscribe(job_id), psycopg.connect(postgres_url, autocommit=True) as anyone:
            for version in (2, 3):
                anyone.execute("SELECT pg_notify(%s, %s)", (CHANGE_CHANNEL, f"{job_id} {version}"))
                deadline = time.monotonic() + 10
                while len(reads) < version - 1 and time.monotonic() < deadline:
                    time.sleep(0.02)
    finally:
        listener.stop()
        loop.close()
    assert reads == [[uuid.UUID(job_id)]] * 2
    failures = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in failures] == ["could not re-read 1 changed job(s) for their watchers"] * 2
    assert all(r.exc_info for r in failures)


LABEL = "voxprint listener under test"


@contextmanager
def connections_refused(postgres_cluster, postgres_url) -> Iterator[psycopg.Connection]:
    """Nobody may connect to the test's database inside the block (the connections made before stay);
    yields an administrator's connection to the cluster."""
    database = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_cluster.url(), autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {database} ALLOW_CONNECTIONS false")
        try:
            yield admin
        finally:
            admin.execute(f"ALTER DATABASE {database} ALLOW_CONNECTIONS true")


def listener_warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "voxprint.server.events.postgres" and r.levelname == "WARNING"
    ]


def test_a_listener_whose_connection_is_killed_reconnects_and_catches_up_on_what_it_missed(
    postgres_url, postgres_cluster, caplog
):
    caplog.set_level(logging.INFO, logger="voxprint.server.events.postgres")
    access = DatabaseAccess(open_database(postgres_url))
    store = JobStore(access)
    job = store.create(new_job(), uuid.uuid4())
    other_replica = JobQueue(access, "other")
    claimed = other_replica.claim_next()
    loop = asyncio.new_event_loop()
    events = JobEvents(loop)
    listener = PostgresChangeListener(postgres_url, LABEL, events, store.get_many, job_to_proto)
    listener.start()

    async def watch_across_a_lost_connection() -> list[int]:
        with events.subscribe(str(job.id)) as changes:
            # The listener's connection (known by its label) is killed while nobody may connect:
            # the change committed meanwhile, on a connection the writer holds, is one no notice
            # will tell of.
            with connections_refused(postgres_cluster, postgres_url) as admin:
                [killed] = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                    (LABEL,),
                ).fetchone()
                assert killed == 1
                while admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (LABEL,)
                ).fetchone()[0]:
                    await asyncio.sleep(0.05)
                missed = other_replica.update(claimed, state=State.TRANSCRIBING.value)
                await asyncio.sleep(1.0)  # the listener tries, and fails, to get back in
            caught_up = await asyncio.wait_for(changes.get(), 15)
            other_replica.update(missed, state=State.TRANSCRIBED.value, transcript="heard")
            live_again = await asyncio.wait_for(changes.get(), 15)
            return [caught_up.version, live_again.version]

    try:
        assert loop.run_until_complete(watch_across_a_lost_connection()) == [2, 3]
    finally:
        listener.stop()
        loop.close()
        access.close()
    assert listener_warnings(caplog)[0] == "job-change listener lost PostgreSQL (OperationalError); retrying in 0.1 s"
    assert "listening for job changes again" in [r.getMessage() for r in caplog.records]


def test_a_listener_retries_with_growing_delays_while_postgres_refuses_it_then_listens(
    postgres_url, postgres_cluster, caplog, monkeypatch
):
    caplog.set_level(logging.INFO, logger="voxprint.server.events.postgres")
    monkeypatch.setattr("voxprint.server.events.postgres.RECONNECT_DELAYS", (0.1, 0.2, 0.3))
    listener = PostgresChangeListener(postgres_url, LABEL, JobEvents(asyncio.new_event_loop()), list, job_to_proto)
    with connections_refused(postgres_cluster, postgres_url):
        starting = threading.Thread(target=listener.start)
        starting.start()
        time.sleep(1.2)
    starting.join()
    try:
        delays = [message.rsplit(" ", 2)[1] for message in listener_warnings(caplog)]
        assert delays[:4] == ["0.1", "0.2", "0.3", "0.3"] and set(delays[4:]) <= {"0.3"}
        assert set(listener_warnings(caplog)) == {
            f"job-change listener lost PostgreSQL (OperationalError); retrying in {delay} s" for delay in delays
        }
        assert "listening for job changes again" in [r.getMessage() for r in caplog.records]
    finally:
        listener.stop()


def test_a_listener_that_cannot_reach_postgres_says_so_once_its_start_times_out():
    unreachable = "postgresql://postgres@127.0.0.1:1/voxprint"
    listener = PostgresChangeListener(unreachable, LABEL, JobEvents(asyncio.new_event_loop()), list, job_to_proto)
    started = time.monotonic()
    with pytest.raises(ConnectionError) as refused:
        listener.start(timeout=0.5)
    listener.stop()
    assert str(refused.value) == "could not LISTEN for job changes on PostgreSQL"
    assert time.monotonic() - started < 5


def test_the_listener_runs_on_two_daemon_threads_named_for_their_work_that_stop_ends(postgres_url):
    listener = PostgresChangeListener(postgres_url, LABEL, JobEvents(asyncio.new_event_loop()), list, job_to_proto)
    listener.start()
    ours = {thread.name: thread for thread in threading.enumerate() if thread.name.startswith("voxprint-pg-")}
    assert {name: thread.daemon for name, thread in ours.items()} == {
        "voxprint-pg-listener": True,
        "voxprint-pg-refresher": True,
    }
    listener.stop()
    assert not any(thread.is_alive() for thread in ours.values())
