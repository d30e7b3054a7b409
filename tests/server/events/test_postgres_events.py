"""Job changes committed on PostgreSQL reach this replica's watchers through LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import uuid

import psycopg

from tests.server.store.test_store import new_job
from voxprint.server.events import JobEvents
from voxprint.server.events.postgres import PostgresChangeListener
from voxprint.server.messages import job_to_proto
from voxprint.server.store import DatabaseAccess, JobQueue, JobStore, State, open_database
from voxprint.server.store.database import CHANGE_CHANNEL


def test_a_malformed_notice_is_skipped_and_later_changes_still_arrive(postgres_url):
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
                anyone.execute(f"NOTIFY {CHANGE_CHANNEL}, 'not a job change'")
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
