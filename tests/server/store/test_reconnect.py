"""Database access across a PostgreSQL restart (a fast shutdown, then start): every access gets a fresh
connection once the server is back (the pool drops the ones the restart broke); the workers'
patient access waits for the server while it is down and writes once, the requests' access fails at
once so its client hears UNAVAILABLE."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import peewee
import pytest

from tests.support.outages import RestartablePostgres
from tests.support.store import new_job
from voxprint.server.store import DatabaseAccess, JobStore, open_database

pytestmark = pytest.mark.slow

DOWN_SECONDS = 2.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[RestartablePostgres]:
    with RestartablePostgres() as cluster:
        yield cluster


@pytest.fixture
def access(cluster: RestartablePostgres) -> Iterator[DatabaseAccess]:
    if not cluster.running:  # a test that failed half-way
        cluster.start()
    access = DatabaseAccess(open_database(cluster.new_database()))
    yield access
    access.close()


def restarted_in_the_background(cluster: RestartablePostgres) -> threading.Thread:
    """Shut the cluster down now; a thread starts it again DOWN_SECONDS later."""
    cluster.shut_down()

    def start_later() -> None:
        time.sleep(DOWN_SECONDS)
        cluster.start()

    starter = threading.Thread(target=start_later)
    starter.start()
    return starter


def test_a_write_after_a_restart_gets_a_fresh_connection_instead_of_a_broken_one(access, cluster):
    store = JobStore(access)
    store.create(new_job(), uuid.uuid4())  # leaves a pooled connection, which the restart breaks
    with cluster.down():
        pass

    store.create(new_job(), uuid.uuid4())

    assert store.count_unfinished() == 2


def test_a_patient_write_waits_for_a_restarting_database_and_is_written_once(access, cluster):
    store = JobStore(access.patient(seconds=30))
    starter = restarted_in_the_background(cluster)
    started = time.monotonic()

    store.create(new_job(), uuid.uuid4())

    starter.join()
    assert time.monotonic() - started >= DOWN_SECONDS
    assert store.count_unfinished() == 1


def test_a_write_without_patience_fails_at_once_while_the_database_is_down(access, cluster):
    starter = restarted_in_the_background(cluster)
    started = time.monotonic()

    with pytest.raises(peewee.OperationalError):
        JobStore(access).create(new_job(), uuid.uuid4())

    assert time.monotonic() - started < DOWN_SECONDS / 2
    starter.join()


def test_a_patient_write_gives_up_after_its_patience(access, cluster):
    starter = restarted_in_the_background(cluster)

    with pytest.raises(peewee.OperationalError):
        JobStore(access.patient(seconds=0.5)).create(new_job(), uuid.uuid4())

    starter.join()
