"""Specification of a full database disk: every write path says so, as StoreFull, with its real cause."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.disks import fill_disk
from tests.support.store import new_job
from voxprint.server.store import DatabaseAccess, JobQueue, JobStore, StoreFull, open_database


@pytest.fixture
def access_on_a_small_disk(small_tmpfs: Callable[[str], Path]) -> Iterator[DatabaseAccess]:
    access = DatabaseAccess(open_database(f"sqlite:///{small_tmpfs('4m') / 'jobs.db'}"))
    yield access
    access.close()


@pytest.mark.parametrize("write", ["submit", "stage", "release", "probe"])
def test_a_write_on_a_full_disk_is_store_full_and_works_again_once_there_is_room(access_on_a_small_disk, write):
    access = access_on_a_small_disk
    store, queue = JobStore(access), JobQueue(access, "a")
    store.create(new_job(), uuid.uuid4())
    claimed = queue.claim_next()
    assert claimed is not None
    writes: dict[str, Callable[[], object]] = {
        "submit": lambda: store.create(new_job(), uuid.uuid4()),
        "stage": lambda: queue.update(claimed, transcript="x" * 100_000),
        "release": lambda: queue.release(claimed),
        "probe": access.probe_write,
    }
    free_again = fill_disk(Path(access.db.database).parent)

    with pytest.raises(StoreFull, match="no space left"):
        writes[write]()

    free_again()
    writes[write]()
