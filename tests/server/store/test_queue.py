"""Specification of the work queue's finer points (``server/store/queue.py``), on SQLite and PostgreSQL:
the order of claims, lost races, releases, heartbeats and fenced writes. The store's own
specification is ``test_store.py``; the fixtures both use are in ``tests/support/store.py``."""

from __future__ import annotations

import datetime as dt
import time

import psycopg
import pytest

from tests.support.store import submit
from voxprint.server.store import DatabaseAccess, JobQueue, JobStore, LeaseLost, State, open_database
from voxprint.server.store.database import CHANGE_CHANNEL
from voxprint.server.store.models import Job


def test_claims_follow_submission_time_not_the_order_rows_were_written(access, job_store, replica):
    first, second, third = submit(job_store, 3)
    earliest = job_store.get(first).created_at - dt.timedelta(hours=1)
    with access.writing():
        Job.update(created_at=earliest).where(Job.id == third).execute()

    queue = replica("a")
    assert [queue.claim_next().id for _ in range(3)] == [third, first, second]


def test_a_finished_job_given_back_is_never_claimed_again(job_store, replica):
    submit(job_store)
    queue = replica("a")
    queue.release(queue.update(queue.claim_next(), state=State.COMPLETED.value))

    assert replica("b").claim_next() is None


def test_a_released_job_keeps_no_trace_of_its_claim_and_is_claimed_again_at_once_by_anyone(job_store, replica):
    [job_id] = submit(job_store)
    first = replica("a")
    first.release(first.claim_next())

    released = job_store.get(job_id)
    assert (released.claimed_by, released.lease_token, released.lease_expires_at) == (None, None, None)
    again = replica("b").claim_next()
    assert (again.id, again.attempt, job_store.get(job_id).claimed_by) == (job_id, 2, "b")


def test_giving_back_a_claim_already_lost_leaves_the_new_holders_claim(job_store, replica):
    [job_id] = submit(job_store)
    stale = replica("paused", lease_seconds=0.05).claim_next()
    time.sleep(0.1)
    holder = replica("alive").claim_next()

    replica("paused").release(stale)

    stored = job_store.get(job_id)
    assert (stored.claimed_by, stored.lease_token) == ("alive", holder.lease_token)


def test_claimers_count_their_claims_and_the_races_they_lost(job_store, replica, monkeypatch):
    taken_first, taken_second, free_first, free_second = submit(job_store, 4)
    quick, slow = replica("quick"), replica("slow")
    quick.claim_next(), quick.claim_next()
    # The slow claimer looked before the quick one wrote: twice, its candidate is taken by then.
    stale_looks = [Job.select(Job.id).where(Job.id == job_id) for job_id in (taken_second, taken_first)]
    look = slow._claimable
    monkeypatch.setattr(slow, "_claimable", lambda: stale_looks.pop() if stale_looks else look())

    assert [slow.claim_next().id, slow.claim_next().id] == [free_first, free_second]
    assert (slow.claims, slow.lost_races, quick.claims, quick.lost_races) == (2, 2, 2, 0)


def test_a_heartbeat_of_no_running_job_renews_nothing(replica):
    assert replica("a").heartbeat([]) == 0


def test_a_heartbeat_does_not_count_a_finished_job_it_still_holds(job_store, replica):
    submit(job_store)
    queue = replica("a")
    finished = queue.update(queue.claim_next(), state=State.COMPLETED.value)

    assert queue.heartbeat([finished]) == 0


def test_a_heartbeat_extends_the_lease_by_its_length_and_no_further(job_store, replica):
    [job_id] = submit(job_store)
    holder = replica("a", lease_seconds=1.0)
    running = holder.claim_next()
    time.sleep(0.7)
    assert holder.heartbeat([running]) == 1
    time.sleep(0.6)  # past the first lease, within the renewed one
    assert replica("b").claim_next() is None
    time.sleep(0.7)  # past the renewed lease

    assert replica("b").claim_next().id == job_id


def test_each_write_is_stamped_with_its_time(job_store, replica):
    [job_id] = submit(job_store)
    queue = replica("a")
    claimed = queue.claim_next()
    before = job_store.get(job_id).updated_at
    time.sleep(0.01)
    queue.update(claimed, state=State.TRANSCRIBING.value)

    assert job_store.get(job_id).updated_at > before


def test_a_worker_whose_job_its_own_replica_claimed_again_after_a_restart_cannot_write(job_store, replica):
    [job_id] = submit(job_store)
    before_restart = replica("a").claim_next()
    replica("a").release_own_claims()
    after_restart = replica("a").claim_next()

    with pytest.raises(LeaseLost, match=f"^job {job_id}: the claim of attempt 1 is no longer this worker's$"):
        replica("a").update(before_restart, state=State.TRANSCRIBED.value, transcript="stale")
    assert replica("a").update(after_restart, state=State.TRANSCRIBING.value).version == 2


def test_a_restart_frees_only_unfinished_claims_and_leaves_no_trace_of_them(job_store, replica):
    unfinished, finished = submit(job_store, 2)
    queue = replica("me")
    queue.claim_next()
    queue.update(queue.claim_next(), state=State.COMPLETED.value)

    assert replica("me").release_own_claims() == 1
    freed = job_store.get(unfinished)
    assert (freed.claimed_by, freed.lease_token, freed.lease_expires_at) == (None, None, None)
    assert job_store.get(finished).claimed_by == "me"


def test_every_fenced_write_announces_the_jobs_new_version_on_postgresql(postgres_url):
    access = DatabaseAccess(open_database(postgres_url))
    [job_id] = submit(JobStore(access))
    queue = JobQueue(access, "a")
    claimed = queue.claim_next()
    with psycopg.connect(postgres_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANGE_CHANNEL}")
        queue.update(claimed, state=State.TRANSCRIBING.value)
        notices = [notice.payload for notice in listener.notifies(timeout=5, stop_after=1)]
    access.close()

    assert notices == [f"{job_id} 2"]


def test_the_claim_query_is_planned_on_the_partial_index(database_url):
    if database_url.startswith("postgresql"):
        # A handful of rows would be read whole; the point is which index the query can use.
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f"ALTER DATABASE {database_url.rsplit('/', 1)[1]} SET enable_seqscan = off")
    access = DatabaseAccess(open_database(database_url))
    submit(JobStore(access), 3)

    assert "job_claimable" in JobQueue(access, "a").explain_claim()
    access.close()


def test_a_new_queue_has_made_no_claims(access):
    queue = JobQueue(access, "a", lease_seconds=12)

    assert (queue.claims, queue.lost_races, queue.lease) == (0, 0, dt.timedelta(seconds=12))
