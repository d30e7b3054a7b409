"""Specification of the in-replica event hub: each watcher of a job gets every newer version of it
once, in order, from publishers on any thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from voxprint.server.events import JobEvents
from voxprint.v1 import voxprint_pb2 as pb

JOB, OTHER = "job-1", "job-2"


def version(number: int, job_id: str = JOB) -> pb.Job:
    return pb.Job(id=job_id, version=number)


@pytest.fixture
async def hub() -> JobEvents:
    return JobEvents(asyncio.get_running_loop())


async def settled() -> None:
    """Let the loop run what publishers handed it (publish hands over with call_soon_threadsafe)."""
    for _ in range(3):
        await asyncio.sleep(0)


def drained(queue: asyncio.Queue[pb.Job]) -> list[int]:
    versions = []
    while not queue.empty():
        versions.append(queue.get_nowait().version)
    return versions


async def test_a_watcher_gets_each_new_version_once_in_order(hub):
    with hub.subscribe(JOB) as changes:
        for number in (1, 2, 3):
            hub.publish(version(number))
        await settled()

        assert drained(changes) == [1, 2, 3]


async def test_a_version_delivered_already_or_older_is_not_delivered_again(hub):
    with hub.subscribe(JOB) as changes:
        hub.publish(version(3))
        hub.publish(version(3))
        hub.publish(version(2))
        await settled()

        assert drained(changes) == [3]


async def test_every_watcher_of_the_job_gets_it_and_watchers_of_other_jobs_do_not(hub):
    with hub.subscribe(JOB) as first, hub.subscribe(JOB) as second, hub.subscribe(OTHER) as other:
        hub.publish(version(2))
        await settled()

        assert (drained(first), drained(second), drained(other)) == ([2], [2], [])


async def test_a_change_nobody_watches_is_not_kept(hub):
    hub.publish(version(2))
    await settled()

    with hub.subscribe(JOB) as changes:
        await settled()
        assert drained(changes) == [] and hub.delivered_version(JOB) == 0


async def test_the_newest_delivered_version_is_known_while_the_job_is_watched(hub):
    with hub.subscribe(JOB):
        assert hub.delivered_version(JOB) == 0
        hub.publish(version(4))
        await settled()

        assert hub.delivered_version(JOB) == 4


async def test_a_job_is_watched_until_its_last_watcher_leaves(hub):
    with hub.subscribe(JOB):
        with hub.subscribe(JOB):
            assert hub.is_watched(JOB) and hub.watched_jobs() == [JOB]
        assert hub.is_watched(JOB)
    assert not hub.is_watched(JOB) and hub.watched_jobs() == []


async def test_a_watcher_that_left_gets_nothing_more(hub):
    with hub.subscribe(JOB) as left, hub.subscribe(JOB):
        with hub.subscribe(JOB) as leaving:
            pass
        hub.publish(version(2))
        await settled()

        assert drained(leaving) == [] and drained(left) == [2]


async def test_once_nobody_watches_a_job_its_versions_are_forgotten(hub):
    with hub.subscribe(JOB):
        hub.publish(version(2))
        await settled()

    with hub.subscribe(JOB) as again:
        assert hub.delivered_version(JOB) == 0
        hub.publish(version(2))
        await settled()
        assert drained(again) == [2]


async def test_a_version_published_from_another_thread_arrives(hub):
    with hub.subscribe(JOB) as changes:
        worker = threading.Thread(target=hub.publish, args=(version(2),))
        worker.start()
        worker.join()

        assert (await asyncio.wait_for(changes.get(), 5)).version == 2
