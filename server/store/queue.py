"""The work queue is the job table: claims with leases, heartbeats, fenced writes, takeover.

A replica's worker *claims* the oldest unfinished job that nobody holds, or whose holder's lease
has run out, by writing its replica id, a fresh lease token and an expiry into the row. On
PostgreSQL the candidate row is picked with ``SELECT … FOR UPDATE SKIP LOCKED``, so concurrent
claimers never wait on or race for the same row; SQLite serves one replica and serialises its
writers instead. A heartbeat renews the leases of the jobs this replica's workers are running,
every ``lease/3`` seconds, and only those: a claim no worker runs any more (its release failed on a
full disk or a lost database) expires like a dead replica's, and any replica takes the job over.

Every write a worker makes is *fenced*: ``WHERE claimed_by = me AND lease_token = t``. A worker
that lost its lease (paused past the expiry, partitioned away) finds its write refused with
:class:`LeaseLost` and stops, so it can never overwrite the result of the replica that took over.

Lease times come from the database's clock (``DatabaseAccess.clock``), one clock for every
replica: a replica whose own clock is off neither steals live jobs nor leaves dead ones.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from typing import Any

import peewee

from voxprint.server.store.database import DatabaseAccess, announce_change
from voxprint.server.store.models import UNFINISHED, Job, RasterData, utcnow

DEFAULT_LEASE_SECONDS = 30.0


class LeaseLost(Exception):
    """This worker's claim on the job expired and another worker may hold it now."""


class JobQueue:
    def __init__(self, access: DatabaseAccess, owner: str, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        self.access = access
        self.owner = owner
        self.lease = dt.timedelta(seconds=lease_seconds)
        # Claims made, and claims that found their candidate taken by another claimer between
        # look and write (never on PostgreSQL, where SKIP LOCKED hides rows being claimed).
        self.claims = 0
        self.lost_races = 0

    def claim_next(self) -> Job | None:
        """Claim the oldest claimable job for this replica; None when there is none."""
        while True:
            with self.access.writing():
                candidate = self._claimable().first()
                if candidate is None:
                    return None
                token = uuid.uuid4().hex
                taken = (
                    Job.update(
                        claimed_by=self.owner,
                        lease_token=token,
                        lease_expires_at=self._expiry(),
                        attempt=Job.attempt + 1,
                    )
                    .where(Job.id == candidate.id, self._free())
                    .execute()
                )
                if taken:
                    self.claims += 1
                    return Job.get_by_id(candidate.id)
            self.lost_races += 1

    def _free(self) -> peewee.Expression:
        """Nobody holds the job, or the holder's lease has run out."""
        return (Job.claimed_by.is_null()) | (Job.lease_expires_at < self.access.clock())

    def _expiry(self) -> peewee.Node:
        return self.access.clock(self.lease.total_seconds())

    def _claimable(self) -> peewee.ModelSelect[Job]:
        query = Job.select(Job.id).where(UNFINISHED, self._free()).order_by(Job.created_at).limit(1)
        return query.for_update(skip_locked=True) if self.access.postgres else query

    def explain_claim(self) -> str:
        """The database's plan for the claim query, to show it is served by the partial index."""
        sql, params = self._claimable().sql()
        explain = "EXPLAIN" if self.access.postgres else "EXPLAIN QUERY PLAN"
        with self.access.reading():
            rows = self.access.db.execute_sql(f"{explain} {sql}", params).fetchall()
        # PostgreSQL answers one text column a line; SQLite's plan text is the last column.
        return "\n".join(str(row[-1]) for row in rows)

    def heartbeat(self, running: Collection[Job]) -> int:
        """Renew the leases of the ``running`` jobs (those this replica's workers are carrying out);
        returns how many it still holds. Any other claim of this replica is left to expire."""
        tokens = [job.lease_token for job in running if job.lease_token]
        if not tokens:
            return 0
        with self.access.writing():
            return (
                Job.update(lease_expires_at=self._expiry())
                .where(Job.claimed_by == self.owner, Job.lease_token.in_(tokens), UNFINISHED)
                .execute()
            )

    def update(self, job: Job, **changes: Any) -> Job:
        """Write ``changes`` to a job this worker holds and bump its version; returns it as stored."""
        return self._fenced_write(job, None, changes)

    def complete_with_raster(self, job: Job, raster: bytes, **changes: Any) -> Job:
        """Store the raster and the job's final changes in one transaction, fenced like ``update``."""
        return self._fenced_write(job, raster, changes)

    def _fenced_write(self, job: Job, raster: bytes | None, changes: dict[str, Any]) -> Job:
        with self.access.writing():
            # Stamped once the write turn is ours, so updated_at is the moment of the write.
            changes.update(version=job.version + 1, updated_at=utcnow())
            written = (
                Job.update(**changes)
                .where(Job.id == job.id, Job.claimed_by == self.owner, Job.lease_token == job.lease_token)
                .execute()
            )
            if written != 1:
                raise LeaseLost(f"job {job.id}: the claim of attempt {job.attempt} is no longer this worker's")
            if raster is not None:
                RasterData.insert(job=job.id, data=raster).execute()
            announce_change(self.access.db, job.id, changes["version"])
        for name, value in changes.items():
            setattr(job, name, value)
        return job

    def release(self, job: Job) -> None:
        """Give the job back (finished, or given up); does nothing if the claim was already lost."""
        with self.access.writing():
            Job.update(claimed_by=None, lease_token=None, lease_expires_at=None).where(
                Job.id == job.id, Job.lease_token == job.lease_token
            ).execute()

    def release_own_claims(self) -> int:
        """Free the claims a previous run of this replica left behind; returns how many.

        A replica keeps its id across restarts (it lives in its data dir), so after a crash it
        resumes its own interrupted jobs at once instead of waiting for their leases to expire.
        Claims held by other replicas are never touched.
        """
        with self.access.writing():
            return (
                Job.update(claimed_by=None, lease_token=None, lease_expires_at=None)
                .where(Job.claimed_by == self.owner, UNFINISHED)
                .execute()
            )
