"""Jobs as clients see them: created by Submit, read by GetJob, ListJobs, Watch and Fetch.

Every read a client makes names its tenant: a job of another tenant is simply not there.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass

import peewee

from voxprint.server.store.database import DatabaseAccess
from voxprint.server.store.models import DEFAULT_TENANT, UNFINISHED, Job, RasterData, State


@dataclass(frozen=True)
class NewJob:
    request_id: str | None
    filename: str
    content_type: str
    audio_path: str
    audio_size: int
    audio_duration: float
    width: int
    dither: str
    tenant: str = DEFAULT_TENANT
    # A drawn phrase starts with its transcript, already TRANSCRIBED, and no transcriber.
    transcript: str | None = None
    state: str = State.PENDING.value
    transcriber: str = ""


class DuplicateRequest(Exception):
    """A job with this request id already exists for this tenant: ``job``."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"request id {job.request_id!r} already made job {job.id}")
        self.job = job


class JobStore:
    def __init__(self, access: DatabaseAccess) -> None:
        self.access = access

    def create(self, new: NewJob, job_id: uuid.UUID) -> Job:
        try:
            with self.access.writing():
                return Job.create(id=job_id, **asdict(new))
        except peewee.IntegrityError as error:
            if new.request_id and (existing := self.by_request_id(new.tenant, new.request_id)):
                raise DuplicateRequest(existing) from error
            raise

    def delete(self, job_id: uuid.UUID) -> None:
        """Remove a job (an upload its client gave up on); a worker holding it finds its claim lost."""
        with self.access.writing():
            Job.delete_by_id(job_id)

    def get(self, job_id: uuid.UUID, *, tenant: str | None = None) -> Job | None:
        """The job, if it exists and belongs to ``tenant`` (None: whoever owns it, for the server itself)."""
        query = Job.select().where(Job.id == job_id)
        if tenant is not None:
            query = query.where(Job.tenant == tenant)
        with self.access.reading():
            return query.first()

    def get_many(self, job_ids: list[uuid.UUID]) -> list[Job]:
        """The jobs among ``job_ids`` that exist, in one query (whatever their tenant)."""
        with self.access.reading():
            return list(Job.select().where(Job.id.in_(job_ids)))

    def by_request_id(self, tenant: str, request_id: str) -> Job | None:
        with self.access.reading():
            return Job.get_or_none(Job.tenant == tenant, Job.request_id == request_id)

    def raster_of(self, job_id: uuid.UUID) -> bytes | None:
        with self.access.reading():
            row = RasterData.get_or_none(RasterData.job == job_id)
        return bytes(row.data) if row else None

    def page(
        self,
        tenant: str,
        *,
        limit: int,
        before: tuple[dt.datetime, uuid.UUID] | None = None,
        state: State | None = None,
    ) -> list[Job]:
        """The tenant's jobs newest first; ``before`` is the (created_at, id) of the previous page's last job."""
        query = Job.select().where(Job.tenant == tenant)
        if state is not None:
            query = query.where(Job.state == state.value)
        if before is not None:
            created, last_id = before
            query = query.where((Job.created_at < created) | ((Job.created_at == created) & (Job.id < last_id)))
        with self.access.reading():
            return list(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit))

    def count_queued(self) -> int:
        """Unfinished jobs no worker holds (nobody claimed them, or the claim expired)."""
        waiting = (Job.claimed_by.is_null()) | (Job.lease_expires_at < self.access.clock())
        with self.access.reading():
            return Job.select().where(UNFINISHED, waiting).count()

    def count_unfinished(self) -> int:
        with self.access.reading():
            return Job.select().where(UNFINISHED).count()
