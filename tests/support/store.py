"""The job store and the work queue on each engine, for the store's specifications
(``tests/server/store/``) and the event bus's: SQLite in the test's temp dir and a fresh database
on the suite's PostgreSQL cluster."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from voxprint.server.store import DEFAULT_TENANT, DatabaseAccess, JobQueue, JobStore, NewJob, open_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def access(database_url) -> Iterator[DatabaseAccess]:
    access = DatabaseAccess(open_database(database_url))
    yield access
    access.close()


@pytest.fixture
def job_store(access) -> JobStore:
    return JobStore(access)


@pytest.fixture
def replica(access) -> Callable[..., JobQueue]:
    """``replica(name, lease_seconds=30)``: the work queue as one replica sees it."""

    def queue(name: str, lease_seconds: float = 30) -> JobQueue:
        return JobQueue(access, name, lease_seconds)

    return queue


def new_job(request_id: str | None = None, tenant: str = DEFAULT_TENANT) -> NewJob:
    return NewJob(
        tenant=tenant,
        request_id=request_id,
        filename="a.wav",
        content_type="audio/wav",
        audio_path="audio/a.wav",
        audio_size=10,
        audio_duration=1.0,
        width=384,
        dither="floyd-steinberg",
    )


def submit(job_store: JobStore, count: int = 1) -> list[uuid.UUID]:
    """``count`` new jobs, oldest first; their ids."""
    return [job_store.create(new_job(), uuid.uuid4()).id for _ in range(count)]
